/**
 * Stripe's wire protocol as Tongbao uses it: the metadata keys that carry Tongbao's numbers, Stripe's amount
 * rules per currency, the request parameters the adapter sends, TypeBox shapes of the objects it reads back,
 * how an error thrown by the stripe client is classified, and pure functions mapping PaymentIntents, Refunds
 * and Events to channel results. Nothing here does I/O; docs/channels/stripe.md has the tables in prose.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type Stripe from 'stripe';
import { currencyExponent, isSupportedCurrency } from '../../shared/money.js';
import type { ChannelCloseResult, ChannelPayRequest, ChannelPayResult, ChannelRefundRequest, ChannelRefundResult, PayerAction } from '../types.js';

/** Tongbao's numbers live in metadata, the only place Stripe lets a caller put its own reference. */
export const metadataKeys = {
  attemptNo: 'tongbao_attempt_no',
  tradeNo: 'tongbao_trade_no',
  refundNo: 'tongbao_refund_no',
  refundReason: 'tongbao_refund_reason',
  /** The freeze that created a manual-capture PaymentIntent. */
  freezeOperationNo: 'tongbao_operation_no',
  captureOperationNo: 'tongbao_capture_operation_no',
  releaseOperationNo: 'tongbao_release_operation_no',
} as const;

export const stripeProducts = { card: 'STRIPE_CARD' } as const;

// ---------------------------------------------------------------------------------------------------------
// Money

/**
 * Stripe's minor-unit exponent for the currencies Tongbao knows. Stripe documents JPY, KRW and VND as
 * zero-decimal and BHD, JOD and KWD as three-decimal (whose amounts must end in 0); the rest are two-decimal.
 * A currency whose Stripe exponent differed from Tongbao's (ISK and HUF are such special cases at Stripe)
 * would need a conversion, so it is simply not offered.
 */
const stripeExponents: Readonly<Record<string, number>> = {
  CNY: 2, USD: 2, EUR: 2, GBP: 2, HKD: 2, SGD: 2, AUD: 2, CAD: 2, CHF: 2, TWD: 2, MOP: 2,
  JPY: 0, KRW: 0, VND: 0,
  KWD: 3, BHD: 3, JOD: 3,
};

/** Stripe accepts at most eight digits in `amount`. */
export const stripeMaxAmount = 99_999_999n;

/** The currencies the adapter offers: those where Stripe's and Tongbao's exponents agree. */
export const stripeCurrencies: readonly string[] = Object.keys(stripeExponents).filter(
  (currency) => isSupportedCurrency(currency) && currencyExponent(currency) === stripeExponents[currency],
);

export type StripeAmount = { readonly ok: true; readonly amount: number; readonly currency: string } | { readonly ok: false; readonly code: string; readonly message: string };

/** Tongbao's minor units as Stripe's `amount` and lowercase `currency`, or why Stripe cannot take them. */
export function toStripeAmount(amountMinor: bigint, currency: string): StripeAmount {
  if (!stripeCurrencies.includes(currency)) return { ok: false, code: 'currency_not_supported', message: `the Stripe channel does not take ${currency}` };
  if (amountMinor <= 0n || amountMinor > stripeMaxAmount) return { ok: false, code: 'amount_out_of_range', message: `Stripe takes 1 to ${stripeMaxAmount} minor units` };
  if (stripeExponents[currency] === 3 && amountMinor % 10n !== 0n) {
    return { ok: false, code: 'amount_not_representable', message: `Stripe needs ${currency} amounts that end in 0 (whole hundredths)` };
  }
  return { ok: true, amount: Number(amountMinor), currency: currency.toLowerCase() };
}

/** Stripe's integer amount and lowercase currency as Tongbao money, or null when either is unreadable. */
export function fromStripeAmount(amount: number, currency: string): { amountMinor: bigint; currency: string } | null {
  const upper = currency.toUpperCase();
  if (!Number.isSafeInteger(amount) || amount < 0 || currency !== currency.toLowerCase() || !stripeCurrencies.includes(upper)) return null;
  return { amountMinor: BigInt(amount), currency: upper };
}

// ---------------------------------------------------------------------------------------------------------
// Wire shapes of what Tongbao reads back. Extra fields are allowed; these are the ones relied on.

const OptionalText = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const Reference = Type.Union([Type.String(), Type.Null(), Type.Object({ id: Type.String() })]);

