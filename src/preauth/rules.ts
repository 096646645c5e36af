/**
 * The pre-authorization state machine as pure functions: which step a hold accepts, and with which precise
 * code it refuses the others. The flows call them before writing anything and again with the hold locked.
 *
 *   freeze ─▶ PROCESSING ─▶ AUTHORIZED ─complete─▶ COMPLETED ─complete.cancel─▶ AUTHORIZED (valid again)
 *                  │             │
 *                  ▼             ├─unfreeze─▶ UNFROZEN
 *                FAILED          └─expiry──▶ EXPIRED
 */
import { errors, TongbaoError } from '../errors.js';
import { formatAmount } from '../shared/money.js';
import type { AuthRow, OperationInitiator, OperationKind, OperationRow } from './repository.js';

export type StepKind = Exclude<OperationKind, 'FREEZE'>;

export interface StepRequest {
  readonly kind: StepKind;
  readonly initiator: OperationInitiator;
  readonly amountMinor: bigint;
}

function amountText(amountMinor: bigint, currency: string): string {
  return `${formatAmount(amountMinor, currency)} ${currency}`;
}

/** Why the hold refuses this step, or null when the step may go to the channel. */
export function stepRefusal(auth: AuthRow, step: StepRequest, now: Date): TongbaoError | null {
  const held = amountText(auth.amount_minor, auth.currency);
  switch (auth.status) {
    case 'PROCESSING':
      return new TongbaoError(errors.preauthOperationInProgress, `the freeze of ${auth.auth_no} is still at the channel; query it`);
    case 'FAILED':
      return new TongbaoError(errors.preauthNotFrozen, `the freeze of ${auth.auth_no} failed; nothing is held`);
    case 'UNFROZEN':
      return new TongbaoError(errors.preauthHasUnfrozen, `the hold ${auth.auth_no} was unfrozen`);
    case 'EXPIRED':
      return new TongbaoError(errors.preauthHasExpired, `the hold ${auth.auth_no} expired at ${auth.expires_at.toISOString()} and was released`);
    case 'COMPLETED':
      if (step.kind === 'COMPLETE_CANCEL') {
        if (step.amountMinor !== auth.completed_amount_minor) {
          return new TongbaoError(errors.preauthFullAmountOnly, `complete.cancel reverses the whole completion: amount must be ${amountText(auth.completed_amount_minor, auth.currency)}`);
        }
        return null;
      }
      return new TongbaoError(errors.preauthHasCompleted, `the hold ${auth.auth_no} was completed with ${amountText(auth.completed_amount_minor, auth.currency)}; the rest was released`);
    case 'AUTHORIZED':
      if (step.kind === 'COMPLETE_CANCEL') return new TongbaoError(errors.preauthNotCompleted, `the hold ${auth.auth_no} has no completion to cancel`);
      // Past its deadline only the expiry job may touch the hold; it releases it.
      if (step.initiator === 'MERCHANT' && auth.expires_at <= now) {
        return new TongbaoError(errors.preauthHasExpired, `the hold ${auth.auth_no} expired at ${auth.expires_at.toISOString()}; it is being released`);
      }
      if (step.kind === 'UNFREEZE' && step.amountMinor !== auth.amount_minor) {
        return new TongbaoError(errors.preauthFullAmountOnly, `unfreeze releases the whole hold: amount must be ${held}`);
      }
      if (step.kind === 'COMPLETE' && step.amountMinor > auth.amount_minor) {
        return new TongbaoError(errors.preauthAmountExceeded, `amount is above the ${held} held`);
      }
      return null;
  }
}

/**
 * The same request number again: the recorded operation when it asked the same thing, else the number was
 * reused with other parameters.
 */
export function replayOf(existing: OperationRow, kind: OperationKind, amountMinor: bigint): OperationRow {
  if (existing.kind !== kind || existing.amount_minor !== amountMinor) {
    throw new TongbaoError(
      errors.preauthRequestConflict,
      `out_request_no ${existing.out_request_no} was used for ${existing.kind} of ${amountText(existing.amount_minor, existing.currency)}`,
    );
  }
  return existing;
}

/** What the hold still holds now: everything while AUTHORIZED, nothing before or after. */
export function restAmount(auth: AuthRow): bigint {
  return auth.status === 'AUTHORIZED' ? auth.amount_minor : 0n;
}
