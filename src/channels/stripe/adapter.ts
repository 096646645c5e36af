/**
 * Tongbao's adapter for Stripe: card payments as PaymentIntents (confirmed at once, captured automatically),
 * refunds, closing an unpaid attempt by canceling its intent, pre-authorization as manual capture, signed
 * webhooks, and the balance transactions of a day as the statement. It talks to Stripe through the official
 * `stripe` package on its own connection pool; Tongbao's numbers are the idempotency keys and ride in
 * metadata. Anything it cannot trust or did not get in time is UNKNOWN.
 *
 * Example:
 *   const adapter = createStripeAdapter({ secretKey: 'sk_test_...', webhookSecret: 'whsec_...', timeoutMs: 10_000 });
 *   const result = await adapter.pay({ attemptNo: 'A1', tradeNo: 'T1', amountMinor: 1999n, currency: 'USD',
 *     payer: { type: 'stripe_payment_method', id: 'pm_card_visa' }, ... });
 *   await adapter.dispose();
 */
import { now } from '../../clock.js';
import type {
  ChannelAcknowledgement,
  ChannelAdapter,
  ChannelCapabilities,
  ChannelCloseResult,
  ChannelPayRequest,
  ChannelPayResult,
  ChannelQueryRequest,
  ChannelQueryResult,
  ChannelRefundQueryRequest,
  ChannelRefundQueryResult,
  ChannelRefundRequest,
  ChannelRefundResult,
  InboundChannelRequest,
  NotificationVerification,
} from '../types.js';
import { createStripeClient, type StripeChannelClient } from './client.js';
import { parseStripeConfig, type StripeConfig } from './config.js';
import { headerValue, notificationFromEvent, signatureHeader, signatureTimestamp } from './events.js';
import { failureReason, findIntent, findRefund } from './lookup.js';
import { createStripePreauth, type StripePreauth } from './preauth.js';
import {
  checkers,
  classifyCallError,
  closeResultFromIntent,
  metadataKeys,
  payExpectation,
  paymentIntentParams,
  payResultFromIntent,
  refundParams,
  refundResultFromRefund,
  stripeCurrencies,
  stripeMaxAmount,
  stripeProducts,
  toStripeAmount,
  utcDayRange,
  type CallFailure,
  type BalanceTransactionWire,
} from './protocol.js';
import { statementCsv } from './statement.js';

export type StripeAdapter = ChannelAdapter & {
  readonly preauth: StripePreauth;
  /** Closes the connection pool. */
  dispose(): Promise<void>;
  /** What JSON.stringify shows: the name and capabilities, never a credential. */
  toJSON(): { name: string; capabilities: Record<string, unknown> };
};

export const stripeCapabilities: ChannelCapabilities = {
  products: [stripeProducts.card],
  currencies: stripeCurrencies,
  resultMode: 'both',
  refund: true,
  partialRefund: true,
  close: true,
  // Stripe has no same-day full reversal distinct from a refund; a refund is the way back.
  cancel: false,
  // Manual capture; completeCancel always answers FAILED because Stripe cannot re-open a captured hold.
  preauth: true,
  payout: false,
  statement: true,
  escrow: true,
  maxAmountMinor: stripeMaxAmount,
};

/** A statement longer than this is refused rather than held in memory. */
const maxStatementRows = 1_000_000;

function failedOrUnknown(failure: CallFailure): { status: 'FAILED'; code: string; message: string } | { status: 'UNKNOWN'; reason: string } {
  return failure.kind === 'rejected' ? { status: 'FAILED', code: failure.code, message: failure.message } : { status: 'UNKNOWN', reason: failure.reason };
}

