/**
 * The sandbox bank's wire protocol: header names, the string to sign, Ed25519 sign/verify helpers,
 * the JSON shapes both sides exchange, and pure functions that map the bank's answers to channel results.
 * Nothing here does I/O or keeps state, so both the simulator and the adapter share it and it is unit tested
 * on its own. docs/sandbox.md describes the protocol in prose.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type {
  ChannelCloseResult,
  ChannelNotification,
  ChannelPayRequest,
  ChannelPayResult,
  ChannelQueryResult,
  ChannelRefundQueryResult,
  ChannelRefundRequest,
  ChannelRefundResult,
} from '../types.js';

export const sandboxHeaders = {
  mchId: 'X-Sandbox-Mch-Id',
  timestamp: 'X-Sandbox-Timestamp',
  nonce: 'X-Sandbox-Nonce',
  signature: 'X-Sandbox-Signature',
  /**
   * Callbacks only: the path the bank signed. Tongbao's callback handler hands the adapter headers and body
   * but not the URL it was called at, so the bank states the path; the signature covers it.
   */
  callbackPath: 'X-Sandbox-Path',
} as const;

/** Requests, responses and callbacks older or newer than this are refused, which bounds how long nonces are kept. */
export const timestampWindowMs = 5 * 60 * 1000;

/** The bank's statement zone is China Standard Time, UTC+8 all year (no daylight saving since 1991). */
export const statementZoneOffsetMs = 8 * 60 * 60 * 1000;
export const statementHeader = 'bank_txn_no,out_no,type,amount,currency,status,created_at,finished_at';
export const statementDatePattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

// ---------------------------------------------------------------------------------------------------------
// Signing

export interface SignedParts {
  readonly timestamp: string;
  readonly nonce: string;
  readonly method: string;
  /** The request path as sent, including any query string (for callbacks: the notify URL's path). */
  readonly path: string;
  readonly body: string;
}

export function stringToSign(parts: SignedParts): string {
  return `${parts.timestamp}\n${parts.nonce}\n${parts.method.toUpperCase()} ${parts.path}\n${parts.body}`;
}

