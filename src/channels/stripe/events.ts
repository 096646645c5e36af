/**
 * Stripe webhooks: reading the Stripe-Signature header's timestamp, and the pure mapping of a verified Event to
 * Tongbao's notification. The signature itself is checked by the stripe package's `webhooks.constructEvent` in
 * adapter.ts.
 *
 * Stripe signs each delivery afresh: a retry of an event the endpoint did not acknowledge carries the same
 * event id with a new timestamp and signature. A replay by anyone else can only repeat a delivery byte for
 * byte (changing the timestamp breaks the signature), so a delivery is named by its event id and signed
 * timestamp together: that is its replay key, which Tongbao's callback route spends once.
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
  // A genuine event Tongbao does not act on (an endpoint subscribed to more than it needs, charge.* events):
  // acknowledged, so Stripe stops sending it, and nothing changes.
  return { ok: true, eventId, notification: { kind: 'IGNORED', about: `event ${type.slice(0, 60)}` } };
}
