/**
 * The simulated Stripe account's books and the rules of each API call: PaymentIntents (create with confirm,
 * cancel, capture, update, search, list), Refunds and BalanceTransactions. Every change emits the Event
 * Stripe would emit. HTTP, authentication, idempotency and scenario controls live in simulator.ts.
 */
import type { FormObject } from './form.js';
import { integerParam, stringParam } from './form.js';
import {
  apiVersion, currencyExponents, feeOf, invalidRequest, listPage, mergeMetadata, minimumAmounts, missing, newId, ok, readMetadata, stripeError, testPaymentMethods, unixNow,
  type ApiResult, type BalanceTransactionRecord, type ChargeRecord, type EventRecord, type IntentRecord, type RefundRecord,
} from './objects.js';
import { matchesQuery, parseSearchQuery } from './search.js';

export interface AccountOptions {
  /** The simulator's own URL, for 3-D Secure redirect pages. */
  readonly baseUrl: () => string;
  readonly emit: (event: EventRecord) => void;
  /** How long a refund of a pm_card_refundFail charge stays succeeded before it fails. */
  readonly refundFailDelayMs: number;
}

const cancelableStatuses = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action'];

export class StripeAccount {
  readonly intents = new Map<string, IntentRecord>();
  readonly charges = new Map<string, ChargeRecord>();
  readonly refunds = new Map<string, RefundRecord>();
  readonly balanceTransactions: BalanceTransactionRecord[] = [];
  /** When an intent becomes visible to search (Stripe's search index lags behind writes). */
  private readonly searchableAtMs = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** While on, approved confirmations stay `processing` until settle() decides them. */
  asyncSettlement = false;
  /** While 'pending', new refunds stay pending until settleRefund() decides them. */
  refundSettlement: 'immediate' | 'pending' = 'immediate';
  searchLagMs = 0;

  constructor(private readonly options: AccountOptions) {}

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ---- PaymentIntents ---------------------------------------------------------------------------------

  createIntent(params: FormObject): ApiResult {
    const amount = integerParam(params, 'amount');
    const currency = stringParam(params, 'currency');
    if (amount === undefined) return invalidRequest('Missing required param: amount.', 'parameter_missing', 'amount');
    if (amount === null || amount < 1 || amount > 99_999_999) return invalidRequest('Invalid integer: amount', 'parameter_invalid_integer', 'amount');
    if (!currency) return invalidRequest('Missing required param: currency.', 'parameter_missing', 'currency');
    const exponent = currencyExponents[currency];
    if (exponent === undefined) return invalidRequest(`Invalid currency: ${currency}.`, 'parameter_invalid_empty', 'currency');
    if (amount < (minimumAmounts[currency] ?? 1)) return invalidRequest('Amount must be at least the minimum charge amount.', 'amount_too_small', 'amount');
    if (exponent === 3 && amount % 10 !== 0) return invalidRequest('Three-decimal currency amounts must end in 0.', 'invalid_charge_amount', 'amount');
    const captureMethod = stringParam(params, 'capture_method') ?? 'automatic_async';
    if (!['automatic', 'automatic_async', 'manual'].includes(captureMethod)) return invalidRequest('Invalid capture_method', 'parameter_invalid_empty', 'capture_method');
    const metadata = readMetadata(params);
    if (!metadata.ok) return metadata.result;
    const confirm = stringParam(params, 'confirm') === 'true';
    const paymentMethod = stringParam(params, 'payment_method');
    const returnUrl = stringParam(params, 'return_url');
    if (returnUrl !== undefined && !confirm) return invalidRequest('return_url can only be used with confirm=true.', 'parameter_invalid_empty', 'return_url');
    if (confirm && !paymentMethod) return invalidRequest('You must provide a payment_method to confirm.', 'parameter_missing', 'payment_method');
    if (paymentMethod !== undefined && !Object.hasOwn(testPaymentMethods, paymentMethod)) return invalidRequest(`No such PaymentMethod: '${paymentMethod}'`, 'resource_missing', 'payment_method');
    const id = newId('pi');
    const intent: IntentRecord = {
      id, object: 'payment_intent', amount, amount_capturable: 0, amount_received: 0, currency, status: 'requires_payment_method',
      capture_method: captureMethod as IntentRecord['capture_method'], confirmation_method: 'automatic', created: unixNow(), livemode: false,
      metadata: metadata.metadata, description: stringParam(params, 'description') ?? null, payment_method: paymentMethod ?? null,
      allowed_payment_method_types: ['card'], payment_method_types: ['card'], client_secret: `${id}_secret_${newId('s').slice(2)}`,
      last_payment_error: null, next_action: null, latest_charge: null, canceled_at: null, cancellation_reason: null,
      ...(returnUrl === undefined ? {} : { return_url: returnUrl }),
    };
    this.intents.set(id, intent);
    this.searchableAtMs.set(id, Date.now() + this.searchLagMs);
    if (!confirm) return ok(this.view(intent));
    return this.confirm(intent);
  }

