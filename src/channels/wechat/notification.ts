/**
 * WeChat Pay's callbacks (支付/退款结果通知): the signed headers, the message they sign, the envelope,
 * AEAD_AES_256_GCM decryption of its `resource` with the APIv3 key, and the mapping of the decrypted
 * transaction or refund to a channel notification. Pure functions; the adapter adds the clock and names the
 * callback by its id for Tongbao's replay guard, the simulator uses the same functions to sign and encrypt.
 */
import { createCipheriv, createDecipheriv, createSign, createVerify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ChannelNotification } from '../types.js';
import { checkers, payResultFromTransaction, refundResultFromRefund, signatureScheme, wechatCurrency, wechatHeaders, type MerchantIds, type Refund } from './protocol.js';

// ---------------------------------------------------------------------------------------------------------
// Signatures: answers and callbacks both sign "timestamp\nnonce\nbody\n" with the platform key.

export function signedMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

export function rsaSign(message: string, privateKey: KeyObject): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64');
}

const base64Signature = /^[A-Za-z0-9+/]{2,}={0,2}$/;

export function rsaVerify(message: string, signature: string, publicKey: KeyObject): boolean {
  if (!base64Signature.test(signature)) return false;
  try {
    return createVerify('RSA-SHA256').update(message, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** Finds a header whatever its case; a header sent twice counts as absent. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

export interface CallbackHeaders {
  readonly timestamp: string;
  readonly timestampMs: number;
  readonly nonce: string;
  readonly signature: string;
  readonly serial: string;
}

export function readCallbackHeaders(headers: HeaderBag): { ok: true; value: CallbackHeaders } | { ok: false; reason: string } {
  const timestamp = headerValue(headers, wechatHeaders.timestamp);
  const nonce = headerValue(headers, wechatHeaders.nonce);
  const signature = headerValue(headers, wechatHeaders.signature);
  const serial = headerValue(headers, wechatHeaders.serial);
  if (!timestamp || !nonce || !signature || !serial) return { ok: false, reason: 'missing Wechatpay-* signature headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'Wechatpay-Timestamp is not a number of seconds' };
  if (nonce.length > 64) return { ok: false, reason: 'Wechatpay-Nonce is too long' };
  const type = headerValue(headers, wechatHeaders.signatureType);
  if (type !== undefined && type !== signatureScheme) return { ok: false, reason: `unsupported Wechatpay-Signature-Type ${type.slice(0, 40)}` };
  return { ok: true, value: { timestamp, timestampMs: Number(timestamp) * 1000, nonce, signature, serial } };
}

// ---------------------------------------------------------------------------------------------------------
// AEAD_AES_256_GCM: ciphertext is base64 of the encrypted bytes followed by the 16-byte tag.

const tagBytes = 16;

export function aeadEncrypt(plaintext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'), { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

/** The plaintext, or null when the key, nonce, associated data or tag do not match. */
export function aeadDecrypt(ciphertext: string, apiV3Key: string, nonce: string, associatedData: string): string | null {
  const bytes = Buffer.from(ciphertext, 'base64');
  if (bytes.length <= tagBytes || nonce.length === 0) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'), { authTagLength: tagBytes });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - tagBytes)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The envelope and its decrypted resource

export const NotificationEnvelope = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  create_time: Type.String(),
  event_type: Type.String(),
  resource_type: Type.Literal('encrypt-resource'),
  summary: Type.Optional(Type.String()),
  resource: Type.Object({
    algorithm: Type.Literal('AEAD_AES_256_GCM'),
    ciphertext: Type.String({ minLength: 1 }),
    associated_data: Type.Optional(Type.String()),
    original_type: Type.String(),
    nonce: Type.String({ minLength: 1, maxLength: 32 }),
  }),
});
export type NotificationEnvelope = Static<typeof NotificationEnvelope>;

/** The refund callback's resource: refund_status instead of status, and amounts without a currency. */
export const RefundResource = Type.Object({
  mchid: Type.String(),
  out_trade_no: Type.String(),
  transaction_id: Type.Optional(Type.String()),
  out_refund_no: Type.String(),
  refund_id: Type.String({ minLength: 1 }),
  refund_status: Type.String(),
  success_time: Type.Optional(Type.String()),
  user_received_account: Type.Optional(Type.String()),
  amount: Type.Object({
    total: Type.Integer(),
    refund: Type.Integer(),
    payer_total: Type.Optional(Type.Integer()),
    payer_refund: Type.Optional(Type.Integer()),
  }),
});
export type RefundResource = Static<typeof RefundResource>;

const envelopeChecker = TypeCompiler.Compile(NotificationEnvelope);
const refundResourceChecker = TypeCompiler.Compile(RefundResource);

export const paymentEvents = ['TRANSACTION.SUCCESS'] as const;
export const refundEvents = ['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'] as const;

export type NotificationParsing = { readonly ok: true; readonly id: string; readonly notification: ChannelNotification } | { readonly ok: false; readonly reason: string };

export function parseEnvelope(rawBody: string): { ok: true; envelope: NotificationEnvelope } | { ok: false; reason: string } {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: 'the callback body is not JSON' };
  }
  if (!envelopeChecker.Check(body)) return { ok: false, reason: 'the callback body is not an encrypted WeChat Pay notification' };
  return { ok: true, envelope: body };
}

/** Decrypts a verified envelope and maps its resource; the merchant it names must be this one. */
export function notificationFromEnvelope(envelope: NotificationEnvelope, apiV3Key: string, ids: MerchantIds): NotificationParsing {
  const { resource } = envelope;
  const plaintext = aeadDecrypt(resource.ciphertext, apiV3Key, resource.nonce, resource.associated_data ?? '');
  if (plaintext === null) return { ok: false, reason: 'the resource does not decrypt (wrong APIv3 key or a bad tag)' };
  let decrypted: unknown;
  try {
    decrypted = JSON.parse(plaintext);
  } catch {
    return { ok: false, reason: 'the decrypted resource is not JSON' };
  }
  if ((paymentEvents as readonly string[]).includes(envelope.event_type)) {
    if (!checkers.transaction.Check(decrypted)) return { ok: false, reason: 'the decrypted resource is not a transaction' };
    const result = payResultFromTransaction(decrypted, { ...ids, outTradeNo: decrypted.out_trade_no });
    return { ok: true, id: envelope.id, notification: { kind: 'PAYMENT', attemptNo: decrypted.out_trade_no, result } };
  }
  if ((refundEvents as readonly string[]).includes(envelope.event_type)) {
    if (!refundResourceChecker.Check(decrypted)) return { ok: false, reason: 'the decrypted resource is not a refund' };
    if (decrypted.mchid !== ids.mchid) return { ok: false, reason: 'the refund belongs to another merchant' };
    const result = refundResultFromRefund(refundFromResource(decrypted), { outRefundNo: decrypted.out_refund_no });
    return { ok: true, id: envelope.id, notification: { kind: 'REFUND', refundNo: decrypted.out_refund_no, result } };
  }
  // Genuine (signed, and sealed with this merchant's APIv3 key) but about nothing Tongbao does: acknowledged.
  return { ok: true, id: envelope.id, notification: { kind: 'IGNORED', about: `event_type ${envelope.event_type.slice(0, 40)}` } };
}

/** Domestic refunds are in CNY; the callback leaves the currency out. */
function refundFromResource(resource: RefundResource): Refund {
  return {
    refund_id: resource.refund_id,
    out_refund_no: resource.out_refund_no,
    out_trade_no: resource.out_trade_no,
    status: resource.refund_status,
    amount: { total: resource.amount.total, refund: resource.amount.refund, currency: wechatCurrency },
    ...(resource.transaction_id === undefined ? {} : { transaction_id: resource.transaction_id }),
    ...(resource.success_time === undefined ? {} : { success_time: resource.success_time }),
  };
}

/** WeChat's answers to a callback: accepted needs no body; a refusal says FAIL so WeChat retries. */
export const callbackAnswers = {
  accepted: { statusCode: 204, contentType: 'application/json', body: '' },
  rejected: { statusCode: 400, contentType: 'application/json', body: JSON.stringify({ code: 'FAIL', message: '失败' }) },
} as const;