export const PaymentIntentWire = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  object: Type.Literal('payment_intent'),
  amount: Type.Integer({ minimum: 0 }),
  amount_capturable: Type.Integer({ minimum: 0 }),
  amount_received: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  status: Type.String(),
  capture_method: Type.String(),
  created: Type.Integer(),
  metadata: Type.Record(Type.String(), Type.String()),
  client_secret: OptionalText,
  canceled_at: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  cancellation_reason: OptionalText,
  last_payment_error: Type.Optional(Type.Union([Type.Null(), Type.Object({ code: OptionalText, decline_code: OptionalText, message: OptionalText })])),
  next_action: Type.Optional(Type.Union([
    Type.Null(),
    Type.Object({ type: Type.String(), redirect_to_url: Type.Optional(Type.Object({ url: Type.String() })) }),
  ])),
});
export type PaymentIntentWire = Static<typeof PaymentIntentWire>;

export const RefundWire = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  object: Type.Literal('refund'),
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  status: Type.Union([Type.String(), Type.Null()]),
  payment_intent: Type.Optional(Reference),
  metadata: Type.Record(Type.String(), Type.String()),
  failure_reason: OptionalText,
  created: Type.Integer(),
});
export type RefundWire = Static<typeof RefundWire>;

export const BalanceTransactionWire = Type.Object({
  id: Type.String(),
  object: Type.Literal('balance_transaction'),
  amount: Type.Integer(),
  fee: Type.Integer(),
  net: Type.Integer(),
  currency: Type.String(),
  type: Type.String(),
  source: Type.Optional(Reference),
  created: Type.Integer(),
});
export type BalanceTransactionWire = Static<typeof BalanceTransactionWire>;

export const checkers = {
  paymentIntent: TypeCompiler.Compile(PaymentIntentWire),
  refund: TypeCompiler.Compile(RefundWire),
  balanceTransaction: TypeCompiler.Compile(BalanceTransactionWire),
};

export function referenceId(reference: Static<typeof Reference> | undefined): string | null {
  if (reference === undefined || reference === null) return null;
  return typeof reference === 'string' ? reference : reference.id;
}

// ---------------------------------------------------------------------------------------------------------
// Requests

/** Stripe caps a metadata value at 500 characters. */
function metadataValue(text: string): string {
  return text.length <= 500 ? text : text.slice(0, 500);
}

/** A confirmed, automatically captured card PaymentIntent for one attempt; the attempt number is its idempotency key. */
export function paymentIntentParams(request: ChannelPayRequest, money: { amount: number; currency: string }, paymentMethod: string): Stripe.PaymentIntentCreateParams {
  return {
    amount: money.amount,
    currency: money.currency,
    confirm: true,
    capture_method: 'automatic',
    payment_method: paymentMethod,
    allowed_payment_method_types: ['card'],
    description: metadataValue(request.subject),
    metadata: { [metadataKeys.attemptNo]: request.attemptNo, [metadataKeys.tradeNo]: request.tradeNo },
    ...(request.returnUrl === undefined ? {} : { return_url: request.returnUrl }),
  };
}

/** A manual-capture PaymentIntent: the card is authorised (held) and captured later. */
export function freezeParams(
  request: { operationNo: string; subject: string; returnUrl?: string },
  money: { amount: number; currency: string },
  paymentMethod: string,
): Stripe.PaymentIntentCreateParams {
  return {
    amount: money.amount,
    currency: money.currency,
    confirm: true,
    capture_method: 'manual',
    payment_method: paymentMethod,
    allowed_payment_method_types: ['card'],
    description: metadataValue(request.subject),
    metadata: { [metadataKeys.freezeOperationNo]: request.operationNo },
    ...(request.returnUrl === undefined ? {} : { return_url: request.returnUrl }),
  };
}

export function refundParams(request: ChannelRefundRequest, paymentIntentId: string, amount: number): Stripe.RefundCreateParams {
  return {
    payment_intent: paymentIntentId,
    amount,
    metadata: {
      [metadataKeys.refundNo]: request.refundNo,
      [metadataKeys.attemptNo]: request.attemptNo,
      ...(request.reason === null ? {} : { [metadataKeys.refundReason]: metadataValue(request.reason) }),
    },
  };
}