export function signMessage(message: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

const ed25519SignatureBase64 = /^[A-Za-z0-9+/]{86}==$/;

export function verifyMessage(message: string, signature: string, publicKey: KeyObject): boolean {
  if (!ed25519SignatureBase64.test(signature)) return false;
  try {
    return verify(null, Buffer.from(message, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The four signature headers for one message, signed now with a fresh nonce. */
export function signedHeaders(input: {
  readonly mchId: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly privateKey: KeyObject;
  readonly nowMs: number;
  readonly nonce: string;
}): Record<string, string> {
  const timestamp = String(input.nowMs);
  const signature = signMessage(stringToSign({ timestamp, nonce: input.nonce, method: input.method, path: input.path, body: input.body }), input.privateKey);
  return {
    [sandboxHeaders.mchId]: input.mchId,
    [sandboxHeaders.timestamp]: timestamp,
    [sandboxHeaders.nonce]: input.nonce,
    [sandboxHeaders.signature]: signature,
  };
}

export interface SignatureHeaders {
  readonly mchId: string;
  readonly timestamp: string;
  readonly timestampMs: number;
  readonly nonce: string;
  readonly signature: string;
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

export type SignatureHeadersReading = { readonly ok: true; readonly value: SignatureHeaders } | { readonly ok: false; readonly reason: string };

export function readSignatureHeaders(headers: HeaderBag): SignatureHeadersReading {
  const mchId = headerValue(headers, sandboxHeaders.mchId);
  const timestamp = headerValue(headers, sandboxHeaders.timestamp);
  const nonce = headerValue(headers, sandboxHeaders.nonce);
  const signature = headerValue(headers, sandboxHeaders.signature);
  if (!mchId || !timestamp || !nonce || !signature) return { ok: false, reason: 'missing signature headers' };
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'the timestamp is not unix milliseconds' };
  if (!/^[0-9a-f]{16,64}$/.test(nonce)) return { ok: false, reason: 'the nonce is not 16 to 64 hex digits' };
  return { ok: true, value: { mchId, timestamp, timestampMs: Number(timestamp), nonce, signature } };
}

export function isFresh(timestampMs: number, nowMs: number): boolean {
  return Math.abs(nowMs - timestampMs) <= timestampWindowMs;
}

// ---------------------------------------------------------------------------------------------------------
// Wire shapes

export const outNo = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
/** Integer minor units as a decimal string: positive, no leading zeros, at most 10^16 - 1. */
export const amountText = Type.String({ pattern: '^[1-9][0-9]{0,15}$' });
export const currencyCode = Type.String({ pattern: '^[A-Z]{3}$' });
export const isoTimestamp = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})$' });
export const httpUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 });

export const PaymentRequestBody = Type.Object(
  {
    out_trade_no: outNo,
    amount: amountText,
    currency: currencyCode,
    subject: Type.String({ minLength: 1, maxLength: 256 }),
    expire_at: isoTimestamp,
    notify_url: httpUrl,
    /** Pay under a signed agreement (quick pay or withholding): the bank's agreement number, no card data. */
    agreement_no: Type.Optional(outNo),
  },
  { additionalProperties: false },
);
export type PaymentRequestBody = Static<typeof PaymentRequestBody>;

export const RefundRequestBody = Type.Object(
  {
    out_refund_no: outNo,
    out_trade_no: outNo,
    amount: amountText,
    currency: currencyCode,
    reason: Type.Optional(Type.String({ maxLength: 256 })),
    notify_url: httpUrl,
  },
  { additionalProperties: false },
);
export type RefundRequestBody = Static<typeof RefundRequestBody>;

export const OutTradeNoParams = Type.Object({ out_trade_no: outNo });
export const OutRefundNoParams = Type.Object({ out_refund_no: outNo });
export const StatementParams = Type.Object({ date: Type.String({ pattern: statementDatePattern.source }) });

// Answers are read leniently: status is any string so that a status this code does not know maps to UNKNOWN
// instead of failing the parse, and fields the bank may add later are ignored.
export const PaymentObject = Type.Object({
  bank_txn_no: Type.String({ minLength: 1 }),
  out_trade_no: Type.String(),
  status: Type.String(),
  amount: Type.String(),
  currency: Type.String(),
  subject: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String()),
  paid_at: Type.Optional(Type.String()),
  finished_at: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_message: Type.Optional(Type.String()),
});
export type PaymentObject = Static<typeof PaymentObject>;

export const RefundObject = Type.Object({
  bank_refund_no: Type.String({ minLength: 1 }),
  out_refund_no: Type.String(),
  out_trade_no: Type.String(),
  status: Type.String(),
  amount: Type.String(),
  currency: Type.String(),
  reason: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String()),
  finished_at: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_message: Type.Optional(Type.String()),
});
export type RefundObject = Static<typeof RefundObject>;

export const CloseAnswer = Type.Object({ out_trade_no: Type.String(), status: Type.String() });
export type CloseAnswer = Static<typeof CloseAnswer>;

export const ErrorAnswer = Type.Object({ code: Type.String(), message: Type.Optional(Type.String()) });
export type ErrorAnswer = Static<typeof ErrorAnswer>;

/** A callback body: the same object a query answers with, plus which kind of object it is. */
export type PaymentEvent = PaymentObject & { event: 'payment' };
export type RefundEvent = RefundObject & { event: 'refund' };

const checkers = {
  payment: TypeCompiler.Compile(PaymentObject),
  refund: TypeCompiler.Compile(RefundObject),
  close: TypeCompiler.Compile(CloseAnswer),
  error: TypeCompiler.Compile(ErrorAnswer),
};

/**
 * Every HTTP-level rejection the bank answers with. `hadNoEffect` says the bank guarantees that the rejected
 * request changed nothing; only those let the adapter report FAILED instead of UNKNOWN.
 */
