/**
 * Pre-authorization flows on Stripe (see operations.ts for the mapping): freeze creates a confirmed
 * manual-capture PaymentIntent, complete captures it, unfreeze cancels it. Each step's operation number is
 * the idempotency key of its call and is written into the intent's metadata, so query(operationNo) finds it.
 *
 * freeze needs the payer's PaymentMethod (`payer.id`) and answers FAILED payment_method_required without one; a
 * hold that needs 3-D Secure is PENDING with the payer's action. completeCancel: Stripe cannot re-open a hold
 * once captured. A refund gives the money back but leaves no hold, which is not what completeCancel promises, so
 * it answers FAILED without calling Stripe (see docs/channels/stripe.md).
 */
import { now } from '../../clock.js';
import type {
  ChannelFreezeResult,
  ChannelOperationQueryResult,
  ChannelOperationResult,
  ChannelPreauth,
  ChannelPreauthCompleteCancelRequest,
  ChannelPreauthFreezeRequest,
  ChannelPreauthStepRequest,
} from '../types.js';
import type { StripeChannelClient } from './client.js';
import type { StripeConfig } from './config.js';
import { failureReason, findIntent } from './lookup.js';
import { captureResultFromIntent, freezeResultFromIntent, operationResultFromIntent, releaseResultFromIntent, stepMetadataKeys } from './operations.js';
import { checkers, freezeParams, metadataKeys, toStripeAmount, type CallFailure, type PaymentIntentWire } from './protocol.js';

export type StripePreauth = ChannelPreauth;

export const completeCancelRefusal = {
  code: 'stripe_cannot_reopen_hold',
  message: 'Stripe cannot re-open an authorisation after capture; refund the captured PaymentIntent instead',
} as const;

function failedOrUnknown(failure: CallFailure): ChannelOperationResult {
  return failure.kind === 'rejected' ? { status: 'FAILED', code: failure.code, message: failure.message } : { status: 'UNKNOWN', reason: failure.reason };
}

function readIntent<R extends ChannelOperationResult | ChannelFreezeResult>(value: unknown, map: (intent: PaymentIntentWire) => R): R | ChannelOperationResult {
  return checkers.paymentIntent.Check(value) ? map(value) : { status: 'UNKNOWN', reason: 'Stripe answered with an unreadable PaymentIntent' };
}

export function createStripePreauth(client: StripeChannelClient, config: StripeConfig): StripePreauth {
  return {
    async freeze(request: ChannelPreauthFreezeRequest) {
      const money = toStripeAmount(request.amountMinor, request.currency);
      if (!money.ok) return { status: 'FAILED', code: money.code, message: money.message };
      if (!request.payer?.id) return { status: 'FAILED', code: 'payment_method_required', message: 'a Stripe hold needs payer.id, a Stripe PaymentMethod id' };
      const paymentMethod = request.payer.id;
      const answer = await client.call((stripe) =>
        stripe.paymentIntents.create(freezeParams(request, money, paymentMethod), { idempotencyKey: request.operationNo }),
      );
      if (!answer.ok) return failedOrUnknown(answer.failure);
      return readIntent(answer.value, (intent) => freezeResultFromIntent(intent, request));
    },

    async complete(request: ChannelPreauthStepRequest) {
      const money = toStripeAmount(request.amountMinor, request.currency);
      if (!money.ok) return { status: 'FAILED', code: money.code, message: money.message };
      const answer = await client.call((stripe) =>
        stripe.paymentIntents.capture(
          request.authRef,
          { amount_to_capture: money.amount, metadata: { [metadataKeys.captureOperationNo]: request.operationNo } },
          { idempotencyKey: request.operationNo },
        ),
      );
      if (!answer.ok) return failedOrUnknown(answer.failure);
      return readIntent(answer.value, (intent) => captureResultFromIntent(intent, request, now()));
    },

    async unfreeze(request: ChannelPreauthStepRequest) {
      // Cancel takes no metadata, so the release's number is written first; on its own it changes nothing.
      const marked = await client.call((stripe) =>
        stripe.paymentIntents.update(request.authRef, { metadata: { [metadataKeys.releaseOperationNo]: request.operationNo } }),
      );
      if (!marked.ok) return failedOrUnknown(marked.failure);
      const answer = await client.call((stripe) => stripe.paymentIntents.cancel(request.authRef, {}, { idempotencyKey: request.operationNo }));
      if (answer.ok) return readIntent(answer.value, (intent) => releaseResultFromIntent(intent, request, now()));
      if (answer.failure.kind === 'unknown') return { status: 'UNKNOWN', reason: answer.failure.reason };
      // Stripe refuses to cancel a hold that was captured or already canceled: say which from its state.
      const current = await client.call((stripe) => stripe.paymentIntents.retrieve(request.authRef));
      if (!current.ok) return { status: 'UNKNOWN', reason: failureReason(current.failure) };
      return readIntent(current.value, (intent) => releaseResultFromIntent(intent, request, now()));
    },

    async completeCancel(_request: ChannelPreauthCompleteCancelRequest) {
      return { status: 'FAILED', ...completeCancelRefusal };
    },

    async query(operationNo: string): Promise<ChannelOperationQueryResult> {
      const matches = Object.values(stepMetadataKeys).map((key) => ({ key, value: operationNo }));
      const lookup = await findIntent(client, config, matches);
      if (!lookup.ok) return { status: 'UNKNOWN', reason: lookup.reason };
      if (!lookup.intent) return { status: 'NOT_FOUND' };
      return operationResultFromIntent(lookup.intent, operationNo, now()) ?? { status: 'UNKNOWN', reason: 'the PaymentIntent does not carry this operation number' };
    },
  };
}
