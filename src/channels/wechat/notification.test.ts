import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aeadDecrypt,
  aeadEncrypt,
  callbackAnswers,
  notificationFromEnvelope,
  parseEnvelope,
  readCallbackHeaders,
  rsaSign,
  rsaVerify,
  signedMessage,
  type NotificationEnvelope,
} from './notification.js';

const apiV3Key = 'a'.repeat(16) + 'b'.repeat(16);
const ids = { mchid: '1900000109', appid: 'wxd678efh567hg6787' };

function envelope(eventType: string, originalType: string, resource: object, key = apiV3Key): NotificationEnvelope {
  const nonce = 'fdasflkja484';
  return {
    id: 'EV-2018022511223320873',
    create_time: '2015-05-20T13:29:35+08:00',
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary: 'summary',
    resource: { algorithm: 'AEAD_AES_256_GCM', original_type: originalType, associated_data: originalType, nonce, ciphertext: aeadEncrypt(JSON.stringify(resource), key, nonce, originalType) },
  };
}

const transaction = {
  ...ids, out_trade_no: 'A20240101000001', transaction_id: '4200000985202401012345678901', trade_type: 'JSAPI', trade_state: 'SUCCESS',
  success_time: '2024-01-01T10:34:56+08:00', amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
};
const refundResource = {
  mchid: ids.mchid, out_trade_no: 'A20240101000001', transaction_id: '4200000985202401012345678901', out_refund_no: 'R20240101000001',
  refund_id: '50200207182018070300011301001', refund_status: 'SUCCESS', success_time: '2024-01-01T11:00:00+08:00',
  user_received_account: '招商银行信用卡0403', amount: { total: 100, refund: 40, payer_total: 100, payer_refund: 40 },
};

describe('signatures', () => {
  it('signs and verifies "timestamp\\nnonce\\nbody\\n" with RSA-SHA256', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const message = signedMessage('1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', '{"a":1}');
    expect(message).toBe('1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"a":1}\n');
    const signature = rsaSign(message, privateKey);
    expect(rsaVerify(message, signature, publicKey)).toBe(true);
    expect(rsaVerify(`${message} `, signature, publicKey)).toBe(false);
    expect(rsaVerify(message, signature, other.publicKey)).toBe(false);
    expect(rsaVerify(message, 'WECHATPAY/SIGNTEST/', publicKey)).toBe(false);
  });

  it('reads the four Wechatpay headers whatever their case', () => {
    const headers = { 'wechatpay-timestamp': '1554208460', 'Wechatpay-Nonce': 'n', 'WECHATPAY-SIGNATURE': 's', 'wechatpay-serial': 'PUB_KEY_ID_1' };
    expect(readCallbackHeaders(headers)).toEqual({ ok: true, value: { timestamp: '1554208460', timestampMs: 1554208460000, nonce: 'n', signature: 's', serial: 'PUB_KEY_ID_1' } });
    expect(readCallbackHeaders({ ...headers, 'wechatpay-serial': undefined }).ok).toBe(false);
    expect(readCallbackHeaders({ ...headers, 'wechatpay-timestamp': '2019-04-02' }).ok).toBe(false);
    expect(readCallbackHeaders({ ...headers, 'Wechatpay-Signature-Type': 'WECHATPAY2-SM2-WITH-SM3' }).ok).toBe(false);
  });
});