export const bankErrors = {
  MISSING_SIGNATURE: { httpStatus: 401, hadNoEffect: true, message: 'the signature headers are missing or malformed' },
  UNKNOWN_MERCHANT: { httpStatus: 401, hadNoEffect: true, message: 'no merchant has this id' },
  STALE_REQUEST: { httpStatus: 401, hadNoEffect: true, message: 'the timestamp is more than 5 minutes from the bank clock' },
  INVALID_SIGNATURE: { httpStatus: 401, hadNoEffect: true, message: 'the signature does not verify' },
  // A repeated nonce means the same signed request arrived twice; the first copy may have taken effect.
  REPLAYED_NONCE: { httpStatus: 401, hadNoEffect: false, message: 'this nonce was already used' },
  INVALID_REQUEST: { httpStatus: 400, hadNoEffect: true, message: 'the request body or path is invalid' },
  NOT_FOUND: { httpStatus: 404, hadNoEffect: true, message: 'no such payment, refund or pre-authorization operation' },
  NO_SUCH_ENDPOINT: { httpStatus: 404, hadNoEffect: true, message: 'no such endpoint' },
  // The out number already names another payment or refund, which may well have moved money.
  DUPLICATE_OUT_TRADE_NO: { httpStatus: 409, hadNoEffect: false, message: 'out_trade_no was already used with a different amount or currency' },
  DUPLICATE_OUT_REFUND_NO: { httpStatus: 409, hadNoEffect: false, message: 'out_refund_no was already used with different parameters' },
  DUPLICATE_OUT_AGREEMENT_NO: { httpStatus: 409, hadNoEffect: true, message: 'out_agreement_no was already used for another card, type or mobile' },
  // Checked before the payment is recorded, so nothing was charged.
  AGREEMENT_NOT_ACTIVE: { httpStatus: 409, hadNoEffect: true, message: 'the agreement does not exist for this merchant or is not signed' },
  DUPLICATE_OUT_OPERATION_NO: { httpStatus: 409, hadNoEffect: false, message: 'out_operation_no was already used with different parameters' },
  DUPLICATE_OUT_PAYOUT_NO: { httpStatus: 409, hadNoEffect: false, message: 'out_payout_no was already used with different parameters' },
  OUT_TRADE_NO_CLOSED: { httpStatus: 409, hadNoEffect: true, message: 'out_trade_no was closed before any payment was made' },
  INTERNAL_ERROR: { httpStatus: 500, hadNoEffect: false, message: 'the bank failed' },
  CAPACITY_EXCEEDED: { httpStatus: 503, hadNoEffect: true, message: 'the sandbox bank holds as many records as it may' },
} as const;
export type BankErrorCode = keyof typeof bankErrors;

function hadNoEffect(code: string): boolean {
  return Object.hasOwn(bankErrors, code) && bankErrors[code as BankErrorCode].hadNoEffect;
}

// ---------------------------------------------------------------------------------------------------------
// Requests from Tongbao's types

export function paymentRequestBody(request: ChannelPayRequest): PaymentRequestBody {
  return {
    out_trade_no: request.attemptNo,
    amount: request.amountMinor.toString(),
    currency: request.currency,
    subject: request.subject,
    expire_at: request.expiresAt.toISOString(),
    notify_url: request.notifyUrl,
    // The sandbox takes only agreements as payers; other payer types are for other channels' products.
    ...(request.payer?.type === 'AGREEMENT' ? { agreement_no: request.payer.id } : {}),
  };
}

