import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeForm, GatewayClient, responseKeyFor, type GatewayCallOptions, type GatewayResponse } from './helpers/gateway-client.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

/**
 * The gateway's bad-input contract: every client mistake gets HTTP 200, a signed *_response body with
 * the exact code and sub_code, and changes nothing. Each refusal is checked against row counts of the
 * tables a request could write, taken just before and just after it.
 */

let t: TestInstance;
let demo: GatewayClient;
let demoMerchantId: string;

const create = 'tongbao.trade.create';
const createKey = responseKeyFor(create);
const watchedTables = ['trades', 'refunds', 'pay_attempts', 'journal_entries', 'notifications', 'events'] as const;

beforeAll(async () => {
  t = await startTestInstance();
  demo = new GatewayClient(t.url, { appId: t.demo.app_id, signType: 'RSA2', privateKey: t.demo.app_private_key }, t.demo.platform_public_key);
  demoMerchantId = (await t.admin('GET', `/apps/${t.demo.app_id}`)).body.merchant_id;
});
afterAll(async () => { await t?.stop(); });

function orderNumber(): string {
  return `bad-${randomUUID().slice(0, 18)}`;
}

/** A create request that would succeed, so a refusal is due to the one thing a test breaks. */
function validBiz(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { out_trade_no: orderNumber(), total_amount: '10.00', subject: 'bad input', ...overrides };
}

async function countRows(): Promise<Record<string, number>> {
  const columns = watchedTables.map((table) => `(select count(*)::int from ${table}) as ${table}`).join(', ');
  const [row] = await t.query(`select ${columns}`);
  return row!;
}

interface Expected {
  code: string;
  sub_code: string;
  /** The response key; by default the method's. */
  key?: string;
}

/** Sends, then asserts HTTP 200, the codes, a valid platform signature, and that no watched row appeared. */
async function expectRefused(send: () => Promise<GatewayResponse>, expected: Expected): Promise<GatewayResponse> {
  const before = await countRows();
  const response = await send();
  expect(response.status, response.text).toBe(200);
  expect(response.body, response.text).toMatchObject({ code: expected.code, sub_code: expected.sub_code });
  expect(typeof response.body.msg).toBe('string');
  expect(typeof response.body.sub_msg).toBe('string');
  expect(response.key).toBe(expected.key ?? createKey);
  expect(response.signatureValid, response.text).toBe(true);
  expect(await countRows()).toEqual(before);
  return response;
}

function refuseCreate(options: GatewayCallOptions, expected: Expected, client = demo): Promise<GatewayResponse> {
  return expectRefused(() => client.call(create, { biz: validBiz(), ...options }), expected);
}

function expectSuccess(response: GatewayResponse, key = createKey): void {
  expect(response.status).toBe(200);
  expect(response.body, response.text).toMatchObject({ code: '10000', msg: 'Success' });
  expect(response.key).toBe(key);
  expect(response.signatureValid, response.text).toBe(true);
}

