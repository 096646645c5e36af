import { describe, expect, it } from 'vitest';
import type { ChannelPayoutRequest, ChannelRefundRequest } from '../types.js';
import { payoutQueryResultFromAnswer, payoutRequestProblem, payoutResultFromAnswer, transferBizContent } from './payout-protocol.js';
import {
  beijingTime,
  cancelResultFromAnswer,
  closeReadingFromAnswer,
  closeResultFromQuery,
  parseBeijingTime,
  parseYuan,
  payResultFromPrecreate,
  precreateBizContent,
  queryResultFromAnswer,
  readGatewayAnswer,
  refundQueryResultFromAnswer,
  refundReadingFromAnswer,
  tradeResult,
  yuan,
  type GatewayAnswer,
} from './protocol.js';

const ok = (body: Record<string, unknown>): GatewayAnswer => ({ kind: 'SUCCESS', body: { code: '10000', msg: 'Success', ...body } });
const refused = (subCode: string, code = '40004'): GatewayAnswer => ({ kind: 'REFUSED', code, subCode, message: 'refused' });

describe('amounts and times', () => {
  it('writes and reads yuan with two decimals, refusing anything ambiguous', () => {
    expect([yuan(1n), yuan(1234n), yuan(100n), yuan(10_000_000_000n)]).toEqual(['0.01', '12.34', '1.00', '100000000.00']);
    expect([parseYuan('12.34'), parseYuan('12.3'), parseYuan('12'), parseYuan('0.01')]).toEqual([1234n, 1230n, 1200n, 1n]);
    for (const bad of ['0.00', '0', '-1.00', '1.234', '01.00', '1,00', ' 1.00', '1e3', '', '1.']) expect(parseYuan(bad)).toBeNull();
    expect(parseYuan(12.34)).toBeNull();
  });

  it('writes Alipay times in Beijing time', () => {
    expect(beijingTime(new Date('2024-03-01T16:30:05.900Z'))).toBe('2024-03-02 00:30:05');
    expect(parseBeijingTime('2024-03-02 00:30:05')).toEqual(new Date('2024-03-01T16:30:05Z'));
    expect(parseBeijingTime('2024-02-30 00:00:00')).toBeNull();
    expect(parseBeijingTime(undefined)).toBeNull();
  });

  it('sends the attempt as out_trade_no with the amount in yuan and the expiry in Beijing time', () => {
    const request = { attemptNo: 'A1', tradeNo: 'T1', amountMinor: 1999n, currency: 'CNY', subject: 's', expiresAt: new Date('2024-01-01T00:00:00Z'), notifyUrl: 'https://x/n' };
    expect(precreateBizContent(request)).toEqual({ out_trade_no: 'A1', total_amount: '19.99', subject: 's', time_expire: '2024-01-01 08:00:00' });
  });
});