describe('AEAD_AES_256_GCM', () => {
  it('decrypts what was encrypted and nothing else', () => {
    const ciphertext = aeadEncrypt('{"hello":"world"}', apiV3Key, '123456789012', 'transaction');
    expect(aeadDecrypt(ciphertext, apiV3Key, '123456789012', 'transaction')).toBe('{"hello":"world"}');
    expect(aeadDecrypt(ciphertext, 'c'.repeat(32), '123456789012', 'transaction')).toBeNull();
    expect(aeadDecrypt(ciphertext, apiV3Key, '123456789013', 'transaction')).toBeNull();
    expect(aeadDecrypt(ciphertext, apiV3Key, '123456789012', 'refund')).toBeNull();
    const bytes = Buffer.from(ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(aeadDecrypt(bytes.toString('base64'), apiV3Key, '123456789012', 'transaction')).toBeNull();
    expect(aeadDecrypt(Buffer.from('short').toString('base64'), apiV3Key, '123456789012', 'transaction')).toBeNull();
  });
});

describe('notifications', () => {
  it('maps TRANSACTION.SUCCESS to a PAYMENT', () => {
    const parsed = notificationFromEnvelope(envelope('TRANSACTION.SUCCESS', 'transaction', transaction), apiV3Key, ids);
    expect(parsed).toEqual({
      ok: true,
      id: 'EV-2018022511223320873',
      notification: {
        kind: 'PAYMENT', attemptNo: 'A20240101000001',
        result: { status: 'SUCCEEDED', channelTradeNo: transaction.transaction_id, amountMinor: 100n, currency: 'CNY', paidAt: new Date('2024-01-01T02:34:56Z') },
      },
    });
  });

  it('maps REFUND.SUCCESS, REFUND.ABNORMAL and REFUND.CLOSED to a REFUND', () => {
    const success = notificationFromEnvelope(envelope('REFUND.SUCCESS', 'refund', refundResource), apiV3Key, ids);
    expect(success.ok && success.notification).toEqual({
      kind: 'REFUND', refundNo: 'R20240101000001', result: { status: 'SUCCEEDED', channelRefundNo: refundResource.refund_id, amountMinor: 40n, currency: 'CNY' },
    });
    const abnormal = notificationFromEnvelope(envelope('REFUND.ABNORMAL', 'refund', { ...refundResource, refund_status: 'ABNORMAL' }), apiV3Key, ids);
    expect(abnormal.ok && abnormal.notification).toMatchObject({ kind: 'REFUND', result: { status: 'PENDING' } });
    const closed = notificationFromEnvelope(envelope('REFUND.CLOSED', 'refund', { ...refundResource, refund_status: 'CLOSED' }), apiV3Key, ids);
    expect(closed.ok && closed.notification).toMatchObject({ kind: 'REFUND', result: { status: 'FAILED', code: 'CLOSED' } });
  });

  it('rejects another key, another merchant and a resource of the wrong kind, and ignores an event it does not act on', () => {
    expect(notificationFromEnvelope(envelope('TRANSACTION.SUCCESS', 'transaction', transaction, 'x'.repeat(32)), apiV3Key, ids)).toMatchObject({ ok: false, reason: expect.stringContaining('decrypt') });
    expect(notificationFromEnvelope(envelope('REFUND.SUCCESS', 'refund', { ...refundResource, mchid: '1900000110' }), apiV3Key, ids).ok).toBe(false);
    expect(notificationFromEnvelope(envelope('TRANSACTION.SUCCESS', 'transaction', { ...transaction, mchid: '1900000110' }), apiV3Key, ids)).toMatchObject({
      ok: true, notification: { result: { status: 'UNKNOWN' } },
    });
    expect(notificationFromEnvelope(envelope('MCHTRANSFER.BILL.FINISHED', 'mch_payment', transaction), apiV3Key, ids)).toEqual({
      ok: true, id: expect.any(String), notification: { kind: 'IGNORED', about: 'event_type MCHTRANSFER.BILL.FINISHED' },
    });
    // Ignored only once it decrypts with this merchant's key: otherwise it is not known to be genuine.
    expect(notificationFromEnvelope(envelope('MCHTRANSFER.BILL.FINISHED', 'mch_payment', transaction, 'x'.repeat(32)), apiV3Key, ids).ok).toBe(false);
    expect(notificationFromEnvelope(envelope('REFUND.SUCCESS', 'refund', transaction), apiV3Key, ids).ok).toBe(false);
  });

  it('parses only encrypted envelopes', () => {
    expect(parseEnvelope('not json').ok).toBe(false);
    expect(parseEnvelope(JSON.stringify({ ...envelope('TRANSACTION.SUCCESS', 'transaction', transaction), resource_type: 'plain' })).ok).toBe(false);
    expect(parseEnvelope(JSON.stringify(envelope('TRANSACTION.SUCCESS', 'transaction', transaction))).ok).toBe(true);
  });

  it('acknowledges as WeChat documents: 204 without a body, or 4xx with FAIL', () => {
    expect(callbackAnswers.accepted).toEqual({ statusCode: 204, contentType: 'application/json', body: '' });
    expect(callbackAnswers.rejected.statusCode).toBe(400);
    expect(JSON.parse(callbackAnswers.rejected.body)).toEqual({ code: 'FAIL', message: '失败' });
  });
});
