/**
 * The WeChat Pay adapter against the simulated WeChat Pay over HTTP: orders, queries, callbacks, refunds,
 * close and the trade bill. Faults, callback verification and isolation are in wechat-resilience.test.ts.
 */
import { createVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelPayRequest } from '../../src/channels/types.js';
import { createWechatAdapter, parseWechatConfig, wechatCapabilities, type WechatAdapter } from '../../src/channels/wechat/index.js';
import { beijingDateOf, formatBeijingTime } from '../../src/channels/wechat/protocol.js';
import { tradeBillColumns } from '../../src/channels/wechat/statement.js';
import { CallbackReceiver, payRequestFor, refundRequestFor, waitFor } from '../simulators/wechat/harness.js';
import { adapterConfigInput, generateWechatCredentials } from '../simulators/wechat/keys.js';
import { startWechatSimulator, type WechatSimulator } from '../simulators/wechat/simulator.js';
import { queryOf, refundQueryOf } from '../helpers/channel-requests.js';

const credentials = generateWechatCredentials();

describe('wechat channel over HTTP', () => {
  let simulator: WechatSimulator;
  let adapter: WechatAdapter;
  const receiver = new CallbackReceiver(() => adapter, { passPath: true });
  const payRequest = (amountMinor: bigint, overrides = {}) => payRequestFor(receiver.url, amountMinor, overrides);
  const refundRequest = (payment: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor'>, amountMinor: bigint, overrides = {}) => refundRequestFor(receiver.url, payment, amountMinor, overrides);
  const posts = (path: string) => simulator.requests.filter((entry) => entry.method === 'POST' && entry.url === path).length;

  /** A Native attempt the payer has paid. */
  async function paidAttempt(amountMinor: bigint): Promise<ChannelPayRequest> {
    const request = payRequest(amountMinor);
    expect(await adapter.pay(request)).toMatchObject({ status: 'PENDING' });
    simulator.pay(request.attemptNo);
    return request;
  }

  beforeAll(async () => {
    await receiver.start();
    simulator = await startWechatSimulator({ credentials, callbackRetryDelaysMs: [50, 50, 50] });
    adapter = createWechatAdapter(parseWechatConfig(adapterConfigInput(credentials, simulator.url)));
  });

  afterAll(async () => {
    await adapter.dispose();
    await simulator.close();
    await receiver.close();
  });

  it('declares what it does: Native and JSAPI in CNY, refunds, close, statement; no cancel, preauth or payout', () => {
    expect(wechatCapabilities).toMatchObject({ products: ['WECHAT_NATIVE', 'WECHAT_JSAPI'], currencies: ['CNY'], resultMode: 'async', cancel: false, preauth: false, payout: false });
    expect(adapter.cancel).toBeUndefined();
    expect(adapter.preauth).toBeUndefined();
    expect(adapter.payouts).toBeUndefined();
  });

  it('creates a Native order in fen and hands back its code_url as a QR code', async () => {
    const request = payRequest(1999n);
    const result = await adapter.pay(request);
    const order = simulator.books.orders.get(request.attemptNo)!;
    expect(result).toEqual({ status: 'PENDING', payerAction: { type: 'QR_CODE', content: order.prepay } });
    expect(order).toMatchObject({ tradeType: 'NATIVE', total: 1999, mchid: credentials.mchid, appid: credentials.appid, description: request.subject, notifyUrl: request.notifyUrl });
    expect(JSON.parse(order.requestBody).time_expire).toBe(formatBeijingTime(request.expiresAt));
    expect(await adapter.query(queryOf(request))).toEqual({ status: 'PENDING' });
  });

  it('creates a JSAPI order for the openid and signs the SDK parameters as WeChat documents', async () => {
    const request = payRequest(500n, { product: 'WECHAT_JSAPI', payer: { type: 'openid', id: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } });
    const result = await adapter.pay(request);
    const order = simulator.books.orders.get(request.attemptNo)!;
    expect(order).toMatchObject({ tradeType: 'JSAPI', openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', total: 500 });
    expect(result.status === 'PENDING' && result.payerAction?.type).toBe('SDK');
    if (result.status !== 'PENDING' || result.payerAction?.type !== 'SDK') return;
    const { appId, timeStamp, nonceStr, package: prepay, signType, paySign } = result.payerAction.parameters;
    expect({ appId, package: prepay, signType }).toEqual({ appId: credentials.appid, package: `prepay_id=${order.prepay}`, signType: 'RSA' });
    expect(Math.abs(Number(timeStamp) - Date.now() / 1000)).toBeLessThan(60);
    const message = `${appId}\n${timeStamp}\n${nonceStr}\n${prepay}\n`;
    expect(createVerify('RSA-SHA256').update(message).verify(credentials.merchantPublicKeyPem, paySign!, 'base64')).toBe(true);
  });

  it('refuses JSAPI without an openid, other currencies and unknown products without calling WeChat', async () => {
    const before = simulator.requests.length;
    expect(await adapter.pay(payRequest(100n, { product: 'WECHAT_JSAPI' }))).toMatchObject({ status: 'FAILED', code: 'PAYER_REQUIRED' });
    expect(await adapter.pay(payRequest(100n, { currency: 'USD' }))).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
    expect(await adapter.pay(payRequest(100n, { product: 'WECHAT_H5' }))).toMatchObject({ status: 'FAILED', code: 'PRODUCT_NOT_SUPPORTED' });
    expect(simulator.requests.length).toBe(before);
  });

  it('gets the same order for the same attempt, and UNKNOWN for another amount under the same number', async () => {
    const request = payRequest(2600n);
    const first = await adapter.pay(request);
    expect(await adapter.pay(request)).toEqual(first);
    expect(await adapter.pay({ ...request, amountMinor: 2601n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('OUT_TRADE_NO_USED') });
    expect(simulator.books.orders.get(request.attemptNo)!.total).toBe(2600);
  });

  it('learns of a payment from a verified callback, acknowledged with 204, and the query agrees', async () => {
    const payment = await paidAttempt(1234n);
    const { attemptNo } = payment;
    const callback = await waitFor(() => receiver.about(attemptNo)[0]);
    const order = simulator.books.orders.get(attemptNo)!;
    const succeeded = { status: 'SUCCEEDED', channelTradeNo: order.transactionId, amountMinor: 1234n, currency: 'CNY', paidAt: new Date(Math.floor(order.successTime!.getTime() / 1000) * 1000) };
    expect(callback.verification).toEqual({ ok: true, notification: { kind: 'PAYMENT', attemptNo, result: succeeded }, replayKey: expect.stringMatching(/^id:/), replayWindowMs: 10 * 60_000 });
    await waitFor(() => simulator.deliveries.find((delivery) => delivery.statusCode === 204 && delivery.eventType === 'TRANSACTION.SUCCESS') ?? undefined);
    expect(await adapter.query(queryOf(payment))).toEqual(succeeded);
  });

  it('answers NOT_FOUND for an attempt WeChat never saw', async () => {
    expect(await adapter.query(queryOf(payRequest(1n)))).toEqual({ status: 'NOT_FOUND' });
  });

  it('maps PAYERROR, CLOSED and USERPAYING, and never calls an unknown trade_state a success', async () => {
    const states: [string, unknown][] = [
      ['PAYERROR', { status: 'FAILED', code: 'PAYERROR' }],
      ['CLOSED', { status: 'FAILED', code: 'CLOSED' }],
      ['USERPAYING', { status: 'PENDING' }],
      ['REVOKED', { status: 'FAILED', code: 'REVOKED' }],
      ['SUCCESS_PENDING_REVIEW', { status: 'UNKNOWN' }],
    ];
    for (const [state, expected] of states) {
      const request = payRequest(300n);
      await adapter.pay(request);
      simulator.setTradeState(request.attemptNo, state);
      expect(await adapter.query(queryOf(request))).toMatchObject(expected as object);
    }
  });

  it('keeps a success echoed in another currency or for another attempt UNKNOWN, and reports the amount WeChat echoes', async () => {
    const payment = await paidAttempt(800n);
    const { attemptNo } = payment;
    const path = `/v3/pay/transactions/out-trade-no/${attemptNo}`;
    simulator.injectFault({ path }, { kind: 'tamper', edit: (body) => void ((body.amount as Record<string, unknown>).currency = 'USD') });
    expect(await adapter.query(queryOf(payment))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('currency mismatch') });
    simulator.injectFault({ path }, { kind: 'tamper', edit: (body) => void (body.out_trade_no = 'A-someone-else') });
    expect(await adapter.query(queryOf(payment))).toMatchObject({ status: 'UNKNOWN' });
    // The query knows only the number; the caller compares the amount with the attempt's, so it must be WeChat's.
    simulator.injectFault({ path }, { kind: 'tamper', edit: (body) => void ((body.amount as Record<string, unknown>).total = 1) });
    expect(await adapter.query(queryOf(payment))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1n });
  });

  it('refunds in full, sending the order total WeChat wants, and the paid order stays SUCCEEDED', async () => {
    const payment = await paidAttempt(1000n);
    const { attemptNo } = payment;
    const request = refundRequest(payment, 1000n);
    const result = await adapter.refund(request);
    const record = simulator.books.refunds.get(request.refundNo)!;
    expect(result).toEqual({ status: 'SUCCEEDED', channelRefundNo: record.refundId, amountMinor: 1000n, currency: 'CNY' });
    expect(JSON.parse(record.requestBody)).toMatchObject({ out_trade_no: attemptNo, out_refund_no: request.refundNo, reason: '顾客退货', amount: { refund: 1000, total: 1000, currency: 'CNY' } });
    expect(await adapter.queryRefund(refundQueryOf(request))).toEqual(result);
    expect(await adapter.query(queryOf(payment))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1000n });
    const callback = await waitFor(() => receiver.about(request.refundNo)[0]);
    expect(callback.verification).toMatchObject({ ok: true, notification: { kind: 'REFUND', refundNo: request.refundNo, result } });
  });

  it('refunds in parts and declines an over-refund as FAILED', async () => {
    const payment = await paidAttempt(1000n);
    const { attemptNo } = payment;
    expect(await adapter.refund(refundRequest(payment, 300n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 300n });
    expect(await adapter.refund(refundRequest(payment, 600n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 600n });
    const over = refundRequest(payment, 101n);
    expect(await adapter.refund(over)).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST', message: expect.stringContaining('可退金额') });
    expect(simulator.books.refunds.has(over.refundNo)).toBe(false);
    expect(await adapter.refund(refundRequest(payment, 100n))).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('keeps a refund echoed with another amount UNKNOWN', async () => {
    const payment = await paidAttempt(1000n);
    const { attemptNo } = payment;
    simulator.injectFault({ method: 'POST', path: '/v3/refund/domestic/refunds' }, { kind: 'tamper', edit: (body) => void ((body.amount as Record<string, unknown>).refund = 900) });
    expect(await adapter.refund(refundRequest(payment, 500n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });
  });

  it('follows a PROCESSING refund to SUCCESS by callback and query', async () => {
    const payment = await paidAttempt(700n);
    const { attemptNo } = payment;
    simulator.books.nextRefundStatus = 'PROCESSING';
    const request = refundRequest(payment, 700n);
    const record = () => simulator.books.refunds.get(request.refundNo)!;
    expect(await adapter.refund(request)).toEqual({ status: 'PENDING', channelRefundNo: record().refundId });
    expect(await adapter.queryRefund(refundQueryOf(request))).toMatchObject({ status: 'PENDING' });
    simulator.settleRefund(request.refundNo, 'SUCCESS');
    const callback = await waitFor(() => receiver.about(request.refundNo)[0]);
    expect(callback.verification).toMatchObject({ ok: true, notification: { kind: 'REFUND', result: { status: 'SUCCEEDED', amountMinor: 700n } } });
    expect(await adapter.queryRefund(refundQueryOf(request))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 700n });
  });

  it('reports a closed refund as FAILED and an abnormal one as PENDING', async () => {
    const payment = await paidAttempt(900n);
    const { attemptNo } = payment;
    simulator.books.nextRefundStatus = 'PROCESSING';
    const closed = refundRequest(payment, 400n);
    await adapter.refund(closed);
    simulator.settleRefund(closed.refundNo, 'CLOSED');
    const callback = await waitFor(() => receiver.about(closed.refundNo)[0]);
    expect(callback.verification).toMatchObject({ ok: true, notification: { result: { status: 'FAILED', code: 'CLOSED' } } });
    expect(await adapter.queryRefund(refundQueryOf(closed))).toMatchObject({ status: 'FAILED', code: 'CLOSED' });
    simulator.books.nextRefundStatus = 'ABNORMAL';
    const abnormal = refundRequest(payment, 400n);
    expect(await adapter.refund(abnormal)).toMatchObject({ status: 'PENDING' });
    expect(await adapter.queryRefund(refundQueryOf(abnormal))).toMatchObject({ status: 'PENDING' });
  });

  it('declines a refund WeChat refuses (403 NOT_ENOUGH) only after checking no refund exists under the number', async () => {
    const payment = await paidAttempt(500n);
    const { attemptNo } = payment;
    const request = refundRequest(payment, 500n);
    simulator.injectFault({ method: 'POST', path: '/v3/refund/domestic/refunds' }, { kind: 'error', status: 403, code: 'NOT_ENOUGH', message: '基本账户余额不足' });
    expect(await adapter.refund(request)).toEqual({ status: 'FAILED', code: 'NOT_ENOUGH', message: '基本账户余额不足' });
    expect(simulator.requests.at(-1)).toMatchObject({ method: 'GET', url: `/v3/refund/domestic/refunds/${request.refundNo}`, status: 404 });
  });

  it('sends the order total Tongbao passes without querying the order first, and WeChat checks it', async () => {
    const payment = await paidAttempt(900n);
    const before = simulator.requests.length;
    const refund = refundRequest(payment, 200n);
    expect(await adapter.refund(refund)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 200n });
    expect(simulator.requests.slice(before).map(({ method, url, body }) => ({ method, url, body }))).toEqual([
      { method: 'POST', url: '/v3/refund/domestic/refunds', body: expect.objectContaining({ out_refund_no: refund.refundNo, amount: { refund: 200, total: 900, currency: 'CNY' } }) },
    ]);
    // A total that is not the order's is WeChat's to refuse; the refusal is FAILED once no refund exists under the number.
    const wrongTotal = refundRequest({ ...payment, amountMinor: 901n }, 100n);
    expect(await adapter.refund(wrongTotal)).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST', message: expect.stringContaining('订单金额') });
    expect(simulator.books.refunds.has(wrongTotal.refundNo)).toBe(false);
  });

  it('declines refunds of an unpaid attempt as WeChat refuses them, and refunds nothing', async () => {
    const request = payRequest(500n);
    await adapter.pay(request);
    expect(await adapter.refund(refundRequest(request, 500n))).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST', message: expect.stringContaining('未支付') });
    expect(await adapter.refund(refundRequest(payRequest(1n), 1n))).toMatchObject({ status: 'FAILED', code: 'RESOURCE_NOT_EXISTS' });
    const before = simulator.requests.length;
    expect(await adapter.refund(refundRequest(request, 500n, { currency: 'HKD' }))).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
    expect(simulator.requests.length).toBe(before);
    expect(await adapter.queryRefund(refundQueryOf(refundRequest(request, 500n, { refundNo: 'R-never-sent' })))).toEqual({ status: 'NOT_FOUND' });
  });

  it('closes an unpaid attempt, reports a paid one ALREADY_PAID, and one WeChat never saw CLOSED', async () => {
    const unpaid = payRequest(100n);
    await adapter.pay(unpaid);
    expect(await adapter.close(unpaid.attemptNo)).toEqual({ status: 'CLOSED' });
    expect(await adapter.query(queryOf(unpaid))).toMatchObject({ status: 'FAILED', code: 'CLOSED' });
    expect(await adapter.close(unpaid.attemptNo)).toEqual({ status: 'CLOSED' });
    expect(await adapter.close((await paidAttempt(100n)).attemptNo)).toEqual({ status: 'ALREADY_PAID' });
    expect(await adapter.close(payRequest(1n).attemptNo)).toEqual({ status: 'CLOSED' });
  });

  it('downloads the day\'s trade bill as CSV with WeChat\'s header, payments and refunds', async () => {
    const payment = await paidAttempt(4321n);
    const { attemptNo } = payment;
    const refund = refundRequest(payment, 321n);
    await adapter.refund(refund);
    const order = simulator.books.orders.get(attemptNo)!;
    await adapter.pay(payRequest(10n, { subject: '公仔, 大号 "限量"' }));
    const csv = await adapter.downloadStatement(beijingDateOf(order.successTime!));
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(tradeBillColumns.join(','));
    expect(csv).not.toContain('`');
    expect(csv).not.toContain('总交易单数');
    const mine = lines.filter((line) => line.split(',')[6] === attemptNo);
    expect(mine).toHaveLength(2);
    expect(mine[0]).toContain(`${order.transactionId},${attemptNo},`);
    expect(mine[0]).toContain(',SUCCESS,OTHERS,CNY,43.21,');
    expect(mine[1]).toContain(`,REFUND,OTHERS,CNY,0.00,0.00,${simulator.books.refunds.get(refund.refundNo)!.refundId},${refund.refundNo},3.21,`);
  });

  it('quotes bill fields with commas, returns only the header for a day without trades, and refuses bad dates', async () => {
    const request = payRequest(10n, { subject: '公仔, 大号 "限量"' });
    await adapter.pay(request);
    simulator.pay(request.attemptNo);
    const csv = await adapter.downloadStatement(beijingDateOf(simulator.books.orders.get(request.attemptNo)!.successTime!));
    expect(csv).toContain(',"公仔, 大号 ""限量""",');
    expect(await adapter.downloadStatement('2001-01-01')).toBe(`${tradeBillColumns.join(',')}\n`);
    await expect(adapter.downloadStatement('2024-13-01')).rejects.toThrow(/yyyy-MM-dd/);
  });
});