describe('reading gateway answers', () => {
  it('maps Alipay codes precisely; unknown codes and system errors are never a refusal', () => {
    expect(readGatewayAnswer({ code: '10000', msg: 'Success', qr_code: 'q' })).toMatchObject({ kind: 'SUCCESS' });
    expect(readGatewayAnswer({ code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_HAS_CLOSE', sub_msg: '交易已关闭' }))
      .toEqual({ kind: 'REFUSED', code: '40004', subCode: 'ACQ.TRADE_HAS_CLOSE', message: '交易已关闭' });
    expect(readGatewayAnswer({ code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature' })).toMatchObject({ kind: 'REFUSED', subCode: 'isv.invalid-signature' });
    expect(readGatewayAnswer({ code: '40004', msg: 'Business Failed' })).toMatchObject({ kind: 'REFUSED', subCode: '40004' });
    for (const body of [
      { code: '20000', msg: 'Service Currently Unavailable', sub_code: 'isp.unknow-error' },
      { code: '40004', sub_code: 'ACQ.SYSTEM_ERROR' },
      { code: '40004', sub_code: 'ACQ.CONTEXT_INCONSISTENT' },
      { code: '10003', msg: 'waiting' },
      { code: 10000 },
      { msg: 'no code' },
      null,
      'text',
    ]) {
      expect(readGatewayAnswer(body).kind).toBe('UNCERTAIN');
    }
  });
});

describe('payments', () => {
  const request = { attemptNo: 'A1', tradeNo: 'T1', amountMinor: 100n, currency: 'CNY', subject: 's', expiresAt: new Date(), notifyUrl: 'https://x/n' };

  it('turns a precreate into a QR code, and an already paid number into UNKNOWN', () => {
    expect(payResultFromPrecreate(ok({ out_trade_no: 'A1', qr_code: 'https://qr.alipay.com/x' }), request)).toEqual({ status: 'PENDING', payerAction: { type: 'QR_CODE', content: 'https://qr.alipay.com/x' } });
    expect(payResultFromPrecreate(ok({ out_trade_no: 'A2', qr_code: 'q' }), request).status).toBe('UNKNOWN');
    expect(payResultFromPrecreate(ok({ out_trade_no: 'A1' }), request).status).toBe('UNKNOWN');
    expect(payResultFromPrecreate(refused('ACQ.TRADE_HAS_SUCCESS'), request).status).toBe('UNKNOWN');
    expect(payResultFromPrecreate(refused('ACQ.TOTAL_FEE_EXCEED'), request)).toEqual({ status: 'FAILED', code: 'ACQ.TOTAL_FEE_EXCEED', message: 'refused' });
  });

  it('maps every trade_status, and nothing unknown to success', () => {
    const trade = { out_trade_no: 'A1', trade_no: '2024X', total_amount: '1.00', trade_status: 'TRADE_SUCCESS' };
    const paidAt = '2024-01-01 08:00:00';
    expect(tradeResult(trade, 'A1', paidAt)).toEqual({ status: 'SUCCEEDED', channelTradeNo: '2024X', amountMinor: 100n, currency: 'CNY', paidAt: new Date('2024-01-01T00:00:00Z') });
    expect(tradeResult({ ...trade, trade_status: 'TRADE_FINISHED' }, 'A1', paidAt).status).toBe('SUCCEEDED');
    expect(tradeResult({ ...trade, trade_status: 'WAIT_BUYER_PAY' }, 'A1', undefined)).toEqual({ status: 'PENDING', channelTradeNo: '2024X' });
    expect(tradeResult({ ...trade, trade_status: 'TRADE_CLOSED' }, 'A1', undefined)).toMatchObject({ status: 'FAILED', code: 'TRADE_CLOSED' });
    expect(tradeResult({ ...trade, trade_status: 'TRADE_SUCCES' }, 'A1', paidAt).status).toBe('UNKNOWN');
    expect(tradeResult(trade, 'A1', undefined).status).toBe('UNKNOWN');
    expect(tradeResult({ ...trade, trade_no: undefined }, 'A1', paidAt).status).toBe('UNKNOWN');
    expect(tradeResult({ ...trade, total_amount: '1.001' }, 'A1', paidAt).status).toBe('UNKNOWN');
    expect(tradeResult({ ...trade, trans_currency: 'USD' }, 'A1', paidAt).status).toBe('UNKNOWN');
    expect(tradeResult({ ...trade, trans_currency: 'CNY' }, 'A1', paidAt).status).toBe('SUCCEEDED');
    expect(tradeResult(trade, 'A2', paidAt).status).toBe('UNKNOWN');
  });

  it('reads a query: no trade is NOT_FOUND, a refused query is UNKNOWN', () => {
    expect(queryResultFromAnswer(refused('ACQ.TRADE_NOT_EXIST'), 'A1')).toEqual({ status: 'NOT_FOUND' });
    expect(queryResultFromAnswer(refused('ACQ.INVALID_PARAMETER'), 'A1').status).toBe('UNKNOWN');
    expect(queryResultFromAnswer(ok({ out_trade_no: 'A1' }), 'A1').status).toBe('UNKNOWN');
    expect(queryResultFromAnswer({ kind: 'UNCERTAIN', reason: 'timeout' }, 'A1')).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
  });

  it('reads a close, asking for a query when Alipay says the status does not allow it', () => {
    expect(closeReadingFromAnswer(ok({ out_trade_no: 'A1', trade_no: 'X' }), 'A1')).toEqual({ kind: 'RESULT', result: { status: 'CLOSED' } });
    expect(closeReadingFromAnswer(refused('ACQ.TRADE_NOT_EXIST'), 'A1')).toEqual({ kind: 'RESULT', result: { status: 'CLOSED' } });
    expect(closeReadingFromAnswer(refused('ACQ.TRADE_STATUS_ERROR'), 'A1')).toEqual({ kind: 'NEEDS_QUERY' });
    expect(closeReadingFromAnswer(refused('ACQ.INVALID_PARAMETER'), 'A1')).toMatchObject({ kind: 'RESULT', result: { status: 'UNKNOWN' } });
    expect(closeReadingFromAnswer(ok({ out_trade_no: 'A2' }), 'A1')).toMatchObject({ kind: 'RESULT', result: { status: 'UNKNOWN' } });
    expect(closeResultFromQuery({ status: 'SUCCEEDED', channelTradeNo: 'X', amountMinor: 1n, currency: 'CNY', paidAt: new Date() })).toEqual({ status: 'ALREADY_PAID' });
    expect(closeResultFromQuery({ status: 'FAILED', code: 'TRADE_CLOSED', message: 'closed' })).toEqual({ status: 'CLOSED' });
    expect(closeResultFromQuery({ status: 'PENDING' }).status).toBe('UNKNOWN');
  });

  it('reads a cancel by its action', () => {
    expect(cancelResultFromAnswer(ok({ out_trade_no: 'A1', action: 'refund', retry_flag: 'N' }), 'A1')).toEqual({ status: 'CANCELLED', refunded: true });
    expect(cancelResultFromAnswer(ok({ out_trade_no: 'A1', action: 'close', retry_flag: 'N' }), 'A1')).toEqual({ status: 'CANCELLED', refunded: false });
    expect(cancelResultFromAnswer(ok({ retry_flag: 'N' }), 'A1')).toEqual({ status: 'CANCELLED', refunded: false });
    expect(cancelResultFromAnswer(ok({ out_trade_no: 'A1', action: 'refund', retry_flag: 'Y' }), 'A1').status).toBe('UNKNOWN');
    expect(cancelResultFromAnswer(ok({ out_trade_no: 'A1', action: 'hold' }), 'A1').status).toBe('UNKNOWN');
    expect(cancelResultFromAnswer(ok({ out_trade_no: 'A9', action: 'close' }), 'A1').status).toBe('UNKNOWN');
    expect(cancelResultFromAnswer(refused('ACQ.TRADE_CANCEL_TIME_OUT'), 'A1')).toMatchObject({ status: 'FAILED', code: 'ACQ.TRADE_CANCEL_TIME_OUT' });
  });
});

describe('refunds', () => {
  const request: ChannelRefundRequest = { refundNo: 'R1', attemptNo: 'A1', channelTradeNo: null, paymentAmountMinor: 1000n, amountMinor: 300n, currency: 'CNY', reason: null, notifyUrl: 'https://x/n' };
  const refundBody = { out_trade_no: 'A1', trade_no: '2024X', fund_change: 'Y', refund_fee: '5.00' };

  it('succeeds on fund_change Y when the refunded total covers the refund, and asks for a query on N', () => {
    expect(refundReadingFromAnswer(ok(refundBody), request)).toEqual({ kind: 'RESULT', result: { status: 'SUCCEEDED', channelRefundNo: '2024X', amountMinor: 300n, currency: 'CNY' } });
    expect(refundReadingFromAnswer(ok({ ...refundBody, fund_change: 'N' }), request)).toEqual({ kind: 'NEEDS_QUERY', channelTradeNo: '2024X' });
    expect(refundReadingFromAnswer(ok({ ...refundBody, refund_fee: '2.99' }), request)).toMatchObject({ result: { status: 'UNKNOWN' } });
    expect(refundReadingFromAnswer(ok({ ...refundBody, fund_change: 'y' }), request)).toMatchObject({ result: { status: 'UNKNOWN' } });
    expect(refundReadingFromAnswer(ok({ ...refundBody, out_trade_no: 'A2' }), request)).toMatchObject({ result: { status: 'UNKNOWN' } });
    expect(refundReadingFromAnswer(refused('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL'), request)).toMatchObject({ result: { status: 'FAILED', code: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL' } });
  });

  it('reads a refund query: REFUND_SUCCESS is the only success, no refund data is NOT_FOUND', () => {
    const expected = { attemptNo: 'A1', refundNo: 'R1', amountMinor: 300n };
    const body = { out_trade_no: 'A1', trade_no: '2024X', out_request_no: 'R1', refund_amount: '3.00', refund_status: 'REFUND_SUCCESS' };
    expect(refundQueryResultFromAnswer(ok(body), expected)).toEqual({ status: 'SUCCEEDED', channelRefundNo: '2024X', amountMinor: 300n, currency: 'CNY' });
    expect(refundQueryResultFromAnswer(ok({ ...body, refund_amount: '3.01' }), expected).status).toBe('UNKNOWN');
    expect(refundQueryResultFromAnswer(ok({ ...body, refund_amount: '3.01' }), { attemptNo: 'A1', refundNo: 'R1' }).status).toBe('SUCCEEDED');
    expect(refundQueryResultFromAnswer(ok({ ...body, refund_status: undefined }), expected)).toEqual({ status: 'PENDING', channelRefundNo: '2024X' });
    expect(refundQueryResultFromAnswer(ok({ ...body, refund_status: 'REFUND_FAIL' }), expected).status).toBe('UNKNOWN');
    expect(refundQueryResultFromAnswer(ok({ ...body, out_request_no: 'R2' }), expected).status).toBe('UNKNOWN');
    expect(refundQueryResultFromAnswer(ok({}), expected)).toEqual({ status: 'NOT_FOUND' });
    expect(refundQueryResultFromAnswer(refused('ACQ.TRADE_NOT_EXIST'), expected)).toEqual({ status: 'NOT_FOUND' });
    expect(refundQueryResultFromAnswer(refused('ACQ.INVALID_PARAMETER'), expected).status).toBe('UNKNOWN');
  });
});

describe('payouts', () => {
  const request: ChannelPayoutRequest = { payoutNo: 'P1', amountMinor: 1500n, currency: 'CNY', payee: { type: 'ALIPAY_LOGON_ID', identity: 'a@b.c', name: '张三' }, remark: null };

  it('sends a no-password transfer to the payee', () => {
    expect(transferBizContent(request)).toEqual({
      out_biz_no: 'P1', trans_amount: '15.00', product_code: 'TRANS_ACCOUNT_NO_PWD', biz_scene: 'DIRECT_TRANSFER', order_title: 'payout',
      payee_info: { identity: 'a@b.c', identity_type: 'ALIPAY_LOGON_ID', name: '张三' },
    });
    expect(payoutRequestProblem(request)).toBeNull();
    expect(payoutRequestProblem({ ...request, payee: { type: 'ALIPAY_LOGON_ID', identity: 'a@b.c' } })?.code).toBe('PAYEE_NAME_REQUIRED');
    expect(payoutRequestProblem({ ...request, payee: { type: 'ALIPAY_USER_ID', identity: '2088' } })).toBeNull();
    expect(payoutRequestProblem({ ...request, payee: { type: 'ALIPAY_OPEN_ID', identity: 'x' } })?.code).toBe('PAYEE_TYPE_NOT_SUPPORTED');
  });

  it('maps transfer statuses, and nothing unknown to success', () => {
    const body = { out_biz_no: 'P1', order_id: 'O1', status: 'SUCCESS', trans_date: '2024-01-01 08:00:00' };
    expect(payoutResultFromAnswer(ok(body), request)).toEqual({ status: 'SUCCEEDED', channelRef: 'O1', amountMinor: 1500n, currency: 'CNY', finishedAt: new Date('2024-01-01T00:00:00Z') });
    expect(payoutResultFromAnswer(ok({ ...body, status: 'DEALING' }), request)).toEqual({ status: 'PENDING', channelRef: 'O1' });
    expect(payoutResultFromAnswer(ok({ ...body, status: 'FAIL' }), request).status).toBe('FAILED');
    expect(payoutResultFromAnswer(ok({ ...body, status: 'SUCCESSFUL' }), request).status).toBe('UNKNOWN');
    expect(payoutResultFromAnswer(ok({ ...body, out_biz_no: 'P2' }), request).status).toBe('UNKNOWN');
    expect(payoutResultFromAnswer(refused('PAYEE_NOT_EXIST'), request)).toMatchObject({ status: 'FAILED', code: 'PAYEE_NOT_EXIST' });
  });

  it('reads a transfer query', () => {
    const body = { out_biz_no: 'P1', order_id: 'O1', status: 'SUCCESS', trans_amount: '15.00', pay_date: '2024-01-01 08:00:00' };
    expect(payoutQueryResultFromAnswer(ok(body), 'P1')).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1500n });
    expect(payoutQueryResultFromAnswer(ok({ ...body, trans_amount: undefined }), 'P1').status).toBe('UNKNOWN');
    expect(payoutQueryResultFromAnswer(ok({ ...body, status: 'REFUND' }), 'P1')).toMatchObject({ status: 'FAILED', code: 'REFUND' });
    expect(payoutQueryResultFromAnswer(ok({ ...body, status: 'FAIL', error_code: 'PAYEE_ACCOUNT_STATUS_ERROR' }), 'P1')).toMatchObject({ status: 'FAILED', code: 'PAYEE_ACCOUNT_STATUS_ERROR' });
    expect(payoutQueryResultFromAnswer(refused('ORDER_NOT_EXIST'), 'P1')).toEqual({ status: 'NOT_FOUND' });
    expect(payoutQueryResultFromAnswer(refused('INVALID_PARAMETER'), 'P1').status).toBe('UNKNOWN');
  });
});
