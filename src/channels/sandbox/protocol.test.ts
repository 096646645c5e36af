import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChannelPayRequest, ChannelRefundRequest } from '../types.js';
import { generateEd25519KeyPair } from './keys.js';
import {
  closeResultFromAnswer,
  headerValue,
  isFresh,
  notificationFromBody,
  paymentRequestBody,
  payResultFromAnswer,
  payResultFromPayment,
  queryResultFromAnswer,
  readSignatureHeaders,
  refundQueryResultFromAnswer,
  refundResultFromAnswer,
  signedHeaders,
  signMessage,
  statementDateOf,
  stringToSign,
  timestampWindowMs,
  verifyMessage,
  type PaymentObject,
  type RefundObject,
} from './protocol.js';
import { NonceWindow } from './replay.js';

const keys = generateEd25519KeyPair();
const privateKey = createPrivateKey(keys.privateKeyPem);
const publicKey = createPublicKey(keys.publicKeyPem);
const otherPublicKey = createPublicKey(generateEd25519KeyPair().publicKeyPem);

const payRequest: ChannelPayRequest = {
  attemptNo: 'A1',
  tradeNo: 'T1',
  amountMinor: 1999n,
  currency: 'CNY',
  subject: 'tea',
  expiresAt: new Date('2030-01-01T00:00:00Z'),
  notifyUrl: 'http://127.0.0.1:8080/notify/sandbox',
};

const refundRequest: ChannelRefundRequest = {
  refundNo: 'R1',
  attemptNo: 'A1',
  channelTradeNo: 'sbp_1',
  paymentAmountMinor: 1999n,
  amountMinor: 500n,
  currency: 'CNY',
  reason: null,
  notifyUrl: 'http://127.0.0.1:8080/notify/sandbox',
};

function payment(overrides: Partial<PaymentObject> = {}): PaymentObject {
  return { bank_txn_no: 'sbp_1', out_trade_no: 'A1', status: 'SUCCEEDED', amount: '1999', currency: 'CNY', paid_at: '2030-01-01T00:00:00.000Z', ...overrides };
}

function refund(overrides: Partial<RefundObject> = {}): RefundObject {
  return { bank_refund_no: 'sbr_1', out_refund_no: 'R1', out_trade_no: 'A1', status: 'SUCCEEDED', amount: '500', currency: 'CNY', ...overrides };
}

describe('signing', () => {
  it('signs timestamp, nonce, method, path and body on separate lines', () => {
    expect(stringToSign({ timestamp: '1700000000000', nonce: 'abcd', method: 'post', path: '/v1/payments', body: '{"a":1}' })).toBe(
      '1700000000000\nabcd\nPOST /v1/payments\n{"a":1}',
    );
  });

  it('verifies its own signature and nothing else', () => {
    const message = stringToSign({ timestamp: '1', nonce: 'ab', method: 'GET', path: '/v1/payments/A1', body: '' });
    const signature = signMessage(message, privateKey);
    expect(verifyMessage(message, signature, publicKey)).toBe(true);
    expect(verifyMessage(`${message} `, signature, publicKey)).toBe(false);
    expect(verifyMessage(message, signature, otherPublicKey)).toBe(false);
    expect(verifyMessage(message, 'not base64!', publicKey)).toBe(false);
    expect(verifyMessage(message, '', publicKey)).toBe(false);
  });

  it('builds headers that read back, whatever the header case', () => {
    const headers = signedHeaders({ mchId: 'm1', method: 'GET', path: '/x', body: '', privateKey, nowMs: 1_700_000_000_000, nonce: '0123456789abcdef' });
    const lowered = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
    const reading = readSignatureHeaders(lowered);
    expect(reading.ok && reading.value).toMatchObject({ mchId: 'm1', timestamp: '1700000000000', timestampMs: 1_700_000_000_000, nonce: '0123456789abcdef' });
  });

  it('refuses missing, repeated or malformed signature headers', () => {
    const headers = signedHeaders({ mchId: 'm1', method: 'GET', path: '/x', body: '', privateKey, nowMs: 1, nonce: '0123456789abcdef' });
    expect(readSignatureHeaders({ ...headers, 'X-Sandbox-Nonce': undefined }).ok).toBe(false);
    expect(readSignatureHeaders({ ...headers, 'X-Sandbox-Nonce': ['0123456789abcdef', '0123456789abcdef'] }).ok).toBe(false);
    expect(readSignatureHeaders({ ...headers, 'X-Sandbox-Timestamp': '1.5' }).ok).toBe(false);
    expect(readSignatureHeaders({ ...headers, 'X-Sandbox-Nonce': 'short' }).ok).toBe(false);
    expect(headerValue({ 'x-a': 'one' }, 'X-A')).toBe('one');
  });

  it('accepts timestamps within five minutes either way', () => {
    const nowMs = 1_700_000_000_000;
    expect(isFresh(nowMs - timestampWindowMs, nowMs)).toBe(true);
    expect(isFresh(nowMs + timestampWindowMs, nowMs)).toBe(true);
    expect(isFresh(nowMs - timestampWindowMs - 1, nowMs)).toBe(false);
    expect(isFresh(nowMs + timestampWindowMs + 1, nowMs)).toBe(false);
  });
});