  private confirm(intent: IntentRecord): ApiResult {
    const behaviour = testPaymentMethods[intent.payment_method ?? '']!;
    if (behaviour.kind === 'decline') {
      const charge = this.newCharge(intent, 'failed');
      charge.failure_code = behaviour.code;
      this.decline(intent, { type: 'card_error', code: behaviour.code, decline_code: behaviour.declineCode, message: behaviour.message, charge: charge.id });
      return stripeError(402, { type: 'card_error', code: behaviour.code, decline_code: behaviour.declineCode, message: behaviour.message, charge: charge.id, payment_intent: this.view(intent) });
    }
    if (behaviour.kind === 'authenticate') {
      intent.status = 'requires_action';
      intent.next_action = intent.return_url
        ? { type: 'redirect_to_url', redirect_to_url: { url: `${this.options.baseUrl()}/3ds/${intent.id}`, return_url: intent.return_url } }
        : { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `${this.options.baseUrl()}/3ds/${intent.id}` } };
      this.emit('payment_intent.requires_action', this.view(intent));
      return ok(this.view(intent));
    }
    this.authorize(intent);
    return ok(this.view(intent));
  }

  private decline(intent: IntentRecord, error: Record<string, unknown>): void {
    intent.status = 'requires_payment_method';
    intent.next_action = null;
    intent.last_payment_error = { ...error, payment_method: { id: intent.payment_method, object: 'payment_method', type: 'card' } };
    this.emit('payment_intent.payment_failed', this.view(intent));
  }

  private newCharge(intent: IntentRecord, status: ChargeRecord['status']): ChargeRecord {
    const charge: ChargeRecord = {
      id: newId('ch'), object: 'charge', amount: intent.amount, amount_captured: 0, amount_refunded: 0, captured: false, refunded: false, currency: intent.currency,
      payment_intent: intent.id, payment_method: intent.payment_method ?? '', status, created: unixNow(), balance_transaction: null, failure_code: null,
      metadata: { ...intent.metadata }, livemode: false,
    };
    this.charges.set(charge.id, charge);
    intent.latest_charge = charge.id;
    return charge;
  }

  /** An approved card: processing while settlement is asynchronous, else held or captured at once. */
  private authorize(intent: IntentRecord): void {
    intent.next_action = null;
    if (this.asyncSettlement) {
      intent.status = 'processing';
      this.newCharge(intent, 'pending');
      this.emit('payment_intent.processing', this.view(intent));
      return;
    }
    const charge = intent.latest_charge && this.charges.get(intent.latest_charge)?.status === 'pending' ? this.charges.get(intent.latest_charge)! : this.newCharge(intent, 'succeeded');
    charge.status = 'succeeded';
    if (intent.capture_method === 'manual') {
      intent.status = 'requires_capture';
      intent.amount_capturable = intent.amount;
      this.emit('payment_intent.amount_capturable_updated', this.view(intent));
      return;
    }
    this.capture(intent, charge, intent.amount);
  }

  private capture(intent: IntentRecord, charge: ChargeRecord, amount: number): void {
    intent.status = 'succeeded';
    intent.amount_received = amount;
    intent.amount_capturable = 0;
    charge.captured = true;
    charge.amount_captured = amount;
    charge.balance_transaction = this.book('charge', charge.id, amount, feeOf(amount), intent.currency).id;
    this.emit('payment_intent.succeeded', this.view(intent));
  }

  private book(type: BalanceTransactionRecord['type'], source: string, amount: number, fee: number, currency: string): BalanceTransactionRecord {
    const created = unixNow();
    const transaction: BalanceTransactionRecord = {
      id: newId('txn'), object: 'balance_transaction', amount, fee, net: amount - fee, currency, type, source, created, available_on: created + 2 * 86_400,
      status: 'pending', reporting_category: type, description: null,
    };
    this.balanceTransactions.push(transaction);
    return transaction;
  }

  retrieveIntent(id: string): ApiResult {
    const intent = this.intents.get(id);
    return intent ? ok(this.view(intent)) : missing('payment_intent', id);
  }

  updateIntent(id: string, params: FormObject): ApiResult {
    const intent = this.intents.get(id);
    if (!intent) return missing('payment_intent', id);
    const metadata = readMetadata(params);
    if (!metadata.ok) return metadata.result;
    intent.metadata = mergeMetadata(intent.metadata, metadata.metadata);
    const description = stringParam(params, 'description');
    if (description !== undefined) intent.description = description;
    return ok(this.view(intent));
  }

  cancelIntent(id: string, params: FormObject): ApiResult {
    const intent = this.intents.get(id);
    if (!intent) return missing('payment_intent', id);
    if (!cancelableStatuses.includes(intent.status)) {
      return stripeError(400, {
        type: 'invalid_request_error', code: 'payment_intent_unexpected_state', payment_intent: this.view(intent),
        message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${cancelableStatuses.join(', ')}.`,
      });
    }
    const charge = intent.latest_charge ? this.charges.get(intent.latest_charge) : undefined;
    if (charge && charge.status === 'succeeded' && !charge.captured) {
      // Releasing an authorisation: the uncaptured charge is marked refunded in full.
      charge.refunded = true;
      charge.amount_refunded = charge.amount;
    }
    intent.status = 'canceled';
    intent.canceled_at = unixNow();
    intent.cancellation_reason = stringParam(params, 'cancellation_reason') ?? null;
    intent.amount_capturable = 0;
    intent.next_action = null;
    this.emit('payment_intent.canceled', this.view(intent));
    return ok(this.view(intent));
  }

  captureIntent(id: string, params: FormObject): ApiResult {
    const intent = this.intents.get(id);
    if (!intent) return missing('payment_intent', id);
    if (intent.status !== 'requires_capture') {
      return stripeError(400, {
        type: 'invalid_request_error', code: 'payment_intent_unexpected_state', payment_intent: this.view(intent),
        message: `This PaymentIntent could not be captured because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
      });
    }
    const amount = integerParam(params, 'amount_to_capture') ?? intent.amount_capturable;
    if (amount === null || amount < 1) return invalidRequest('Invalid integer: amount_to_capture', 'parameter_invalid_integer', 'amount_to_capture');
    if (amount > intent.amount_capturable) return invalidRequest('The amount to capture is greater than the amount capturable.', 'amount_too_large', 'amount_to_capture');
    const metadata = readMetadata(params);
    if (!metadata.ok) return metadata.result;
    intent.metadata = mergeMetadata(intent.metadata, metadata.metadata);
    this.capture(intent, this.charges.get(intent.latest_charge!)!, amount);
    return ok(this.view(intent));
  }

  searchIntents(params: FormObject, url: string): ApiResult {
    const text = stringParam(params, 'query');
    if (!text) return invalidRequest('Missing required param: query.', 'parameter_missing', 'query');
    const query = parseSearchQuery(text);
    if (!query.ok) return invalidRequest(`Invalid query: ${query.message}`, 'parameter_invalid_string_empty', 'query');
    const limit = Math.min(Math.max(integerParam(params, 'limit') ?? 10, 1), 100);
    const offset = Number(stringParam(params, 'page') ?? '0') || 0;
    const nowMs = Date.now();
    const hits = [...this.intents.values()]
      .reverse()
      .filter((intent) => (this.searchableAtMs.get(intent.id) ?? 0) <= nowMs && matchesQuery(query, intent))
      .sort((a, b) => b.created - a.created);
    const page = hits.slice(offset, offset + limit);
    const hasMore = hits.length > offset + limit;
    return ok({ object: 'search_result', url, has_more: hasMore, next_page: hasMore ? String(offset + limit) : null, data: page.map((intent) => this.view(intent)) });
  }

  listIntents(params: FormObject, url: string): ApiResult {
    return listPage([...this.intents.values()], params, url, (intent) => this.view(intent));
  }

  // ---- Refunds ----------------------------------------------------------------------------------------

  createRefund(params: FormObject): ApiResult {
    const intentId = stringParam(params, 'payment_intent');
    const chargeId = stringParam(params, 'charge');
    if (!intentId && !chargeId) return invalidRequest('One of the following params should be provided for this request: payment_intent or charge.', 'parameter_missing');
    const intent = intentId ? this.intents.get(intentId) : this.intents.get(this.charges.get(chargeId ?? '')?.payment_intent ?? '');
    if (!intent) return invalidRequest(`No such ${intentId ? 'payment_intent' : 'charge'}: '${intentId ?? chargeId}'`, 'resource_missing', intentId ? 'payment_intent' : 'charge');
    const charge = intent.latest_charge ? this.charges.get(intent.latest_charge) : undefined;
    if (intent.status !== 'succeeded' || !charge?.captured) {
      return invalidRequest(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, 'payment_intent_unexpected_state', 'payment_intent');
    }
    const remaining = charge.amount_captured - charge.amount_refunded;
    if (remaining === 0) return invalidRequest(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
    const amount = integerParam(params, 'amount') ?? remaining;
    if (amount === null || amount < 1) return invalidRequest('Invalid integer: amount', 'parameter_invalid_integer', 'amount');
    if (amount > remaining) return invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount_too_large', 'amount');
    const metadata = readMetadata(params);
    if (!metadata.ok) return metadata.result;
    const refund: RefundRecord = {
      id: newId('re'), object: 'refund', amount, currency: intent.currency, charge: charge.id, payment_intent: intent.id,
      status: this.refundSettlement === 'pending' ? 'pending' : 'succeeded', reason: stringParam(params, 'reason') ?? null,
      metadata: metadata.metadata, created: unixNow(), balance_transaction: null,
    };
    this.refunds.set(refund.id, refund);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount_captured;
    refund.balance_transaction = this.book('refund', refund.id, -amount, 0, refund.currency).id;
    this.emit('refund.created', { ...refund });
    this.emit('charge.refunded', { ...charge });
    if (refund.status === 'succeeded' && testPaymentMethods[charge.payment_method]?.kind === 'approve' && (testPaymentMethods[charge.payment_method] as { refundFails?: boolean }).refundFails) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.failRefund(refund);
      }, this.options.refundFailDelayMs);
      this.timers.add(timer);
    }
    return ok({ ...refund });
  }

  private failRefund(refund: RefundRecord): void {
    if (refund.status === 'failed' || refund.status === 'canceled') return;
    refund.status = 'failed';
    refund.failure_reason = 'expired_or_canceled_card';
    const charge = this.charges.get(refund.charge)!;
    charge.amount_refunded -= refund.amount;
    charge.refunded = false;
    this.book('refund_failure', refund.id, refund.amount, 0, refund.currency);
    this.emit('refund.updated', { ...refund });
    this.emit('refund.failed', { ...refund });
  }

  retrieveRefund(id: string): ApiResult {
    const refund = this.refunds.get(id);
    return refund ? ok({ ...refund }) : missing('refund', id);
  }

  listRefunds(params: FormObject, url: string): ApiResult {
    const intentId = stringParam(params, 'payment_intent');
    const refunds = [...this.refunds.values()].filter((refund) => intentId === undefined || refund.payment_intent === intentId);
    return listPage(refunds, params, url, (refund) => ({ ...refund }));
  }

  listBalanceTransactions(params: FormObject, url: string): ApiResult {
    return listPage(this.balanceTransactions, params, url, (transaction) => ({ ...transaction }));
  }

  // ---- What the payer or the networks do later (scenario controls) -------------------------------------

  /** The payer finishes (or fails) 3-D Secure on the redirect page. */
  completeAuthentication(id: string, succeeded: boolean): void {
    const intent = this.mustFind(id, 'requires_action');
    if (succeeded) this.authorize(intent);
    else this.decline(intent, { type: 'invalid_request_error', code: 'payment_intent_authentication_failure', message: 'The provided PaymentMethod has failed authentication.' });
  }

  /** A processing payment settles: approved, or declined by the network. */
  settle(id: string, outcome: 'succeeded' | 'failed'): void {
    const intent = this.mustFind(id, 'processing');
    if (outcome === 'failed') {
      const charge = this.charges.get(intent.latest_charge!)!;
      charge.status = 'failed';
      this.decline(intent, { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', charge: charge.id });
      return;
    }
    const wasAsync = this.asyncSettlement;
    this.asyncSettlement = false;
    try {
      this.authorize(intent);
    } finally {
      this.asyncSettlement = wasAsync;
    }
  }

  settleRefund(id: string, outcome: 'succeeded' | 'failed'): void {
    const refund = this.refunds.get(id);
    if (!refund || refund.status !== 'pending') throw new Error(`no pending refund ${id}`);
    if (outcome === 'failed') return this.failRefund(refund);
    refund.status = 'succeeded';
    this.emit('refund.updated', { ...refund });
  }

  private mustFind(id: string, status: string): IntentRecord {
    const intent = this.intents.get(id);
    if (!intent || intent.status !== status) throw new Error(`no PaymentIntent ${id} in ${status}`);
    return intent;
  }

  view(intent: IntentRecord): Record<string, unknown> {
    const { return_url: _returnUrl, ...shown } = intent;
    return structuredClone(shown);
  }

  private emit(type: string, object: unknown): void {
    this.options.emit({
      id: newId('evt'), object: 'event', api_version: apiVersion, created: unixNow(), type, livemode: false, pending_webhooks: 1,
      request: { id: null, idempotency_key: null }, data: { object: structuredClone(object) },
    });
  }
}

