import { createVerify, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChannelPayRequest } from '../types.js';
import {
  beijingDateOf,
  fenFromMinor,
  formatBeijingTime,
  jsapiPayerAction,
  jsapiSignMessage,
  minorFromFen,
  orderBody,
  payResultFromOrderAnswer,
  payResultFromTransaction,
  queryResultFromAnswer,
  refundQueryResultFromAnswer,
  refundResultFromRefund,
  timestampWindowMs,
  type Refund,
  type Transaction,
} from './protocol.js';
import { billDigest, billLine, billToCsv, csvField, splitBillLine, tradeBillColumns } from './statement.js';

const ids = { mchid: '1900000109', appid: 'wxd678efh567hg6787' };

const payRequest: ChannelPayRequest = {
  attemptNo: '202401010000000000000001',
  tradeNo: 'T20240101',
  amountMinor: 1999n,
  currency: 'CNY',
  subject: 'Image形象店-深圳腾大-QQ公仔',
  expiresAt: new Date('2024-01-01T04:00:00Z'),
  notifyUrl: 'https://tongbao.example.com/channels/wechat/notify',
};

const paid: Transaction = {
  ...ids,
  out_trade_no: payRequest.attemptNo,
  transaction_id: '4200000985202401012345678901',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  success_time: '2024-01-01T10:34:56+08:00',
  amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
};
const expectation = { ...ids, outTradeNo: payRequest.attemptNo };

describe('amounts and times', () => {
  it('converts CNY minor units to fen and refuses anything else', () => {
    expect(fenFromMinor(1999n, 'CNY')).toBe(1999);
    expect(fenFromMinor(1999n, 'USD')).toBeNull();
    expect(fenFromMinor(0n, 'CNY')).toBeNull();
    expect(fenFromMinor(2n ** 53n, 'CNY')).toBeNull();
    expect(minorFromFen(1999)).toBe(1999n);
    expect(minorFromFen(-1)).toBeNull();
    expect(minorFromFen(19.99)).toBeNull();
    expect(minorFromFen('1999')).toBeNull();
  });

  it('writes times in Beijing time and finds the bill day there', () => {
    expect(formatBeijingTime(new Date('2024-01-01T04:00:00Z'))).toBe('2024-01-01T12:00:00+08:00');
    expect(beijingDateOf(new Date('2024-01-01T15:59:59Z'))).toBe('2024-01-01');
    expect(beijingDateOf(new Date('2024-01-01T16:00:00Z'))).toBe('2024-01-02');
  });
});