describe('NonceWindow', () => {
  it('accepts a nonce once within the window, and again after it', () => {
    const window = new NonceWindow();
    expect(window.use('n1', 0)).toBe(true);
    expect(window.use('n1', 1000)).toBe(false);
    expect(window.use('n1', 2 * timestampWindowMs + 1)).toBe(true);
  });

  it('never holds more than its capacity', () => {
    const window = new NonceWindow(3);
    for (let index = 0; index < 10; index += 1) window.use(`n${index}`, index);
    expect(window.size).toBe(3);
    expect(window.use('n9', 20)).toBe(false);
  });
});

describe('requests', () => {
  it('sends amounts as integer minor-unit strings and the expiry as ISO', () => {
    expect(paymentRequestBody(payRequest)).toEqual({
      out_trade_no: 'A1', amount: '1999', currency: 'CNY', subject: 'tea', expire_at: '2030-01-01T00:00:00.000Z', notify_url: payRequest.notifyUrl,
    });
  });
});

describe('payment answers', () => {
  const expected = { outNo: 'A1', amountMinor: 1999n, currency: 'CNY' };

  it('maps each bank status', () => {
    expect(payResultFromPayment(payment(), expected)).toEqual({
      status: 'SUCCEEDED', channelTradeNo: 'sbp_1', amountMinor: 1999n, currency: 'CNY', paidAt: new Date('2030-01-01T00:00:00.000Z'),
    });
    expect(payResultFromPayment(payment({ status: 'PROCESSING', paid_at: undefined }), expected)).toEqual({ status: 'PENDING', channelTradeNo: 'sbp_1' });
    expect(payResultFromPayment(payment({ status: 'FAILED', error_code: 'CARD_DECLINED', error_message: 'no' }), expected)).toEqual({
      status: 'FAILED', code: 'CARD_DECLINED', message: 'no', channelTradeNo: 'sbp_1',
    });
    expect(payResultFromPayment(payment({ status: 'CLOSED' }), expected)).toMatchObject({ status: 'FAILED', code: 'CLOSED' });
  });

  it('never maps an unknown status or a doubtful success to success', () => {
    expect(payResultFromPayment(payment({ status: 'PAID' }), expected)).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromPayment(payment({ status: 'succeeded' }), expected)).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromPayment(payment({ paid_at: undefined }), expected)).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromPayment(payment({ paid_at: 'yesterday' }), expected)).toMatchObject({ status: 'UNKNOWN' });
  });

  it('answers UNKNOWN when the echo differs from the request', () => {
    expect(payResultFromPayment(payment({ amount: '1998' }), expected)).toEqual({ status: 'UNKNOWN', reason: 'amount mismatch: asked 1999, the bank echoed 1998' });
    expect(payResultFromPayment(payment({ currency: 'USD' }), expected)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('currency mismatch') });
    expect(payResultFromPayment(payment({ out_trade_no: 'A2' }), expected)).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromPayment(payment({ amount: '19.99' }), expected)).toMatchObject({ status: 'UNKNOWN' });
  });

  it('fails a pay only on rejections that had no effect', () => {
    const rejected = (statusCode: number, code: string) => payResultFromAnswer({ statusCode, body: { code, message: 'm' } }, payRequest);
    expect(rejected(401, 'INVALID_SIGNATURE')).toEqual({ status: 'FAILED', code: 'INVALID_SIGNATURE', message: 'm' });
    expect(rejected(400, 'INVALID_REQUEST')).toMatchObject({ status: 'FAILED' });
    expect(rejected(409, 'OUT_TRADE_NO_CLOSED')).toMatchObject({ status: 'FAILED' });
    expect(rejected(401, 'REPLAYED_NONCE')).toMatchObject({ status: 'UNKNOWN' });
    expect(rejected(409, 'DUPLICATE_OUT_TRADE_NO')).toMatchObject({ status: 'UNKNOWN' });
    expect(rejected(500, 'INTERNAL_ERROR')).toMatchObject({ status: 'UNKNOWN' });
    expect(rejected(503, 'CAPACITY_EXCEEDED')).toMatchObject({ status: 'UNKNOWN' });
    expect(rejected(418, 'SOMETHING_NEW')).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromAnswer({ statusCode: 200, body: undefined }, payRequest)).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromAnswer({ statusCode: 200, body: { status: 'SUCCEEDED' } }, payRequest)).toMatchObject({ status: 'UNKNOWN' });
  });

  it('reports NOT_FOUND on a query only when the bank says so', () => {
    expect(queryResultFromAnswer({ statusCode: 404, body: { code: 'NOT_FOUND' } }, 'A1')).toEqual({ status: 'NOT_FOUND' });
    expect(queryResultFromAnswer({ statusCode: 404, body: { code: 'NO_SUCH_ENDPOINT' } }, 'A1')).toMatchObject({ status: 'UNKNOWN' });
    expect(queryResultFromAnswer({ statusCode: 404, body: 'Not Found' }, 'A1')).toMatchObject({ status: 'UNKNOWN' });
    expect(queryResultFromAnswer({ statusCode: 200, body: payment({ amount: '1' }) }, 'A1')).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1n });
  });

  it('maps close answers', () => {
    expect(closeResultFromAnswer({ statusCode: 200, body: { out_trade_no: 'A1', status: 'CLOSED' } }, 'A1')).toEqual({ status: 'CLOSED' });
    expect(closeResultFromAnswer({ statusCode: 200, body: { out_trade_no: 'A1', status: 'SUCCEEDED' } }, 'A1')).toEqual({ status: 'ALREADY_PAID' });
    expect(closeResultFromAnswer({ statusCode: 200, body: { out_trade_no: 'A2', status: 'CLOSED' } }, 'A1')).toMatchObject({ status: 'UNKNOWN' });
    expect(closeResultFromAnswer({ statusCode: 200, body: { out_trade_no: 'A1', status: 'GONE' } }, 'A1')).toMatchObject({ status: 'UNKNOWN' });
    expect(closeResultFromAnswer({ statusCode: 500, body: { code: 'INTERNAL_ERROR' } }, 'A1')).toMatchObject({ status: 'UNKNOWN' });
  });
});

