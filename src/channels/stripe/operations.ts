/**
 * Pre-authorization on Stripe is a manual-capture PaymentIntent: freeze creates and confirms it (the card is
 * authorised, status requires_capture), complete captures part or all of it (Stripe releases the rest),
 * unfreeze cancels it. Each step's operation number sits in the intent's metadata under its own key, so one
 * PaymentIntent answers for all three steps. These pure functions map the intent to each step's result.
 */
import type { ChannelFreezeResult, ChannelOperationResult } from '../types.js';
import { checkEcho, instantOf, metadataKeys, payerActionOf, type PaymentIntentWire } from './protocol.js';

export type PreauthStep = 'freeze' | 'capture' | 'release';

export const stepMetadataKeys: Readonly<Record<PreauthStep, string>> = {
  freeze: metadataKeys.freezeOperationNo,
  capture: metadataKeys.captureOperationNo,
  release: metadataKeys.releaseOperationNo,
};

/** Which step of the intent an operation number names, or null when none. */
export function stepOf(intent: PaymentIntentWire, operationNo: string): PreauthStep | null {
  for (const step of ['capture', 'release', 'freeze'] as const) {
    if (intent.metadata[stepMetadataKeys[step]] === operationNo) return step;
  }
  return null;
}

interface Asked {
  readonly operationNo: string;
  readonly amountMinor?: bigint;
  readonly currency?: string;
}

function unknown(reason: string): ChannelOperationResult {
  return { status: 'UNKNOWN', reason };
}

/**
 * The freeze: SUCCEEDED once the card is authorised. A hold that was later captured, or released by a recorded
 * unfreeze, was still placed, so it stays SUCCEEDED; an intent canceled without an unfreeze never held money.
 */
export function freezeResultFromIntent(intent: PaymentIntentWire, asked: Asked): ChannelFreezeResult {
  if (intent.capture_method !== 'manual') return unknown('the PaymentIntent is not a manual-capture hold');
  const echo = checkEcho(intent, { metadataKey: metadataKeys.freezeOperationNo, number: asked.operationNo, ...money(asked) });
  if (!echo.ok) return unknown(echo.reason);
  const held = { status: 'SUCCEEDED' as const, channelRef: intent.id, amountMinor: echo.amountMinor, currency: echo.currency, finishedAt: instantOf(intent.created) };
  switch (intent.status) {
    case 'requires_capture':
      return intent.amount_capturable === intent.amount ? held : unknown(`Stripe holds ${intent.amount_capturable} of ${intent.amount}`);
    case 'succeeded':
      return held;
    case 'canceled':
      if (intent.metadata[metadataKeys.releaseOperationNo]) return held;
      return { status: 'FAILED', code: 'canceled', message: `the hold was canceled (${intent.cancellation_reason ?? 'no reason'})` };
    case 'requires_action': {
      // 3-D Secure: the payer authenticates the hold as they would a payment.
      const payerAction = payerActionOf(intent);
      return payerAction ? { status: 'PENDING', channelRef: intent.id, payerAction } : { status: 'PENDING', channelRef: intent.id };
    }
    case 'requires_confirmation':
    case 'processing':
      return { status: 'PENDING', channelRef: intent.id };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      if (!error) return { status: 'PENDING', channelRef: intent.id };
      return { status: 'FAILED', code: error.decline_code ?? error.code ?? 'payment_failed', message: error.message ?? 'the authorisation was declined' };
    }
    default:
      return unknown(`unexpected PaymentIntent status "${intent.status.slice(0, 40)}"`);
  }
}

/** The capture: SUCCEEDED with the captured amount once the intent succeeded. */
export function captureResultFromIntent(intent: PaymentIntentWire, asked: Asked, finishedAt: Date): ChannelOperationResult {
  if (intent.metadata[metadataKeys.captureOperationNo] !== asked.operationNo) return unknown(`the PaymentIntent does not carry capture ${asked.operationNo}`);
  switch (intent.status) {
    case 'succeeded': {
      const echo = checkEcho(
        { metadata: intent.metadata, amount: intent.amount_received, currency: intent.currency },
        { metadataKey: metadataKeys.captureOperationNo, number: asked.operationNo, ...money(asked) },
      );
      if (!echo.ok) return unknown(echo.reason);
      return { status: 'SUCCEEDED', channelRef: intent.id, amountMinor: echo.amountMinor, currency: echo.currency, finishedAt };
    }
    case 'processing':
      return { status: 'PENDING', channelRef: intent.id };
    default:
      return unknown(`a captured PaymentIntent is ${intent.status.slice(0, 40)}`);
  }
}

/** The release: SUCCEEDED with the whole held amount once the intent is canceled. */
export function releaseResultFromIntent(intent: PaymentIntentWire, asked: Asked, finishedAt: Date): ChannelOperationResult {
  const echo = checkEcho(intent, { metadataKey: metadataKeys.releaseOperationNo, number: asked.operationNo, ...money(asked) });
  if (!echo.ok) return unknown(echo.reason);
  switch (intent.status) {
    case 'canceled':
      return { status: 'SUCCEEDED', channelRef: intent.id, amountMinor: echo.amountMinor, currency: echo.currency, finishedAt: intent.canceled_at ? instantOf(intent.canceled_at) : finishedAt };
    case 'succeeded':
      return { status: 'FAILED', code: 'already_captured', message: 'the hold was captured; a captured hold cannot be released' };
    case 'requires_capture':
      // The unfreeze was recorded but its cancel did not take effect: nothing was released, and asking again is safe.
      return { status: 'FAILED', code: 'hold_still_open', message: 'the hold is still open' };
    default:
      return unknown(`unexpected PaymentIntent status "${intent.status.slice(0, 40)}"`);
  }
}

/** The result of whichever step the operation number names on this intent. */
export function operationResultFromIntent(intent: PaymentIntentWire, operationNo: string, observedAt: Date): ChannelOperationResult | null {
  switch (stepOf(intent, operationNo)) {
    case 'freeze':
      return freezeResultFromIntent(intent, { operationNo });
    case 'capture':
      return captureResultFromIntent(intent, { operationNo }, observedAt);
    case 'release':
      return releaseResultFromIntent(intent, { operationNo }, observedAt);
    case null:
      return null;
  }
}

function money(asked: Asked): { amountMinor?: bigint; currency?: string } {
  return {
    ...(asked.amountMinor === undefined ? {} : { amountMinor: asked.amountMinor }),
    ...(asked.currency === undefined ? {} : { currency: asked.currency }),
  };
}
