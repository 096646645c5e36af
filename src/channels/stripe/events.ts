/**
 * Stripe webhooks: reading the Stripe-Signature header's timestamp, a bounded memory of deliveries already
 * accepted, and the pure mapping of a verified Event to Tongbao's notification. The signature itself is
 * checked by the stripe package's `webhooks.constructEvent` in adapter.ts.
 *
 * Stripe signs each delivery afresh: a retry of an event the endpoint did not acknowledge carries the same
 * event id with a new timestamp and signature. A replay by anyone else can only repeat a delivery byte for
 * byte (changing the timestamp breaks the signature), so a delivery is identified by its event id and
 * signed timestamp together, and one seen within the window is refused.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ChannelNotification } from '../types.js';
import { operationResultFromIntent } from './operations.js';
import { checkers, instantOf, metadataKeys, payResultFromIntent, refundResultFromRefund } from './protocol.js';

export const signatureHeader = 'stripe-signature';

/**
 * The `t=` timestamp (unix seconds) of a Stripe-Signature header, or null when there is none or more than one
 * (the freshness check must be about the very timestamp the signature covers).
 */
export function signatureTimestamp(header: string): number | null {
  const stamps = header
    .split(',')
    .map((part) => part.split('='))
    .filter(([key]) => key?.trim() === 't')
    .map(([, value]) => value?.trim() ?? '');
  if (stamps.length !== 1 || !/^\d{1,12}$/.test(stamps[0]!)) return null;
  return Number(stamps[0]);
}

/** Finds a header whatever its case; a header sent twice counts as absent. */
export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/**
 * Deliveries accepted within the window, so each is accepted once. Anything older is refused as stale anyway,
 * so an entry can be forgotten after two windows (a timestamp may also lie up to one window ahead). Capped:
 * past the cap the oldest entries go early instead of memory growing without limit.
 */
export class DeliveryWindow {
  private readonly expiresAtMs = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('the delivery window capacity must be a positive integer');
  }

  /** Records the delivery and returns true, or returns false when it was seen within the window. */
  use(deliveryKey: string, nowMs: number): boolean {
    for (const [key, expiresAtMs] of this.expiresAtMs) {
      if (expiresAtMs > nowMs) break;
      this.expiresAtMs.delete(key);
    }
    const expiresAtMs = this.expiresAtMs.get(deliveryKey);
    if (expiresAtMs !== undefined && expiresAtMs > nowMs) return false;
    if (this.expiresAtMs.size >= this.capacity) {
      const oldest = this.expiresAtMs.keys().next();
      if (!oldest.done) this.expiresAtMs.delete(oldest.value);
    }
    this.expiresAtMs.set(deliveryKey, nowMs + 2 * this.windowMs);
    return true;
  }

  get size(): number {
    return this.expiresAtMs.size;
  }
}

const EventWire = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  object: Type.Literal('event'),
  type: Type.String(),
  created: Type.Integer(),
  data: Type.Object({ object: Type.Unknown() }),
});
const eventChecker = TypeCompiler.Compile(EventWire);

/** The PaymentIntent events Tongbao subscribes to; each carries the intent as it was at the event. */
export const paymentIntentEvents = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.processing',
  'payment_intent.requires_action',
  'payment_intent.canceled',
  'payment_intent.amount_capturable_updated',
] as const;
export const refundEvents = ['refund.created', 'refund.updated', 'refund.failed'] as const;

export type EventParsing =
  | { readonly ok: true; readonly eventId: string; readonly notification: ChannelNotification }
  | { readonly ok: false; readonly reason: string };

/** Maps a verified event body to a notification about one of Tongbao's numbers. */
export function notificationFromEvent(body: unknown): EventParsing {
  if (!eventChecker.Check(body)) return { ok: false, reason: 'the body is not a Stripe event' };
  const { id: eventId, type, created, data } = body;
  const at = instantOf(created);
  if ((paymentIntentEvents as readonly string[]).includes(type)) {
    if (!checkers.paymentIntent.Check(data.object)) return { ok: false, reason: `${type} carries an unreadable PaymentIntent` };
    const intent = data.object;
    const attemptNo = intent.metadata[metadataKeys.attemptNo];
    if (attemptNo) {
      const result = payResultFromIntent(intent, { metadataKey: metadataKeys.attemptNo, number: attemptNo }, at);
      return { ok: true, eventId, notification: { kind: 'PAYMENT', attemptNo, result } };
    }
    // A hold's events name the step that caused them: a capture succeeds it, a release cancels it.
    const capture = intent.metadata[metadataKeys.captureOperationNo];
    const release = intent.metadata[metadataKeys.releaseOperationNo];
    const freeze = intent.metadata[metadataKeys.freezeOperationNo];
    const operationNo = type === 'payment_intent.succeeded' && capture ? capture : type === 'payment_intent.canceled' && release ? release : freeze;
    if (!operationNo) return { ok: false, reason: `${type} is about a PaymentIntent without a Tongbao number` };
    const result = operationResultFromIntent(intent, operationNo, at);
    if (!result) return { ok: false, reason: `${type} is about a PaymentIntent without a Tongbao number` };
    return { ok: true, eventId, notification: { kind: 'OPERATION', operationNo, result } };
  }
  if ((refundEvents as readonly string[]).includes(type)) {
    if (!checkers.refund.Check(data.object)) return { ok: false, reason: `${type} carries an unreadable refund` };
    const refund = data.object;
    const refundNo = refund.metadata[metadataKeys.refundNo];
    if (!refundNo) return { ok: false, reason: `${type} is about a refund without a Tongbao number` };
    return { ok: true, eventId, notification: { kind: 'REFUND', refundNo, result: refundResultFromRefund(refund, { metadataKey: metadataKeys.refundNo, number: refundNo }) } };
  }
  return { ok: false, reason: `event type ${type.slice(0, 60)} is not one Tongbao subscribes to` };
}