describe('refund answers', () => {
  it('maps statuses and checks the echo', () => {
    expect(refundResultFromAnswer({ statusCode: 200, body: refund() }, refundRequest)).toEqual({ status: 'SUCCEEDED', channelRefundNo: 'sbr_1', amountMinor: 500n, currency: 'CNY' });
    expect(refundResultFromAnswer({ statusCode: 200, body: refund({ status: 'PROCESSING' }) }, refundRequest)).toEqual({ status: 'PENDING', channelRefundNo: 'sbr_1' });
    expect(refundResultFromAnswer({ statusCode: 200, body: refund({ status: 'FAILED', error_code: 'REFUND_AMOUNT_EXCEEDED' }) }, refundRequest)).toMatchObject({
      status: 'FAILED', code: 'REFUND_AMOUNT_EXCEEDED',
    });
    expect(refundResultFromAnswer({ statusCode: 200, body: refund({ amount: '501' }) }, refundRequest)).toMatchObject({ status: 'UNKNOWN' });
    expect(refundResultFromAnswer({ statusCode: 200, body: refund({ status: 'REFUNDED' }) }, refundRequest)).toMatchObject({ status: 'UNKNOWN' });
    expect(refundResultFromAnswer({ statusCode: 409, body: { code: 'DUPLICATE_OUT_REFUND_NO' } }, refundRequest)).toMatchObject({ status: 'UNKNOWN' });
    expect(refundQueryResultFromAnswer({ statusCode: 404, body: { code: 'NOT_FOUND' } }, 'R1')).toEqual({ status: 'NOT_FOUND' });
  });
});

describe('callback bodies', () => {
  it('parses payment and refund events', () => {
    expect(notificationFromBody({ event: 'payment', ...payment() })).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', attemptNo: 'A1', result: { status: 'SUCCEEDED', amountMinor: 1999n } } });
    expect(notificationFromBody({ event: 'refund', ...refund() })).toMatchObject({ ok: true, notification: { kind: 'REFUND', refundNo: 'R1', result: { status: 'SUCCEEDED', amountMinor: 500n } } });
  });

  it('refuses anything else', () => {
    expect(notificationFromBody(undefined).ok).toBe(false);
    expect(notificationFromBody({ event: 'payout', ...payment() }).ok).toBe(false);
    expect(notificationFromBody({ event: 'payment', out_trade_no: 'A1' }).ok).toBe(false);
  });
});

describe('statement days', () => {
  it('are calendar days in UTC+8', () => {
    expect(statementDateOf(new Date('2024-01-01T15:59:59.999Z'))).toBe('2024-01-01');
    expect(statementDateOf(new Date('2024-01-01T16:00:00.000Z'))).toBe('2024-01-02');
  });
});
