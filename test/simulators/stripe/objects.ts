/**
 * The simulated Stripe account's objects (PaymentIntents, Charges, Refunds, BalanceTransactions, Events) as
 * Stripe's API shows them, the magic test PaymentMethods, Stripe's error bodies, and list pagination.
 */
import { randomBytes } from 'node:crypto';
import type { FormObject } from './form.js';

export const apiVersion = '2026-10-28.endive';

export interface IntentRecord {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: string;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  confirmation_method: 'automatic';
  created: number;
  livemode: false;
  metadata: Record<string, string>;
  description: string | null;
  payment_method: string | null;
  allowed_payment_method_types: string[];
  payment_method_types: string[];
  client_secret: string;
  last_payment_error: Record<string, unknown> | null;
  next_action: Record<string, unknown> | null;
  latest_charge: string | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  return_url?: string;
}

export interface ChargeRecord {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  refunded: boolean;
  currency: string;
  payment_intent: string;
  payment_method: string;
  status: 'pending' | 'succeeded' | 'failed';
  created: number;
  balance_transaction: string | null;
  failure_code: string | null;
  metadata: Record<string, string>;
  livemode: false;
}

export interface RefundRecord {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  status: 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';
  failure_reason?: string;
  reason: string | null;
  metadata: Record<string, string>;
  created: number;
  balance_transaction: string | null;
}

export interface BalanceTransactionRecord {
  id: string;
  object: 'balance_transaction';
  amount: number;
  fee: number;
  net: number;
  currency: string;
  type: 'charge' | 'refund' | 'refund_failure';
  source: string;
  created: number;
  available_on: number;
  status: 'pending' | 'available';
  reporting_category: string;
  description: string | null;
}

export interface EventRecord {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  type: string;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: unknown };
}

export function newId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `${prefix}_${[...randomBytes(24)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** What a magic test PaymentMethod does when a PaymentIntent is confirmed with it. */
export type CardBehaviour =
  | { readonly kind: 'approve'; readonly refundFails?: boolean }
  | { readonly kind: 'decline'; readonly code: string; readonly declineCode: string; readonly message: string }
  | { readonly kind: 'authenticate' };

export const testPaymentMethods: Readonly<Record<string, CardBehaviour>> = {
  pm_card_visa: { kind: 'approve' },
  pm_card_mastercard: { kind: 'approve' },
  pm_card_amex: { kind: 'approve' },
  // Stripe's 4000 0000 0000 5126: the charge succeeds, and a refund of it fails some time after it succeeded.
  pm_card_refundFail: { kind: 'approve', refundFails: true },
  pm_card_chargeDeclined: { kind: 'decline', code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { kind: 'decline', code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  pm_card_chargeDeclinedExpiredCard: { kind: 'decline', code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.' },
  pm_card_authenticationRequired: { kind: 'authenticate' },
  pm_card_threeDSecure2Required: { kind: 'authenticate' },
};

/** Currencies the simulated account can charge in, with Stripe's minor-unit exponent. */
export const currencyExponents: Readonly<Record<string, number>> = {
  usd: 2, eur: 2, gbp: 2, cny: 2, hkd: 2, sgd: 2, aud: 2, cad: 2, chf: 2, twd: 2, mop: 2, nzd: 2, sek: 2, dkk: 2, nok: 2, mxn: 2, brl: 2, inr: 2, thb: 2, myr: 2,
  jpy: 0, krw: 0, vnd: 0, clp: 0, pyg: 0, xaf: 0, xof: 0, ugx: 0,
  kwd: 3, bhd: 3, jod: 3, omr: 3, tnd: 3,
};

/** Stripe's minimum charge, in minor units, for the currencies that are commonly tested. */
export const minimumAmounts: Readonly<Record<string, number>> = { usd: 50, eur: 50, gbp: 30, jpy: 50 };

/** Stripe's fee in the simulation: 2.9% of the charge, rounded down. */
export function feeOf(amount: number): number {
  return Math.floor((amount * 29) / 1000);
}

export interface ApiResult {
  readonly status: number;
  readonly body: unknown;
  /** False for validation failures, which Stripe does not store under the idempotency key. */
  readonly remember?: boolean;
}

export function ok(body: unknown): ApiResult {
  return { status: 200, body };
}

export function stripeError(
  status: number,
  error: { type: string; code?: string; decline_code?: string; message: string; param?: string; payment_intent?: unknown; charge?: string },
  remember = true,
): ApiResult {
  const docUrl = error.code ? { doc_url: `https://docs.stripe.com/error-codes/${error.code.replace(/_/g, '-')}` } : {};
  return { status, body: { error: { ...error, ...docUrl, request_log_url: null } }, remember };
}

export function invalidRequest(message: string, code?: string, param?: string): ApiResult {
  return stripeError(400, { type: 'invalid_request_error', ...(code ? { code } : {}), ...(param ? { param } : {}), message }, false);
}

export function missing(kind: string, id: string, param?: string): ApiResult {
  return stripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'`, ...(param ? { param } : {}) });
}

/** The request's metadata: at most 50 keys, each value a string of at most 500 characters. */
export function readMetadata(params: FormObject): { ok: true; metadata: Record<string, string> } | { ok: false; result: ApiResult } {
  const value = params.metadata;
  if (value === undefined || value === '') return { ok: true, metadata: {} };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, result: invalidRequest('Invalid object', 'parameter_invalid_empty', 'metadata') };
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string' || key.length > 40 || item.length > 500) return { ok: false, result: invalidRequest(`Invalid metadata value for ${key}`, 'parameter_invalid_string_blank', `metadata[${key}]`) };
    metadata[key] = item;
  }
  if (Object.keys(metadata).length > 50) return { ok: false, result: invalidRequest('Metadata can have at most 50 keys', undefined, 'metadata') };
  return { ok: true, metadata };
}

/** Metadata merged the way updates do it: an empty value removes the key. */
export function mergeMetadata(current: Record<string, string>, update: Record<string, string>): Record<string, string> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** Stripe's list pagination over objects newest first: created filters, starting_after, limit 1..100. */
export function listPage<T extends { id: string; created: number }>(records: readonly T[], params: FormObject, url: string, view: (record: T) => unknown): ApiResult {
  const limitText = typeof params.limit === 'string' ? params.limit : '10';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) return invalidRequest('Invalid limit: must be between 1 and 100', 'parameter_invalid_integer', 'limit');
  let items = [...records].reverse();
  const created = params.created;
  if (typeof created === 'string') items = items.filter((item) => item.created === Number(created));
  else if (created && !Array.isArray(created)) {
    const bound = (name: string) => (typeof created[name] === 'string' ? Number(created[name]) : undefined);
    const [gte, gt, lte, lt] = [bound('gte'), bound('gt'), bound('lte'), bound('lt')];
    items = items.filter((item) => (gte === undefined || item.created >= gte) && (gt === undefined || item.created > gt) && (lte === undefined || item.created <= lte) && (lt === undefined || item.created < lt));
  }
  items.sort((a, b) => b.created - a.created);
  const after = typeof params.starting_after === 'string' ? params.starting_after : undefined;
  if (after !== undefined) {
    const index = items.findIndex((item) => item.id === after);
    if (index < 0) return missing('object', after, 'starting_after');
    items = items.slice(index + 1);
  }
  return ok({ object: 'list', url, has_more: items.length > limit, data: items.slice(0, limit).map(view) });
}