export function refundRequestBody(request: ChannelRefundRequest): RefundRequestBody {
  return {
    out_refund_no: request.refundNo,
    out_trade_no: request.attemptNo,
    amount: request.amountMinor.toString(),
    currency: request.currency,
    ...(request.reason === null ? {} : { reason: request.reason }),
    notify_url: request.notifyUrl,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Answers to Tongbao's types

/** A verified HTTP answer from the bank: its status code and its body parsed as JSON (undefined if it was not JSON). */
export interface BankAnswer {
  readonly statusCode: number;
  readonly body: unknown;
}

export function parseMinor(text: string): bigint | null {
  return /^(0|[1-9][0-9]{0,17})$/.test(text) ? BigInt(text) : null;
}

export function parseInstant(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** What the caller asked for; the bank's echo must match it. Queries know only the number. */
export interface Expectation {
  readonly outNo: string;
  readonly amountMinor?: bigint;
  readonly currency?: string;
}

/** A reason the echo differs from what was asked, or null when it matches. */
export function echoMismatch(echo: { outNo: string; amount: string; currency: string }, expected: Expectation): string | null {
  if (echo.outNo !== expected.outNo) return `the bank answered for ${echo.outNo}, not ${expected.outNo}`;
  const amountMinor = parseMinor(echo.amount);
  if (amountMinor === null) return `the bank echoed an unreadable amount "${echo.amount.slice(0, 40)}"`;
  if (expected.amountMinor !== undefined && amountMinor !== expected.amountMinor) {
    return `amount mismatch: asked ${expected.amountMinor}, the bank echoed ${amountMinor}`;
  }
  if (expected.currency !== undefined && echo.currency !== expected.currency) {
    return `currency mismatch: asked ${expected.currency}, the bank echoed ${echo.currency}`;
  }
  return null;
}

export function payResultFromPayment(payment: PaymentObject, expected: Expectation): ChannelPayResult {
  const mismatch = echoMismatch({ outNo: payment.out_trade_no, amount: payment.amount, currency: payment.currency }, expected);
  if (mismatch) return { status: 'UNKNOWN', reason: mismatch };
  const channelTradeNo = payment.bank_txn_no;
  switch (payment.status) {
    case 'SUCCEEDED': {
      const paidAt = parseInstant(payment.paid_at);
      if (!paidAt) return { status: 'UNKNOWN', reason: 'the bank reported success without a readable paid_at' };
      return { status: 'SUCCEEDED', channelTradeNo, amountMinor: BigInt(payment.amount), currency: payment.currency, paidAt };
    }
    case 'PROCESSING':
      return { status: 'PENDING', channelTradeNo };
    case 'FAILED':
      return { status: 'FAILED', code: payment.error_code ?? 'FAILED', message: payment.error_message ?? 'the bank declined the payment', channelTradeNo };
    case 'CLOSED':
      return { status: 'FAILED', code: 'CLOSED', message: 'the payment was closed before it was paid', channelTradeNo };
    default:
      return { status: 'UNKNOWN', reason: `unknown payment status "${payment.status.slice(0, 40)}"` };
  }
}

export function refundResultFromRefund(refund: RefundObject, expected: Expectation): ChannelRefundResult {
  const mismatch = echoMismatch({ outNo: refund.out_refund_no, amount: refund.amount, currency: refund.currency }, expected);
  if (mismatch) return { status: 'UNKNOWN', reason: mismatch };
  const channelRefundNo = refund.bank_refund_no;
  switch (refund.status) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', channelRefundNo, amountMinor: BigInt(refund.amount), currency: refund.currency };
    case 'PROCESSING':
      return { status: 'PENDING', channelRefundNo };
    case 'FAILED':
      return { status: 'FAILED', code: refund.error_code ?? 'FAILED', message: refund.error_message ?? 'the bank refused the refund' };
    default:
      return { status: 'UNKNOWN', reason: `unknown refund status "${refund.status.slice(0, 40)}"` };
  }
}

export function unexpectedAnswer(answer: BankAnswer): { status: 'UNKNOWN'; reason: string } {
  const code = checkers.error.Check(answer.body) ? ` ${answer.body.code}` : '';
  return { status: 'UNKNOWN', reason: `the bank answered HTTP ${answer.statusCode}${code}` };
}

/** A 4xx the bank guarantees had no effect, as a FAILED result; null for anything else. */
export function rejectionWithoutEffect(answer: BankAnswer): { status: 'FAILED'; code: string; message: string } | null {
  if (answer.statusCode < 400 || answer.statusCode >= 500 || !checkers.error.Check(answer.body)) return null;
  if (!hadNoEffect(answer.body.code) || answer.body.code === 'NOT_FOUND' || answer.body.code === 'NO_SUCH_ENDPOINT') return null;
  return { status: 'FAILED', code: answer.body.code, message: answer.body.message ?? 'the bank rejected the request' };
}

export function isNotFound(answer: BankAnswer): boolean {
  return answer.statusCode === 404 && checkers.error.Check(answer.body) && answer.body.code === 'NOT_FOUND';
}

export function payResultFromAnswer(answer: BankAnswer, request: ChannelPayRequest): ChannelPayResult {
  if (answer.statusCode === 200) {
    if (!checkers.payment.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable payment' };
    return payResultFromPayment(answer.body, { outNo: request.attemptNo, amountMinor: request.amountMinor, currency: request.currency });
  }
  return rejectionWithoutEffect(answer) ?? unexpectedAnswer(answer);
}

export function queryResultFromAnswer(answer: BankAnswer, attemptNo: string): ChannelQueryResult {
  if (answer.statusCode === 200) {
    if (!checkers.payment.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable payment' };
    return payResultFromPayment(answer.body, { outNo: attemptNo });
  }
  if (isNotFound(answer)) return { status: 'NOT_FOUND' };
  return unexpectedAnswer(answer);
}

export function refundResultFromAnswer(answer: BankAnswer, request: ChannelRefundRequest): ChannelRefundResult {
  if (answer.statusCode === 200) {
    if (!checkers.refund.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable refund' };
    return refundResultFromRefund(answer.body, { outNo: request.refundNo, amountMinor: request.amountMinor, currency: request.currency });
  }
  return rejectionWithoutEffect(answer) ?? unexpectedAnswer(answer);
}

export function refundQueryResultFromAnswer(answer: BankAnswer, refundNo: string): ChannelRefundQueryResult {
  if (answer.statusCode === 200) {
    if (!checkers.refund.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable refund' };
    return refundResultFromRefund(answer.body, { outNo: refundNo });
  }
  if (isNotFound(answer)) return { status: 'NOT_FOUND' };
  return unexpectedAnswer(answer);
}

export function closeResultFromAnswer(answer: BankAnswer, attemptNo: string): ChannelCloseResult {
  if (answer.statusCode !== 200) return unexpectedAnswer(answer);
  if (!checkers.close.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable close result' };
  if (answer.body.out_trade_no !== attemptNo) return { status: 'UNKNOWN', reason: `the bank answered for ${answer.body.out_trade_no}, not ${attemptNo}` };
  switch (answer.body.status) {
    case 'CLOSED':
      return { status: 'CLOSED' };
    case 'SUCCEEDED':
      return { status: 'ALREADY_PAID' };
    default:
      return { status: 'UNKNOWN', reason: `unknown close status "${answer.body.status.slice(0, 40)}"` };
  }
}

export type NotificationParsing = { readonly ok: true; readonly notification: ChannelNotification } | { readonly ok: false; readonly reason: string };

/** Parses a verified callback body. The callback names its own object, so only the echo's shape is checked here. */
export function notificationFromBody(body: unknown): NotificationParsing {
  if (typeof body !== 'object' || body === null || !('event' in body)) return { ok: false, reason: 'the callback has no event' };
  if (body.event === 'payment' && checkers.payment.Check(body)) {
    return { ok: true, notification: { kind: 'PAYMENT', attemptNo: body.out_trade_no, result: payResultFromPayment(body, { outNo: body.out_trade_no }) } };
  }
  if (body.event === 'refund' && checkers.refund.Check(body)) {
    return { ok: true, notification: { kind: 'REFUND', refundNo: body.out_refund_no, result: refundResultFromRefund(body, { outNo: body.out_refund_no }) } };
  }
  return { ok: false, reason: 'the callback body is not a payment or refund event' };
}

/** The statement day (yyyy-MM-dd in UTC+8) an instant falls on. */
export function statementDateOf(instant: Date): string {
  return new Date(instant.getTime() + statementZoneOffsetMs).toISOString().slice(0, 10);
}