/** Builds the adapter from configuration as written (validated here; see config.ts). */
export function createStripeAdapter(input: unknown): StripeAdapter {
  const config: StripeConfig = parseStripeConfig(input);
  const client: StripeChannelClient = createStripeClient(config);
  const attemptMatch = (attemptNo: string) => [{ key: metadataKeys.attemptNo, value: attemptNo }];

  async function pay(request: ChannelPayRequest): Promise<ChannelPayResult> {
    const product = request.product ?? stripeProducts.card;
    if (product !== stripeProducts.card) return { status: 'FAILED', code: 'product_not_supported', message: `the Stripe channel has no product ${product}` };
    const money = toStripeAmount(request.amountMinor, request.currency);
    if (!money.ok) return { status: 'FAILED', code: money.code, message: money.message };
    if (!request.payer?.id) return { status: 'FAILED', code: 'payment_method_required', message: 'STRIPE_CARD needs payer.id, a Stripe PaymentMethod id' };
    const paymentMethod = request.payer.id;
    const answer = await client.call((stripe) =>
      stripe.paymentIntents.create(paymentIntentParams(request, money, paymentMethod), { idempotencyKey: request.attemptNo }),
    );
    if (answer.ok) {
      if (!checkers.paymentIntent.Check(answer.value)) return { status: 'UNKNOWN', reason: 'Stripe answered with an unreadable PaymentIntent' };
      return payResultFromIntent(answer.value, payExpectation(request));
    }
    const { failure } = answer;
    if (failure.kind === 'unknown') return { status: 'UNKNOWN', reason: failure.reason };
    // A declined confirmation leaves a PaymentIntent behind; the error carries it.
    const declined = checkers.paymentIntent.Check(failure.paymentIntent) ? failure.paymentIntent.id : undefined;
    return { status: 'FAILED', code: failure.code, message: failure.message, ...(declined ? { channelTradeNo: declined } : {}) };
  }

  async function query({ attemptNo }: ChannelQueryRequest): Promise<ChannelQueryResult> {
    const lookup = await findIntent(client, config, attemptMatch(attemptNo));
    if (!lookup.ok) return { status: 'UNKNOWN', reason: lookup.reason };
    if (!lookup.intent) return { status: 'NOT_FOUND' };
    return payResultFromIntent(lookup.intent, { metadataKey: metadataKeys.attemptNo, number: attemptNo });
  }

  /** The PaymentIntent id a refund goes to (the channel's trade number, or found by the attempt number), or the refund's answer without one. */
  async function refundTarget(request: ChannelRefundRequest): Promise<{ found: true; id: string } | { found: false; result: ChannelRefundResult }> {
    if (request.channelTradeNo?.startsWith('pi_')) return { found: true, id: request.channelTradeNo };
    const lookup = await findIntent(client, config, attemptMatch(request.attemptNo));
    if (!lookup.ok) return { found: false, result: { status: 'UNKNOWN', reason: lookup.reason } };
    if (!lookup.intent) return { found: false, result: { status: 'FAILED', code: 'payment_not_found', message: `Stripe has no payment for ${request.attemptNo}` } };
    return { found: true, id: lookup.intent.id };
  }

  async function refund(request: ChannelRefundRequest): Promise<ChannelRefundResult> {
    const money = toStripeAmount(request.amountMinor, request.currency);
    if (!money.ok) return { status: 'FAILED', code: money.code, message: money.message };
    const target = await refundTarget(request);
    if (!target.found) return target.result;
    const answer = await client.call((stripe) => stripe.refunds.create(refundParams(request, target.id, money.amount), { idempotencyKey: request.refundNo }));
    if (!answer.ok) return failedOrUnknown(answer.failure);
    if (!checkers.refund.Check(answer.value)) return { status: 'UNKNOWN', reason: 'Stripe answered with an unreadable refund' };
    return refundResultFromRefund(answer.value, { metadataKey: metadataKeys.refundNo, number: request.refundNo, amountMinor: request.amountMinor, currency: request.currency });
  }

  async function queryRefund({ refundNo }: ChannelRefundQueryRequest): Promise<ChannelRefundQueryResult> {
    const lookup = await findRefund(client, config, { key: metadataKeys.refundNo, value: refundNo });
    if (!lookup.ok) return { status: 'UNKNOWN', reason: lookup.reason };
    if (!lookup.refund) return { status: 'NOT_FOUND' };
    return refundResultFromRefund(lookup.refund, { metadataKey: metadataKeys.refundNo, number: refundNo });
  }

  async function close(attemptNo: string): Promise<ChannelCloseResult> {
    const lookup = await findIntent(client, config, attemptMatch(attemptNo));
    if (!lookup.ok) return { status: 'UNKNOWN', reason: lookup.reason };
    // Stripe never saw the attempt, so there is nothing that could still be paid.
    if (!lookup.intent) return { status: 'CLOSED' };
    const intent = lookup.intent;
    if (intent.status === 'succeeded' || intent.status === 'canceled') return closeResultFromIntent(intent);
    const canceled = await client.call((stripe) => stripe.paymentIntents.cancel(intent.id));
    if (canceled.ok) {
      return checkers.paymentIntent.Check(canceled.value) ? closeResultFromIntent(canceled.value) : { status: 'UNKNOWN', reason: 'Stripe answered with an unreadable PaymentIntent' };
    }
    if (canceled.failure.kind === 'unknown') return { status: 'UNKNOWN', reason: canceled.failure.reason };
    // Stripe refuses to cancel an intent that moved on (paid meanwhile, or processing): read where it is now.
    const current = await client.call((stripe) => stripe.paymentIntents.retrieve(intent.id));
    if (!current.ok) return { status: 'UNKNOWN', reason: failureReason(current.failure) };
    return checkers.paymentIntent.Check(current.value) ? closeResultFromIntent(current.value) : { status: 'UNKNOWN', reason: 'Stripe answered with an unreadable PaymentIntent' };
  }

  function verifyNotification(inbound: InboundChannelRequest): NotificationVerification {
    try {
      const header = headerValue(inbound.headers, signatureHeader);
      if (!header) return { ok: false, reason: 'missing Stripe-Signature' };
      const signedAt = signatureTimestamp(header);
      if (signedAt === null) return { ok: false, reason: 'the Stripe-Signature header has no single timestamp' };
      const nowMs = now().getTime();
      // constructEvent only refuses old timestamps; one from the future is just as suspect.
      if (Math.abs(nowMs / 1000 - signedAt) > config.webhookToleranceSeconds) return { ok: false, reason: 'stale timestamp' };
      let event: unknown;
      try {
        event = client.webhooks.constructEvent(inbound.rawBody, header, config.webhookSecret.reveal(), config.webhookToleranceSeconds, undefined, nowMs);
      } catch {
        return { ok: false, reason: 'invalid signature' };
      }
      const parsed = notificationFromEvent(event);
      if (!parsed.ok) return parsed;
      // A delivery is named by its event and signed timestamp (see events.ts); a timestamp may lie up to the
      // tolerance either side of now, so the key is remembered for twice the tolerance.
      return { ok: true, notification: parsed.notification, replayKey: `${parsed.eventId}:${signedAt}`, replayWindowMs: 2 * config.webhookToleranceSeconds * 1000 };
    } catch {
      return { ok: false, reason: 'the callback could not be read' };
    }
  }

  function acknowledge(accepted: boolean): ChannelAcknowledgement {
    return accepted
      ? { statusCode: 200, contentType: 'application/json', body: '{"received":true}' }
      : { statusCode: 400, contentType: 'application/json', body: '{"received":false}' };
  }

  async function downloadStatement(date: string): Promise<string> {
    const range = utcDayRange(date);
    if (!range) throw new Error(`statement date must be yyyy-MM-dd, got ${JSON.stringify(date).slice(0, 40)}`);
    const transactions: BalanceTransactionWire[] = [];
    // Problems with what Stripe listed are said as they are; errors of the calls are classified like any other.
    let problem: string | null = null;
    try {
      for await (const transaction of client.paginate((stripe) => stripe.balanceTransactions.list({ created: range, limit: 100 }))) {
        if (!checkers.balanceTransaction.Check(transaction)) problem = 'Stripe listed an unreadable balance transaction';
        else if (transactions.length >= maxStatementRows) problem = `the day has more than ${maxStatementRows} balance transactions`;
        if (problem) break;
        transactions.push(transaction as BalanceTransactionWire);
      }
    } catch (error) {
      problem = failureReason(classifyCallError(error));
    }
    if (problem) throw new Error(`Stripe statement ${date}: ${problem}`);
    return statementCsv(transactions);
  }

  const capabilitiesForJson = { ...stripeCapabilities, maxAmountMinor: String(stripeCapabilities.maxAmountMinor) };

  return {
    name: 'stripe',
    capabilities: stripeCapabilities,
    pay,
    query,
    refund,
    queryRefund,
    close,
    verifyNotification,
    acknowledge,
    downloadStatement,
    preauth: createStripePreauth(client, config),
    dispose: () => client.dispose(),
    toJSON: () => ({ name: 'stripe', capabilities: capabilitiesForJson }),
  };
}
