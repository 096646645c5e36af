import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreementClient } from './helpers/agreements.js';
import { cardNumber } from './helpers/cards.js';
import { encodeForm, GatewayClient } from './helpers/gateway-client.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';

let t: TestInstance;
let sink: NotifySink;
const logLines: string[] = [];
const answers: string[] = [];
const a = agreementClient(() => t, () => sink.url);
const icbcDebit = cardNumber('622202', 19, 3);
const visaCredit = '4242424242424242';

beforeAll(async () => {
  const capture = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
  t = await startTestInstance({ LOG_LEVEL: 'trace' }, capture);
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await t?.stop();
});

/** Every answer is kept, to check afterwards that none carried a card number. */
async function kept<T>(answer: Promise<T>): Promise<T> {
  const value = await answer;
  answers.push(JSON.stringify(value));
  return value;
}

describe('quick pay (快捷支付): sign, confirm, pay by agreement, unsign', () => {
  it('binds the card as a token, signs with the texted code, pays without card data and refuses payments after unsign', async () => {
    const mobile = a.mobile();
    const sent = await kept(a.sign('qp-1', icbcDebit, mobile));
    expect(sent).toMatchObject({
      code: '10000', agreementStatus: 'WAIT_CONFIRM', agreementType: 'QUICK_PAY', bankCode: 'ICBC', cardType: 'DEBIT', cardRegion: 'CN',
      cardNo: `**** **** **** ${icbcDebit.slice(-4)}`,
    });
    expect(sent.codeExpireTime).toBeDefined();
    // Signing again with the same out_agreement_no answers the same agreement and asks the bank nothing new.
    expect(await kept(a.sign('qp-1', icbcDebit, mobile))).toMatchObject({ agreementNo: sent.agreementNo, agreementStatus: 'WAIT_CONFIRM' });
    expect(await t.query('select count(*)::int as n from agreement_cards')).toEqual([{ n: 1 }]);

    const code = await a.code(mobile, sent.agreementNo);
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await kept(a.confirm('qp-1', wrong))).toMatchObject({ subCode: 'AGREEMENT.VERIFY_CODE_INVALID' });
    const active = await kept(a.confirm('qp-1', code));
    expect(active).toMatchObject({ code: '10000', agreementStatus: 'ACTIVE' });
    expect(active.channelAgreementNo).toMatch(/^sba_/);
    // Confirming again changes nothing.
    expect(await kept(a.confirm('qp-1', code))).toMatchObject({ agreementStatus: 'ACTIVE', channelAgreementNo: active.channelAgreementNo });

    const notified = (await sink.waitFor(1)).find((post) => post.fields.notify_type === 'agreement_status_sync' && post.fields.agreement_status === 'ACTIVE')!;
    expect(notified.fields).toMatchObject({ agreement_no: sent.agreementNo, out_agreement_no: 'qp-1', channel_agreement_no: active.channelAgreementNo });
    expect(t.sdk().checkNotifySignV2(notified.fields)).toBe(true);

    const paid = await kept(a.pay('qp-order-1', '19.99', sent.agreementNo));
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', receiptAmount: '19.99', channel: 'sandbox' });

    expect(await kept(a.unsign('qp-1'))).toMatchObject({ code: '10000', agreementStatus: 'TERMINATED' });
    expect(await kept(a.unsign('qp-1'))).toMatchObject({ code: '10000', agreementStatus: 'TERMINATED' });
    await sink.waitFor(2);
    expect(sink.received.some((post) => post.fields.agreement_status === 'TERMINATED')).toBe(true);

    const before = await a.snapshot();
    expect(await kept(a.pay('qp-order-2', '5.00', sent.agreementNo))).toMatchObject({ subCode: 'AGREEMENT.NOT_ACTIVE' });
    expect(await a.snapshot()).toEqual(before);

    // After unsigning, the same card can be signed again, under a new out_agreement_no.
    expect(await kept(a.signed('qp-2', icbcDebit))).toMatchObject({ agreementStatus: 'ACTIVE' });
    expect(await t.query('select count(*)::int as n from agreement_cards')).toEqual([{ n: 1 }]);
  });

  it('takes a credit card with expiry and CVV, which are passed to the bank and kept nowhere', async () => {
    const active = await kept(a.signed('qp-credit', visaCredit, { card_expiry: '1230', card_cvv: '737', out_user_id: 'user-2', currency: 'USD', single_limit: '100.00' }));
    expect(active).toMatchObject({ agreementStatus: 'ACTIVE', bankCode: 'VISA', cardType: 'CREDIT', cardRegion: 'US', singleLimit: '100.00' });
    expect(await kept(a.pay('qp-usd-1', '99.00', active.agreementNo, { currency: 'USD' }))).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' });
    const before = await a.snapshot();
    expect(await kept(a.pay('qp-usd-2', '100.01', active.agreementNo, { currency: 'USD' }))).toMatchObject({ subCode: 'AGREEMENT.SINGLE_LIMIT_EXCEEDED' });
    expect(await kept(a.pay('qp-usd-3', '1.00', active.agreementNo))).toMatchObject({ subCode: 'AGREEMENT.CURRENCY_MISMATCH' });
    expect(await a.snapshot()).toEqual(before);
  });

  it('lists agreements and cards to operators, masked', async () => {
    const agreements = await t.admin('GET', '/agreements?out_user_id=user-1');
    expect(agreements.status).toBe(200);
    expect(agreements.body.agreements.map((row: any) => row.status).sort()).toEqual(['ACTIVE', 'TERMINATED']);
    const cards = await t.admin('GET', '/cards');
    expect(cards.body.cards).toHaveLength(2);
    expect(cards.body.cards[0]).not.toHaveProperty('card_token');
    const detail = await t.admin('GET', `/agreements/${agreements.body.agreements[0].agreement_no}`);
    expect(detail.body.agreement.card_no).toMatch(/^\*\*\*\* \*\*\*\* \*\*\*\* \d{4}$/);
    answers.push(JSON.stringify([agreements.body, cards.body, detail.body]));
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });

  it('keeps biz_content sent in the query string out of the request log', async () => {
    const gateway = new GatewayClient(t.url, { appId: t.demo.app_id, signType: 'RSA2', privateKey: t.demo.app_private_key }, t.demo.platform_public_key);
    const params = gateway.sign('tongbao.agreement.sign', {
      biz: { out_agreement_no: 'qp-query', out_user_id: 'user-3', agreement_type: 'QUICK_PAY', channel: 'sandbox', card_no: icbcDebit, card_holder_name: 'Li Si', mobile: a.mobile() },
    });
    const answer = await gateway.send({ query: encodeForm(Object.entries(params)) });
    expect(answer.body).toMatchObject({ code: '10000', agreement_status: 'WAIT_CONFIRM' });
    answers.push(answer.text);
    expect(logLines.some((line) => line.includes('biz_content=[redacted]'))).toBe(true);
  });

  it('never writes a full card number, CVV or expiry to any table, log line or answer', async () => {
    const columns = await t.query<{ table_schema: string; table_name: string; column_name: string }>(
      `select table_schema, table_name, column_name from information_schema.columns
       where table_schema not in ('pg_catalog', 'information_schema') and data_type in ('text', 'character varying', 'json', 'jsonb', 'character')`,
    );
    expect(columns.length).toBeGreaterThan(20);
    for (const { table_schema: schema, table_name: table, column_name: column } of columns) {
      const hits = await t.query(`select count(*)::int as n from "${schema}"."${table}" where "${column}"::text like any($1)`, [[`%${icbcDebit}%`, `%${visaCredit}%`]]);
      expect(hits[0]!.n, `${schema}.${table}.${column}`).toBe(0);
    }
    const logText = logLines.join('');
    expect(logText).toContain('asking the channel to sign');
    for (const secret of [icbcDebit, visaCredit, '"737"']) {
      expect(logText).not.toContain(secret);
      expect(answers.join('\n')).not.toContain(secret);
    }
  });
});