/** One clause of Stripe's search query language: metadata['key']:'value', quotes and backslashes escaped. */
export function metadataClause(key: string, value: string): string {
  return `metadata['${key}']:'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Unix seconds of [00:00, 24:00) UTC of a yyyy-MM-dd day, or null for a malformed day. */
export function utcDayRange(date: string): { gte: number; lt: number } | null {
  if (!/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(date)) return null;
  const start = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== date) return null;
  return { gte: start / 1000, lt: start / 1000 + 86_400 };
}

// ---------------------------------------------------------------------------------------------------------
// Errors thrown by the stripe client

/**
 * What a failed call means for money. `rejected` is a 4xx that Stripe guarantees changed nothing (a 402 card
 * decline, a 400 invalid request, a 401/403 key problem, a 404); everything else may have moved money.
 */
export type CallFailure =
  | { readonly kind: 'rejected'; readonly httpStatus: number; readonly type: string; readonly code: string; readonly message: string; readonly paymentIntent: unknown }
  | { readonly kind: 'unknown'; readonly reason: string };

/** The name of the error the adapter's own hard deadline throws. */
export const deadlineErrorName = 'StripeCallDeadline';

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function classifyCallError(error: unknown): CallFailure {
  if (field(error, 'name') === deadlineErrorName) return { kind: 'unknown', reason: 'timeout' };
  const statusCode = field(error, 'statusCode');
  const message = (text(field(error, 'message')) ?? 'no message').slice(0, 200);
  if (typeof statusCode !== 'number') {
    if (field(error, 'type') === 'StripeConnectionError') {
      if (/timeout/i.test(message)) return { kind: 'unknown', reason: 'timeout' };
      const detailCode = text(field(field(error, 'detail'), 'code'));
      return { kind: 'unknown', reason: `network error: ${detailCode ?? message}` };
    }
    // The client throws without a status for an answer that is not JSON, among others.
    return { kind: 'unknown', reason: `unreadable answer: ${message}` };
  }
  const type = text(field(error, 'rawType')) ?? 'unknown_error';
  const code = text(field(error, 'code'));
  const declineCode = text(field(error, 'decline_code'));
  // A reused idempotency key (400 idempotency_error) or one still in use (409) names a request that may have
  // taken effect; 429 and 5xx say nothing certain either.
  const hadNoEffect = [400, 401, 402, 403, 404].includes(statusCode) && type !== 'idempotency_error' && code !== 'rate_limit';
  if (!hadNoEffect) return { kind: 'unknown', reason: `Stripe answered HTTP ${statusCode} ${type}${code ? ` ${code}` : ''}` };
  return {
    kind: 'rejected',
    httpStatus: statusCode,
    type,
    // Stripe's 401 names no code; say what it means rather than its generic type.
    code: statusCode === 402 ? declineCode ?? code ?? 'card_declined' : code ?? (statusCode === 401 ? 'invalid_api_key' : type),
    message,
    paymentIntent: field(error, 'payment_intent'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Answers to Tongbao's results

/** Tongbao's number the object must carry in metadata, and what was asked when the caller knows it. */
export interface Expectation {
  readonly metadataKey: string;
  readonly number: string;
  readonly amountMinor?: bigint;
  readonly currency?: string;
}

/** The object's money when it carries the expected number, amount and currency; otherwise why not. */
export function checkEcho(
  echo: { metadata: Readonly<Record<string, string>>; amount: number; currency: string },
  expected: Expectation,
): { ok: true; amountMinor: bigint; currency: string } | { ok: false; reason: string } {
  const carried = echo.metadata[expected.metadataKey];
  if (carried !== expected.number) return { ok: false, reason: `Stripe answered for ${expected.metadataKey}=${String(carried).slice(0, 64)}, not ${expected.number}` };
  const money = fromStripeAmount(echo.amount, echo.currency);
  if (!money) return { ok: false, reason: `Stripe echoed unreadable money ${echo.amount} ${echo.currency.slice(0, 8)}` };
  if (expected.amountMinor !== undefined && money.amountMinor !== expected.amountMinor) {
    return { ok: false, reason: `amount mismatch: asked ${expected.amountMinor}, Stripe echoed ${money.amountMinor}` };
  }
  if (expected.currency !== undefined && money.currency !== expected.currency) {
    return { ok: false, reason: `currency mismatch: asked ${expected.currency}, Stripe echoed ${money.currency}` };
  }
  return { ok: true, ...money };
}

function unknownStatus(kind: string, status: string | null): { status: 'UNKNOWN'; reason: string } {
  return { status: 'UNKNOWN', reason: `unexpected ${kind} status "${String(status).slice(0, 40)}"` };
}

export function instantOf(unixSeconds: number): Date {
  return new Date(unixSeconds * 1000);
}

/** What the payer must do for a PaymentIntent in requires_action. */
export function payerActionOf(intent: PaymentIntentWire): PayerAction | undefined {
  const next = intent.next_action;
  if (next?.type === 'redirect_to_url' && next.redirect_to_url) return { type: 'REDIRECT', url: next.redirect_to_url.url };
  if (next?.type === 'use_stripe_sdk' && intent.client_secret) {
    return { type: 'SDK', parameters: { payment_intent: intent.id, client_secret: intent.client_secret } };
  }
  return undefined;
}

/** The decline a PaymentIntent recorded, as a FAILED result. */
function declineOf(intent: PaymentIntentWire) {
  const error = intent.last_payment_error;
  if (!error) return null;
  return { status: 'FAILED' as const, code: error.decline_code ?? error.code ?? 'payment_failed', message: error.message ?? 'the payment was declined', channelTradeNo: intent.id };
}

/**
 * A card PaymentIntent as a payment result. `paidAt` is when success was observed by Stripe where known (an
 * event's time); Stripe's PaymentIntent carries no success time, so its creation time stands in.
 */
export function payResultFromIntent(intent: PaymentIntentWire, expected: Expectation, paidAt?: Date): ChannelPayResult {
  const echo = checkEcho(intent, expected);
  if (!echo.ok) return { status: 'UNKNOWN', reason: echo.reason };
  const channelTradeNo = intent.id;
  switch (intent.status) {
    case 'succeeded':
      if (intent.amount_received !== intent.amount) return { status: 'UNKNOWN', reason: `Stripe received ${intent.amount_received} of ${intent.amount}` };
      return { status: 'SUCCEEDED', channelTradeNo, amountMinor: echo.amountMinor, currency: echo.currency, paidAt: paidAt ?? instantOf(intent.created) };
    case 'processing':
    case 'requires_confirmation':
      return { status: 'PENDING', channelTradeNo };
    case 'requires_action': {
      const payerAction = payerActionOf(intent);
      return payerAction ? { status: 'PENDING', channelTradeNo, payerAction } : { status: 'PENDING', channelTradeNo };
    }
    case 'requires_payment_method':
      // Without a recorded error the intent was never confirmed; it can still be paid, so it is not failed.
      return declineOf(intent) ?? { status: 'PENDING', channelTradeNo };
    case 'canceled':
      return { status: 'FAILED', code: 'canceled', message: `the PaymentIntent was canceled (${intent.cancellation_reason ?? 'no reason'})`, channelTradeNo };
    default:
      // requires_capture cannot happen with automatic capture; like any other status it is never success.
      return unknownStatus('PaymentIntent', intent.status);
  }
}

export function refundResultFromRefund(refund: RefundWire, expected: Expectation): ChannelRefundResult {
  const echo = checkEcho(refund, expected);
  if (!echo.ok) return { status: 'UNKNOWN', reason: echo.reason };
  switch (refund.status) {
    case 'succeeded':
      return { status: 'SUCCEEDED', channelRefundNo: refund.id, amountMinor: echo.amountMinor, currency: echo.currency };
    case 'pending':
    case 'requires_action':
      return { status: 'PENDING', channelRefundNo: refund.id };
    case 'failed':
      return { status: 'FAILED', code: refund.failure_reason ?? 'failed', message: 'Stripe could not return the money to the payer' };
    case 'canceled':
      return { status: 'FAILED', code: 'canceled', message: 'the refund was canceled' };
    default:
      return unknownStatus('refund', refund.status);
  }
}

export function closeResultFromIntent(intent: PaymentIntentWire): ChannelCloseResult {
  switch (intent.status) {
    case 'canceled':
      return { status: 'CLOSED' };
    case 'succeeded':
      return { status: 'ALREADY_PAID' };
    default:
      return { status: 'UNKNOWN', reason: `the PaymentIntent is still ${intent.status.slice(0, 40)}` };
  }
}

/** A payment's expected echo when the request is known. */
export function payExpectation(request: { attemptNo: string; amountMinor: bigint; currency: string }): Expectation {
  return { metadataKey: metadataKeys.attemptNo, number: request.attemptNo, amountMinor: request.amountMinor, currency: request.currency };
}