async function createApp(body: Record<string, unknown>): Promise<Record<string, any>> {
  const created = await t.admin('POST', '/apps', { merchant_id: demoMerchantId, name: `app ${randomUUID().slice(0, 8)}`, ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

function rsaClient(app: Record<string, any>): GatewayClient {
  return demo.as({ appId: app.app_id, signType: 'RSA2', privateKey: app.app_private_key });
}

const minutes = (count: number) => new Date(Date.now() + count * 60_000);

describe('correct requests (the control group)', () => {
  it('accepts a request split like alipay-sdk does and one with everything in the body', async () => {
    for (const placement of ['split', 'body'] as const) {
      const biz = validBiz();
      const response = await demo.call(create, { biz, placement });
      expectSuccess(response);
      expect(response.body).toMatchObject({ out_trade_no: biz.out_trade_no, total_amount: '10.00', trade_status: 'WAIT_BUYER_PAY' });
    }
  });
});

describe('charset and encoding', () => {
  it('refuses charset=GBK in the parameters', async () => {
    await refuseCreate({ params: { charset: 'GBK' } }, { code: '40002', sub_code: 'isv.invalid-charset' });
  });

  it('refuses a GBK charset declared in the Content-Type header', async () => {
    await refuseCreate({ contentType: 'application/x-www-form-urlencoded; charset=GBK' }, { code: '40002', sub_code: 'isv.invalid-charset' });
  });

  it('refuses broken percent-encoding in the body and in the query string', async () => {
    const params = demo.sign(create, { biz: validBiz() });
    const { biz_content: bizContent, ...common } = params;
    await expectRefused(() => demo.send({ query: encodeForm(Object.entries(common)), body: `biz_content=${encodeURIComponent(bizContent!)}&subject=%E4%B` }),
      { code: '40002', sub_code: 'isv.invalid-encoding' });
    // An unreadable query string makes its method unusable too, so the answer is error_response.
    await expectRefused(() => demo.send({ query: `${encodeForm(Object.entries(common))}&x=%ZZ`, body: encodeForm([['biz_content', bizContent!]]) }),
      { code: '40002', sub_code: 'isv.invalid-encoding', key: 'error_response' });
  });

  it('refuses percent-encoded bytes that are not UTF-8', async () => {
    const { biz_content: bizContent, ...common } = demo.sign(create, { biz: validBiz() });
    await expectRefused(() => demo.send({ query: encodeForm(Object.entries(common)), body: `biz_content=${encodeURIComponent(bizContent!)}&x=%C3%28` }),
      { code: '40002', sub_code: 'isv.invalid-encoding' });
    // "中文" in GBK: what a client that ignores charset would send.
    await expectRefused(() => demo.send({ query: encodeForm(Object.entries(common)), body: `biz_content=${encodeURIComponent(bizContent!)}&x=%D6%D0%CE%C4` }),
      { code: '40002', sub_code: 'isv.invalid-encoding' });
  });

  it('refuses raw bytes in the body that are not UTF-8', async () => {
    const { biz_content: bizContent, ...common } = demo.sign(create, { biz: validBiz() });
    const body = Buffer.concat([Buffer.from(`biz_content=${encodeURIComponent(bizContent!)}&x=`), Buffer.from([0xd6, 0xd0, 0xff])]);
    await expectRefused(() => demo.send({ query: encodeForm(Object.entries(common)), body }), { code: '40002', sub_code: 'isv.invalid-encoding', key: 'error_response' });
  });

  it('refuses a JSON body', async () => {
    const params = demo.sign(create, { biz: validBiz() });
    await expectRefused(() => demo.send({ body: JSON.stringify(params), contentType: 'application/json' }), { code: '40002', sub_code: 'isv.invalid-encoding', key: 'error_response' });
    const { biz_content: bizContent, ...common } = params;
    await expectRefused(() => demo.send({ query: encodeForm(Object.entries(common)), body: JSON.stringify({ biz_content: bizContent }), contentType: 'application/json' }),
      { code: '40002', sub_code: 'isv.invalid-encoding' });
  });

  it('answers an oversized body (over 64 KB) with HTTP 200 and an error body', async () => {
    await refuseCreate({ biz: validBiz({ body: 'x'.repeat(70 * 1024) }) }, { code: '40002', sub_code: 'isv.invalid-encoding', key: 'error_response' });
  });
});

describe('common parameters', () => {
  it.each([
    ['app_id', 'isv.missing-app-id'],
    ['method', 'isv.missing-method'],
    ['sign_type', 'isv.missing-signature-type'],
    ['sign', 'isv.missing-signature'],
    ['timestamp', 'isv.missing-timestamp'],
    ['version', 'isv.missing-version'],
  ])('refuses a request without %s', async (name, subCode) => {
    const key = name === 'method' ? 'error_response' : createKey;
    await refuseCreate({ params: { [name]: undefined } }, { code: '40001', sub_code: subCode, key });
    await refuseCreate({ params: { [name]: '' }, placement: 'body' }, { code: '40001', sub_code: subCode, key });
  });

  it('refuses a version other than 1.0', async () => {
    for (const version of ['2.0', '1', '1.0 ']) {
      await refuseCreate({ params: { version } }, { code: '40002', sub_code: 'isv.invalid-version' });
    }
  });

  it('refuses a format other than JSON', async () => {
    await refuseCreate({ params: { format: 'XML' } }, { code: '40002', sub_code: 'isv.invalid-format' });
  });

  it('refuses unknown sign types and RSA (SHA1withRSA, not supported)', async () => {
    for (const signType of ['MD5', 'RSA', 'rsa2']) {
      await refuseCreate({ params: { sign_type: signType } }, { code: '40002', sub_code: 'isv.invalid-signature-type' });
    }
  });

  it('refuses timestamps that are not yyyy-MM-dd HH:mm:ss', async () => {
    for (const timestamp of ['2026/01/02 10:00:00', '2026-01-02T10:00:00', '2026-02-30 10:00:00', '2026-01-02 24:00:00', String(Date.now())]) {
      await refuseCreate({ params: { timestamp } }, { code: '40002', sub_code: 'isv.invalid-timestamp' });
    }
  });

  it.each([['&'], ['='], [' '], ['\n']])('refuses %j inside app_id, method and out_trade_no', async (character) => {
    await refuseCreate({ params: { app_id: `${t.demo.app_id.slice(0, 8)}${character}1` } }, { code: '40002', sub_code: 'isv.invalid-characters' });
    await expectRefused(() => demo.call(`tongbao.trade${character}create`, { biz: validBiz() }), { code: '40002', sub_code: 'isv.invalid-characters', key: 'error_response' });
    await refuseCreate({ biz: validBiz({ out_trade_no: `a${character}b` }) }, { code: '40002', sub_code: 'isv.invalid-characters' });
  });

  it('refuses common parameters inside biz_content', async () => {
    for (const name of ['app_id', 'sign', 'method', 'sign_type', 'timestamp', 'biz_content']) {
      await refuseCreate({ biz: validBiz({ [name]: 'x' }) }, { code: '40002', sub_code: 'isv.reserved-key-in-biz-content' });
    }
  });

  it('refuses a notify_url that is not an http(s) URL', async () => {
    for (const notifyUrl of ['ftp://example.com/notify', 'example.com/notify', 'http://']) {
      await refuseCreate({ params: { notify_url: notifyUrl } }, { code: '40002', sub_code: 'isv.invalid-notify-url' });
    }
  });

  it('refuses a parameter sent twice, in the query and body or twice in the body', async () => {
    await refuseCreate({ extraPairs: [['app_id', t.demo.app_id]] }, { code: '40002', sub_code: 'isv.duplicate-parameter' });
    await refuseCreate({ placement: 'body', extraPairs: [['biz_content', JSON.stringify(validBiz({ total_amount: '1000.00' }))]] },
      { code: '40002', sub_code: 'isv.duplicate-parameter' });
  });

  it('refuses a key repeated inside biz_content', async () => {
    const biz = `{"out_trade_no":"${orderNumber()}","total_amount":"1.00","subject":"dup","total_amount":"1000.00"}`;
    await refuseCreate({ biz }, { code: '40002', sub_code: 'isv.duplicate-parameter' });
    const escaped = `{"out_trade_no":"${orderNumber()}","total_amount":"1.00","subject":"dup","total\\u005famount":"1000.00"}`;
    await refuseCreate({ biz: escaped }, { code: '40002', sub_code: 'isv.duplicate-parameter' });
  });
});

describe('timestamp window', () => {
  it('refuses a timestamp 6 minutes stale or 6 minutes in the future', async () => {
    await refuseCreate({ timestamp: minutes(-6) }, { code: '40002', sub_code: 'isv.timestamp-out-of-window' });
    await refuseCreate({ timestamp: minutes(6) }, { code: '40002', sub_code: 'isv.timestamp-out-of-window' });
  });

  it('accepts a timestamp 4 minutes off either way', async () => {
    expectSuccess(await demo.call(create, { biz: validBiz(), timestamp: minutes(-4) }));
    expectSuccess(await demo.call(create, { biz: validBiz(), timestamp: minutes(4) }));
  });
});

describe('app, merchant and permissions', () => {
  const queryMethod = 'tongbao.trade.query';
  const queryKey = responseKeyFor(queryMethod);

  it('refuses an unknown app_id', async () => {
    await refuseCreate({ params: { app_id: '2026999999999999' } }, { code: '40002', sub_code: 'isv.invalid-app-id' });
  });

  it('refuses a frozen app and a frozen merchant, and serves them again once unfrozen', async () => {
    const merchant = await t.admin('POST', '/merchants', { name: 'to be frozen' });
    const app = await t.admin('POST', '/apps', { merchant_id: merchant.body.merchant_id, name: 'to be frozen' });
    const client = rsaClient(app.body);
    const probe = () => client.call(queryMethod, { biz: { out_trade_no: 'no-such-order' } });

    expect((await t.admin('POST', `/apps/${app.body.app_id}/freeze`)).body.status).toBe('FROZEN');
    await expectRefused(probe, { code: '40006', sub_code: 'isv.app-frozen', key: queryKey });
    await refuseCreate({}, { code: '40006', sub_code: 'isv.app-frozen' }, client);
    expect((await t.admin('POST', `/apps/${app.body.app_id}/unfreeze`)).body.status).toBe('NORMAL');

    expect((await t.admin('POST', `/merchants/${merchant.body.merchant_id}/freeze`)).body.status).toBe('FROZEN');
    await expectRefused(probe, { code: '40006', sub_code: 'isv.merchant-frozen', key: queryKey });
    await refuseCreate({}, { code: '40006', sub_code: 'isv.merchant-frozen' }, client);
    expect((await t.admin('POST', `/merchants/${merchant.body.merchant_id}/unfreeze`)).body.status).toBe('NORMAL');

    // Past every gate again: the order lookup itself answers.
    await expectRefused(probe, { code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST', key: queryKey });
  });

  it('refuses an unknown method', async () => {
    await expectRefused(() => demo.call('tongbao.trade.teleport', { biz: validBiz() }),
      { code: '40002', sub_code: 'isv.invalid-method', key: 'tongbao_trade_teleport_response' });
  });

  it('refuses a method the app is not permitted to call', async () => {
    const client = rsaClient(await createApp({ allowed_methods: [queryMethod] }));
    await refuseCreate({}, { code: '40006', sub_code: 'isv.method-not-permitted' }, client);
    await expectRefused(() => client.call(queryMethod, { biz: { out_trade_no: 'no-such-order' } }), { code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST', key: queryKey });
  });

  it('refuses a caller IP outside the allowlist, whatever X-Forwarded-For says', async () => {
    const client = rsaClient(await createApp({ ip_allowlist: ['10.1.2.3/32'] }));
    await refuseCreate({}, { code: '40006', sub_code: 'isv.ip-not-allowed' }, client);
    await refuseCreate({ headers: { 'x-forwarded-for': '10.1.2.3' } }, { code: '40006', sub_code: 'isv.ip-not-allowed' }, client);
  });
});

describe('signatures', () => {
  let hmacApp: Record<string, any>;
  let otherApp: Record<string, any>;
  beforeAll(async () => {
    [hmacApp, otherApp] = await Promise.all([createApp({ sign_type: 'HMAC-SHA256' }), createApp({})]);
    expect(typeof hmacApp.app_secret).toBe('string');
  });

  it('refuses biz_content changed after signing', async () => {
    await refuseCreate({ tamper: { biz_content: JSON.stringify(validBiz({ total_amount: '0.01' })) } }, { code: '40002', sub_code: 'isv.invalid-signature' });
  });

  it('refuses a signature that is not base64 of an RSA signature', async () => {
    await refuseCreate({ params: { sign: 'not-a-signature' } }, { code: '40002', sub_code: 'isv.invalid-signature' });
  });

  it("refuses a request signed with another app's private key", async () => {
    await refuseCreate({ signWith: { appId: otherApp.app_id, signType: 'RSA2', privateKey: otherApp.app_private_key } }, { code: '40002', sub_code: 'isv.invalid-signature' });
  });

  it('refuses an RSA2 request for an HMAC-SHA256 app, and the other way round', async () => {
    const asHmacApp = demo.as({ appId: hmacApp.app_id, signType: 'RSA2', privateKey: t.demo.app_private_key });
    await refuseCreate({}, { code: '40002', sub_code: 'isv.signature-type-mismatch' }, asHmacApp);
    await refuseCreate({ signWith: { appId: t.demo.app_id, signType: 'HMAC-SHA256', secret: hmacApp.app_secret } }, { code: '40002', sub_code: 'isv.signature-type-mismatch' });
  });

  it('serves an HMAC-SHA256 app signing with its secret and refuses a wrong secret', async () => {
    const client = demo.as({ appId: hmacApp.app_id, signType: 'HMAC-SHA256', secret: hmacApp.app_secret });
    const biz = validBiz();
    const response = await client.call(create, { biz });
    expectSuccess(response);
    expect(response.body.out_trade_no).toBe(biz.out_trade_no);
    await refuseCreate({}, { code: '40002', sub_code: 'isv.invalid-signature' }, demo.as({ appId: hmacApp.app_id, signType: 'HMAC-SHA256', secret: `${hmacApp.app_secret}x` }));
  });
});

describe('biz_content', () => {
  it('refuses biz_content that is not JSON', async () => {
    for (const biz of ['{"out_trade_no":', "{'out_trade_no':'x'}", 'out_trade_no=x']) {
      await refuseCreate({ biz }, { code: '40002', sub_code: 'isv.invalid-biz-content' });
    }
  });

  it('refuses biz_content that is JSON but not an object', async () => {
    for (const biz of ['[]', `[${JSON.stringify(validBiz())}]`, '"text"', '42', 'null', 'true']) {
      await refuseCreate({ biz }, { code: '40002', sub_code: 'isv.invalid-biz-content' });
    }
  });

  it('refuses biz_content nested absurdly deep (a client error, not a server failure)', async () => {
    // Brackets go unencoded (the form decoder leaves them as they are) so 25,000 levels fit in 64 KB.
    const depth = 25_000;
    const params = demo.sign(create, { biz: `{"goods_detail":${'['.repeat(depth)}${']'.repeat(depth)}}` });
    const body = encodeForm(Object.entries(params)).replace(/%5B/g, '[').replace(/%5D/g, ']');
    await expectRefused(() => demo.send({ body }), { code: '40002', sub_code: 'isv.invalid-biz-content' });
  });

  it('refuses missing required fields', async () => {
    await refuseCreate({ biz: validBiz({ subject: undefined }) }, { code: '40001', sub_code: 'isv.missing-parameter' });
    await refuseCreate({ biz: validBiz({ total_amount: undefined }) }, { code: '40001', sub_code: 'isv.missing-parameter' });
    await refuseCreate({ biz: validBiz({ out_trade_no: undefined }) }, { code: '40001', sub_code: 'isv.missing-parameter' });
    await refuseCreate({ biz: {} }, { code: '40001', sub_code: 'isv.missing-parameter' });
  });

  it('refuses a field the method does not take', async () => {
    await refuseCreate({ biz: validBiz({ discount_amount: '1.00' }) }, { code: '40002', sub_code: 'isv.unknown-parameter' });
  });

  it('refuses a field of the wrong type', async () => {
    await refuseCreate({ biz: validBiz({ subject: 42 }) }, { code: '40002', sub_code: 'isv.invalid-parameter' });
    await refuseCreate({ biz: validBiz({ out_trade_no: '' }) }, { code: '40002', sub_code: 'isv.invalid-parameter' });
  });
});

describe('amounts and currencies', () => {
  it.each([
    ['negative', '-1.00', 'CNY'],
    ['zero', '0', 'CNY'],
    ['zero with decimals', '0.00', 'CNY'],
    ['over-precise CNY', '1.234', 'CNY'],
    ['over-precise JPY', '1.5', 'JPY'],
    ['huge', '99999999999999999', 'CNY'],
    ['not a number', 'abc', 'CNY'],
    ['exponent notation', '1e3', 'CNY'],
    ['empty', '', 'CNY'],
    ['padded', ' 1.00', 'CNY'],
    ['a float that is not exact', 0.1 + 0.2, 'CNY'],
    ['a negative number', -5, 'CNY'],
  ])('refuses a %s total_amount', async (_name, amount, currency) => {
    await refuseCreate({ biz: validBiz({ total_amount: amount, currency }) }, { code: '40002', sub_code: 'isv.invalid-amount' });
  });

  it('refuses an amount above the app limit and accepts the limit itself', async () => {
    const app = await createApp({});
    const patched = await t.admin('PATCH', `/apps/${app.app_id}`, { max_amount: '100.00' });
    expect(patched.status).toBe(200);
    const client = rsaClient(app);
    await refuseCreate({ biz: validBiz({ total_amount: '100.01' }) }, { code: '40004', sub_code: 'ACQ.TOTAL_FEE_EXCEED' }, client);
    expectSuccess(await client.call(create, { biz: validBiz({ total_amount: '100.00' }) }));
  });

  it('refuses an unsupported currency', async () => {
    await refuseCreate({ biz: validBiz({ currency: 'XYZ' }) }, { code: '40002', sub_code: 'isv.currency-not-supported' });
    await refuseCreate({ biz: validBiz({ currency: 'cny' }) }, { code: '40002', sub_code: 'isv.invalid-parameter' });
  });
});

describe('orders', () => {
  it.each([
    ['tongbao.trade.query', {}],
    ['tongbao.trade.close', {}],
    ['tongbao.trade.refund', { refund_amount: '1.00', out_request_no: 'r1' }],
    ['tongbao.trade.refund.query', { out_request_no: 'r1' }],
  ])('%s refuses an unknown order', async (method, extra) => {
    await expectRefused(() => demo.call(method, { biz: { out_trade_no: orderNumber(), ...extra } }), { code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST', key: responseKeyFor(method) });
    await expectRefused(() => demo.call(method, { biz: { trade_no: '2099010100000000000001', ...extra } }), { code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST', key: responseKeyFor(method) });
  });

  it('refuses a refund of an unpaid trade and one above the paid amount', async () => {
    const biz = validBiz({ total_amount: '10.00' });
    expectSuccess(await demo.call(create, { biz }));
    const refund = 'tongbao.trade.refund';
    const refundKey = responseKeyFor(refund);
    await expectRefused(() => demo.call(refund, { biz: { out_trade_no: biz.out_trade_no, refund_amount: '1.00', out_request_no: 'r1' } }),
      { code: '40004', sub_code: 'ACQ.TRADE_NOT_ALLOW_REFUND', key: refundKey });

    const paid = await demo.call('tongbao.trade.pay', { biz: { out_trade_no: biz.out_trade_no, channel: 'sandbox' } });
    expectSuccess(paid, responseKeyFor('tongbao.trade.pay'));
    expect(paid.body.trade_status).toBe('TRADE_SUCCESS');
    await expectRefused(() => demo.call(refund, { biz: { out_trade_no: biz.out_trade_no, refund_amount: '10.01', out_request_no: 'r2' } }),
      { code: '40004', sub_code: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', key: refundKey });
    await expectRefused(() => demo.call(refund, { biz: { out_trade_no: biz.out_trade_no, refund_amount: '0.001', out_request_no: 'r3' } }),
      { code: '40002', sub_code: 'isv.invalid-amount', key: refundKey });
  });

  it('refuses the same out_trade_no with a different amount and returns the same order for the same one', async () => {
    const biz = validBiz({ total_amount: '12.00' });
    const first = await demo.call(create, { biz });
    expectSuccess(first);
    await refuseCreate({ biz: { ...biz, total_amount: '12.01' } }, { code: '40004', sub_code: 'ACQ.CONTEXT_INCONSISTENT' });
    await refuseCreate({ biz: { ...biz, currency: 'USD' } }, { code: '40004', sub_code: 'ACQ.CONTEXT_INCONSISTENT' });
    const before = await countRows();
    const again = await demo.call(create, { biz });
    expectSuccess(again);
    expect(again.body.trade_no).toBe(first.body.trade_no);
    expect(await countRows()).toEqual(before);
  });
});

describe('admin API authentication', () => {
  it('refuses a missing or wrong bearer token with 401', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${t.instance.adminToken}`, `Bearer ${t.instance.adminToken}x`, 'Bearer ']) {
      const response = await fetch(`${t.url}/admin/apps`, { headers: authorization === undefined ? {} : { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'admin.unauthorized' });
    }
    expect((await t.admin('GET', '/apps')).status).toBe(200);
  });
});