describe('order bodies', () => {
  it('builds a Native order in fen with time_expire in +08:00', () => {
    const built = orderBody(payRequest, 'WECHAT_NATIVE', ids);
    expect(built).toEqual({
      ok: true,
      body: {
        ...ids, description: payRequest.subject, out_trade_no: payRequest.attemptNo, time_expire: '2024-01-01T12:00:00+08:00',
        notify_url: payRequest.notifyUrl, amount: { total: 1999, currency: 'CNY' },
      },
    });
  });

  it('needs an openid for JSAPI and puts it in payer', () => {
    expect(orderBody(payRequest, 'WECHAT_JSAPI', ids)).toMatchObject({ ok: false, code: 'PAYER_REQUIRED' });
    expect(orderBody({ ...payRequest, payer: { type: 'alipay_user_id', id: '2088' } }, 'WECHAT_JSAPI', ids)).toMatchObject({ ok: false, code: 'PAYER_REQUIRED' });
    const built = orderBody({ ...payRequest, payer: { type: 'openid', id: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } }, 'WECHAT_JSAPI', ids);
    expect(built.ok && built.body.payer).toEqual({ openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' });
  });

  it('refuses other currencies, numbers WeChat would refuse, and trims the description to 127 characters', () => {
    expect(orderBody({ ...payRequest, currency: 'USD' }, 'WECHAT_NATIVE', ids)).toMatchObject({ ok: false, code: 'CURRENCY_NOT_SUPPORTED' });
    expect(orderBody({ ...payRequest, attemptNo: 'A1' }, 'WECHAT_NATIVE', ids)).toMatchObject({ ok: false, code: 'INVALID_OUT_TRADE_NO' });
    expect(orderBody({ ...payRequest, attemptNo: 'A1234567/8' }, 'WECHAT_NATIVE', ids)).toMatchObject({ ok: false, code: 'INVALID_OUT_TRADE_NO' });
    const long = orderBody({ ...payRequest, subject: '商'.repeat(200) }, 'WECHAT_NATIVE', ids);
    expect(long.ok && [...long.body.description]).toHaveLength(127);
    const empty = orderBody({ ...payRequest, subject: '  ' }, 'WECHAT_NATIVE', ids);
    expect(empty.ok && empty.body.description).toBe(payRequest.tradeNo);
  });
});

describe('JSAPI payer action', () => {
  it('signs appId, timeStamp, nonceStr and package, each ending in a line feed, with RSA-SHA256', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const action = jsapiPayerAction({ appId: ids.appid, prepayId: 'wx201410272009395522657a690389285100', timeStampSeconds: 1414561699, nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', merchantKey: privateKey });
    expect(action.type).toBe('SDK');
    if (action.type !== 'SDK') return;
    const { paySign, ...parameters } = action.parameters;
    expect(parameters).toEqual({ appId: ids.appid, timeStamp: '1414561699', nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', package: 'prepay_id=wx201410272009395522657a690389285100', signType: 'RSA' });
    const message = `${ids.appid}\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n`;
    expect(jsapiSignMessage({ appId: ids.appid, timeStamp: '1414561699', nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', package: 'prepay_id=wx201410272009395522657a690389285100' })).toBe(message);
    expect(createVerify('RSA-SHA256').update(message).verify(publicKey, paySign!, 'base64')).toBe(true);
  });
});

describe('order answers', () => {
  const noAction = () => ({ type: 'SDK' as const, parameters: {} });

  it('turns code_url into a QR code and refusals without effect into FAILED', () => {
    expect(payResultFromOrderAnswer({ statusCode: 200, body: { code_url: 'weixin://wxpay/bizpayurl?pr=p4lpSuKzz' } }, 'WECHAT_NATIVE', noAction))
      .toEqual({ status: 'PENDING', payerAction: { type: 'QR_CODE', content: 'weixin://wxpay/bizpayurl?pr=p4lpSuKzz' } });
    expect(payResultFromOrderAnswer({ statusCode: 400, body: { code: 'PARAM_ERROR', message: '参数错误' } }, 'WECHAT_NATIVE', noAction))
      .toEqual({ status: 'FAILED', code: 'PARAM_ERROR', message: '参数错误' });
  });

  it('keeps an existing order, a 5xx and an unreadable body UNKNOWN', () => {
    for (const answer of [
      { statusCode: 403, body: { code: 'OUT_TRADE_NO_USED', message: '商户订单号重复' } },
      { statusCode: 400, body: { code: 'ORDERPAID', message: '该订单已支付' } },
      { statusCode: 500, body: { code: 'SYSTEM_ERROR', message: '系统错误' } },
      { statusCode: 200, body: { prepay_id: 'wx1' } },
      { statusCode: 200, body: 'not json' },
    ]) {
      expect(payResultFromOrderAnswer(answer, 'WECHAT_NATIVE', noAction).status).toBe('UNKNOWN');
    }
  });
});

describe('transactions', () => {
  it('maps every documented trade_state', () => {
    expect(payResultFromTransaction(paid, expectation)).toEqual({
      status: 'SUCCEEDED', channelTradeNo: paid.transaction_id, amountMinor: 1999n, currency: 'CNY', paidAt: new Date('2024-01-01T02:34:56Z'),
    });
    expect(payResultFromTransaction({ ...paid, trade_state: 'REFUND' }, expectation).status).toBe('SUCCEEDED');
    for (const state of ['NOTPAY', 'USERPAYING', 'ACCEPT']) expect(payResultFromTransaction({ ...paid, trade_state: state }, expectation).status).toBe('PENDING');
    for (const state of ['CLOSED', 'PAYERROR', 'REVOKED']) expect(payResultFromTransaction({ ...paid, trade_state: state }, expectation)).toMatchObject({ status: 'FAILED', code: state });
  });

  it('never maps an unknown state or an untrustworthy success to SUCCEEDED', () => {
    const unknown = [
      { ...paid, trade_state: 'SUCCESS_MAYBE' },
      { ...paid, amount: { total: 1999, currency: 'USD' } },
      { ...paid, amount: { currency: 'CNY' } },
      { ...paid, success_time: 'yesterday' },
      { ...paid, transaction_id: undefined },
      { ...paid, out_trade_no: 'another-attempt' },
      { ...paid, mchid: '1900000110' },
      { ...paid, appid: 'wx-other' },
    ];
    for (const transaction of unknown) expect(payResultFromTransaction(transaction as Transaction, expectation).status).toBe('UNKNOWN');
  });

  it('says NOT_FOUND only for a 404 ORDER_NOT_EXIST', () => {
    expect(queryResultFromAnswer({ statusCode: 404, body: { code: 'ORDER_NOT_EXIST', message: '订单不存在' } }, expectation)).toEqual({ status: 'NOT_FOUND' });
    expect(queryResultFromAnswer({ statusCode: 404, body: { code: 'NOT_FOUND', message: 'no route' } }, expectation).status).toBe('UNKNOWN');
    expect(queryResultFromAnswer({ statusCode: 404, body: '' }, expectation).status).toBe('UNKNOWN');
    expect(queryResultFromAnswer({ statusCode: 200, body: { trade_state: 'SUCCESS' } }, expectation).status).toBe('UNKNOWN');
  });
});

describe('refunds', () => {
  const refund: Refund = {
    refund_id: '50000000382019052709732678859', out_refund_no: 'R1', out_trade_no: payRequest.attemptNo, status: 'SUCCESS',
    amount: { total: 1999, refund: 500, currency: 'CNY' },
  };
  const expected = { outRefundNo: 'R1', refundMinor: 500n, totalMinor: 1999n };

  it('maps SUCCESS, PROCESSING, ABNORMAL and CLOSED', () => {
    expect(refundResultFromRefund(refund, expected)).toEqual({ status: 'SUCCEEDED', channelRefundNo: refund.refund_id, amountMinor: 500n, currency: 'CNY' });
    expect(refundResultFromRefund({ ...refund, status: 'PROCESSING' }, expected)).toEqual({ status: 'PENDING', channelRefundNo: refund.refund_id });
    expect(refundResultFromRefund({ ...refund, status: 'ABNORMAL' }, expected).status).toBe('PENDING');
    expect(refundResultFromRefund({ ...refund, status: 'CLOSED' }, expected)).toMatchObject({ status: 'FAILED', code: 'CLOSED' });
    expect(refundResultFromRefund({ ...refund, status: 'REFUNDED_PROBABLY' }, expected).status).toBe('UNKNOWN');
  });

  it('refuses an echo with another amount, total, currency or number', () => {
    expect(refundResultFromRefund({ ...refund, amount: { ...refund.amount, refund: 501 } }, expected).status).toBe('UNKNOWN');
    expect(refundResultFromRefund({ ...refund, amount: { ...refund.amount, total: 2000 } }, expected).status).toBe('UNKNOWN');
    expect(refundResultFromRefund({ ...refund, amount: { ...refund.amount, currency: 'HKD' } }, expected).status).toBe('UNKNOWN');
    expect(refundResultFromRefund({ ...refund, out_refund_no: 'R2' }, expected).status).toBe('UNKNOWN');
  });

  it('says NOT_FOUND only for a 404 RESOURCE_NOT_EXISTS', () => {
    expect(refundQueryResultFromAnswer({ statusCode: 404, body: { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' } }, 'R1')).toEqual({ status: 'NOT_FOUND' });
    expect(refundQueryResultFromAnswer({ statusCode: 500, body: { code: 'SYSTEM_ERROR' } }, 'R1').status).toBe('UNKNOWN');
    expect(refundQueryResultFromAnswer({ statusCode: 200, body: refund }, 'R1').status).toBe('SUCCEEDED');
  });
});

describe('trade bill', () => {
  const row = ['2024-01-01 10:34:56', ids.appid, ids.mchid, '0', '', '4200000985', 'A1', 'oUp', 'NATIVE', 'SUCCESS', 'OTHERS', 'CNY', '19.99', '0.00', '0', '0', '0.00', '0.00', '', '', '公仔,"大号"', '', '0.12', '0.60%', '19.99', '0.00', ''];
  const file = `\uFEFF${tradeBillColumns.join(',')}\r\n${billLine(row)}\r\n总交易单数,应结订单总金额\r\n${billLine(['1', '19.99'])}\r\n`;

  it('converts WeChat backquoted lines to CSV with the header and without the summary', () => {
    const csv = billToCsv(file);
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(tradeBillColumns.join(','));
    expect(lines[1]).toContain('4200000985,A1,oUp,NATIVE,SUCCESS');
    expect(lines[1]).toContain('"公仔,""大号"""');
    expect(csv).not.toContain('`');
    expect(csv).not.toContain('总交易单数');
  });

  it('refuses a file that is not a WeChat bill', () => {
    expect(() => billToCsv('')).toThrow(/header/);
    expect(() => billToCsv(`${tradeBillColumns.join(',')}\n${billLine(['too', 'few'])}\n`)).toThrow(/fields/);
    expect(() => splitBillLine('no backquote')).toThrow();
  });

  it('quotes CSV fields only when needed and digests with SHA1 alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(billDigest(Buffer.from('abc'), 'SHA1')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(billDigest(Buffer.from('abc'), 'MD5')).toBeNull();
  });
});
