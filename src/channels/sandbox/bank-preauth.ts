/**
 * The sandbox bank's pre-authorization rules, as pure functions: what a request, or a delayed outcome that
 * is due, changes (the operation, the hold, and the payment a completion captures). BankLedger looks the
 * records up, journals the change and applies it; the simulator turns it into an answer.
 *
 * A completion captures money like a payment: the bank records a payment keyed by the completion's
 * out_operation_no, so the existing refund endpoint refunds it. Cancelling the completion marks that payment
 * REVERSED and makes the hold valid again; a completion that was refunded, even in part, cannot be cancelled.
 */
import type { PaymentRecord, PendingOutcome, PreauthAuthRecord, PreauthOperationRecord } from './bank-records.js';
import { effectiveAuthStatus } from './bank-records.js';
import type { CompleteCancelRequestBody, FreezeRequestBody, StepRequestBody } from './preauth-protocol.js';
import { delayedFailure, type PaymentScenario } from './scenarios.js';

export type PreauthRequest =
  | { readonly kind: 'FREEZE'; readonly body: FreezeRequestBody }
  | { readonly kind: 'UNFREEZE' | 'COMPLETE'; readonly body: StepRequestBody }
  | { readonly kind: 'COMPLETE_CANCEL'; readonly body: CompleteCancelRequestBody };

/** What the rules need to know about the hold a step names. */
export interface HoldState {
  readonly auth: PreauthAuthRecord | null;
  /** The payment the hold's current completion captured. */
  readonly capture: PaymentRecord | null;
  /** What is refunded, or being refunded, of that capture. */
  readonly captureRefundedMinor: bigint;
}

/** The new versions of the records one request or settlement touched. */
export interface PreauthChange {
  readonly operation: PreauthOperationRecord;
  readonly auth?: PreauthAuthRecord;
  readonly payment?: PaymentRecord;
}

export interface PreauthContext {
  readonly mchId: string;
  readonly nowMs: number;
  /** A fresh bank number with this prefix. */
  readonly newNo: (prefix: 'sba' | 'sbo') => string;
  /** The delayed outcome of a `delayed` scenario, due after the bank's delay. */
  readonly pendingOutcome: (outcome: PendingOutcome['outcome'], callback: boolean) => PendingOutcome;
}

/** Whether an operation already recorded under this out_operation_no was asked with the same parameters. */
export function sameRequest(existing: PreauthOperationRecord, request: PreauthRequest): boolean {
  const body = request.body;
  return existing.kind === request.kind
    && existing.amountMinor === BigInt(body.amount)
    && existing.currency === body.currency
    && (request.kind === 'FREEZE' || existing.bankAuthNo === request.body.auth_no)
    && (request.kind !== 'COMPLETE_CANCEL' || existing.completeNo === request.body.complete_no);
}

/** Decides a new operation: refused (FAILED, recorded), done at once, failed, or processing until a delay passes. */
export function newOperation(context: PreauthContext, request: PreauthRequest, state: HoldState, scenario: PaymentScenario): PreauthChange {
  const now = new Date(context.nowMs).toISOString();
  const body = request.body;
  const bankOperationNo = context.newNo(request.kind === 'FREEZE' ? 'sba' : 'sbo');
  const operation: PreauthOperationRecord = {
    mchId: context.mchId,
    bankOperationNo,
    outOperationNo: body.out_operation_no,
    kind: request.kind,
    bankAuthNo: request.kind === 'FREEZE' ? bankOperationNo : request.body.auth_no,
    completeNo: request.kind === 'COMPLETE_CANCEL' ? request.body.complete_no : null,
    amountMinor: BigInt(body.amount),
    currency: body.currency,
    notifyUrl: body.notify_url,
    createdAt: now,
    status: 'SUCCEEDED',
    finishedAt: now,
    errorCode: null,
    errorMessage: null,
    pending: null,
  };
  const hold: HoldState = request.kind === 'FREEZE' ? { ...state, auth: newHold(context.mchId, operation, request.body) } : state;
  const refusal = request.kind === 'FREEZE' ? freezeRefusal(request.body, context.nowMs) : stepRefusal(request, state, context.nowMs);
  if (refusal) return failure({ ...operation, status: 'FAILED', errorCode: refusal.code, errorMessage: refusal.message }, hold);
  switch (scenario.kind) {
    case 'decline':
      return failure({ ...operation, status: 'FAILED', errorCode: scenario.code, errorMessage: scenario.message }, hold);
    case 'hang':
      return scenario.charged
        ? success(operation, hold, now)
        : failure({ ...operation, status: 'FAILED', errorCode: 'TIMEOUT', errorMessage: 'the operation timed out at the bank; nothing was done' }, hold);
    case 'delayed': {
      const processing: PreauthOperationRecord = { ...operation, status: 'PROCESSING', finishedAt: null, pending: context.pendingOutcome(scenario.outcome, scenario.callback) };
      return { operation: processing, auth: { ...hold.auth!, busyWith: operation.outOperationNo } };
    }
    case 'server-error':
      throw new Error('a server-error scenario records nothing; the simulator answers it before the ledger');
    case 'succeed':
      return success(operation, hold, now);
  }
}

/** Applies a delayed outcome once it is due; null when the operation is not waiting for one that is due. */
export function settleOperation(operation: PreauthOperationRecord, state: HoldState, nowMs: number): (PreauthChange & { callback: boolean }) | null {
  const pending = operation.pending;
  if (operation.status !== 'PROCESSING' || !pending || Date.parse(pending.settleAt) > nowMs) return null;
  const now = new Date(nowMs).toISOString();
  const settled = { ...operation, finishedAt: now, pending: null };
  // A refund may have reached the capture while its cancel waited; reversing it too would pay back twice.
  if (pending.outcome === 'SUCCEEDED' && operation.kind === 'COMPLETE_CANCEL' && state.captureRefundedMinor > 0n) {
    return { ...failure({ ...settled, status: 'FAILED', ...completionRefunded() }, state), callback: pending.callback };
  }
  const change = pending.outcome === 'SUCCEEDED'
    ? success({ ...settled, status: 'SUCCEEDED' }, state, now)
    : failure({ ...settled, status: 'FAILED', errorCode: delayedFailure.code, errorMessage: delayedFailure.message }, state);
  return { ...change, callback: pending.callback };
}

function newHold(mchId: string, freeze: PreauthOperationRecord, body: FreezeRequestBody): PreauthAuthRecord {
  return {
    mchId, bankAuthNo: freeze.bankOperationNo, amountMinor: freeze.amountMinor, currency: freeze.currency, subject: body.subject,
    expireAt: body.expire_at, status: 'PROCESSING', completedMinor: 0n, completion: null, busyWith: null,
  };
}

interface Refusal {
  readonly code: string;
  readonly message: string;
}

function freezeRefusal(body: FreezeRequestBody, nowMs: number): Refusal | null {
  return Date.parse(body.expire_at) <= nowMs ? { code: 'AUTH_EXPIRED', message: 'expire_at has passed' } : null;
}

function completionRefunded(): { errorCode: string; errorMessage: string } {
  return { errorCode: 'COMPLETION_REFUNDED', errorMessage: 'the completion was refunded; a refunded completion cannot be cancelled' };
}

function stepRefusal(request: Exclude<PreauthRequest, { kind: 'FREEZE' }>, state: HoldState, nowMs: number): Refusal | null {
  const { auth } = state;
  const amountMinor = BigInt(request.body.amount);
  if (!auth) return { code: 'AUTH_NOT_FOUND', message: 'no hold has this auth_no' };
  if (auth.currency !== request.body.currency) return { code: 'CURRENCY_MISMATCH', message: `the hold is in ${auth.currency}` };
  if (auth.busyWith !== null) return { code: 'AUTH_BUSY', message: `operation ${auth.busyWith} on this hold is still processing` };
  const status = effectiveAuthStatus(auth, nowMs);
  switch (request.kind) {
    case 'UNFREEZE':
      // A lapsed hold is released already; unfreezing it just says so.
      if (status !== 'FROZEN' && status !== 'LAPSED') return { code: 'AUTH_NOT_FROZEN', message: `the hold is ${status}` };
      if (amountMinor !== auth.amountMinor) return { code: 'AMOUNT_MISMATCH', message: `an unfreeze releases the whole hold of ${auth.amountMinor}` };
      return null;
    case 'COMPLETE':
      if (status === 'LAPSED') return { code: 'AUTH_EXPIRED', message: 'the hold lapsed at its expire_at' };
      if (status !== 'FROZEN') return { code: 'AUTH_NOT_FROZEN', message: `the hold is ${status}` };
      if (amountMinor > auth.amountMinor) return { code: 'AMOUNT_EXCEEDED', message: `the hold is ${auth.amountMinor}` };
      return null;
    case 'COMPLETE_CANCEL':
      if (status !== 'COMPLETED') return { code: 'AUTH_NOT_COMPLETED', message: `the hold is ${status}` };
      if (auth.completion?.bankOperationNo !== request.body.complete_no) return { code: 'COMPLETION_NOT_FOUND', message: 'complete_no is not the completion of this hold' };
      if (amountMinor !== auth.completedMinor) return { code: 'AMOUNT_MISMATCH', message: `a cancel reverses the whole completion of ${auth.completedMinor}` };
      if (state.captureRefundedMinor > 0n) return { code: completionRefunded().errorCode, message: completionRefunded().errorMessage };
      return null;
  }
}

function success(operation: PreauthOperationRecord, state: HoldState, now: string): PreauthChange {
  const auth = { ...state.auth!, busyWith: null };
  switch (operation.kind) {
    case 'FREEZE':
      return { operation, auth: { ...auth, status: 'FROZEN' } };
    case 'UNFREEZE':
      return { operation, auth: { ...auth, status: 'UNFROZEN' } };
    case 'COMPLETE': {
      const completion = { bankOperationNo: operation.bankOperationNo, outOperationNo: operation.outOperationNo };
      const payment: PaymentRecord = {
        mchId: operation.mchId, bankTxnNo: operation.bankOperationNo, outTradeNo: operation.outOperationNo, amountMinor: operation.amountMinor,
        currency: operation.currency, subject: auth.subject, notifyUrl: operation.notifyUrl, expireAt: auth.expireAt, createdAt: now,
        status: 'SUCCEEDED', paidAt: now, finishedAt: now, errorCode: null, errorMessage: null, pending: null,
      };
      return { operation, auth: { ...auth, status: 'COMPLETED', completedMinor: operation.amountMinor, completion }, payment };
    }
    case 'COMPLETE_CANCEL':
      return {
        operation,
        auth: { ...auth, status: 'FROZEN', completedMinor: 0n, completion: null },
        ...(state.capture ? { payment: { ...state.capture, status: 'REVERSED', finishedAt: now } } : {}),
      };
  }
}

/** A failed freeze leaves a FAILED hold; any other failed operation only frees the hold it was keeping busy. */
function failure(operation: PreauthOperationRecord, state: HoldState): PreauthChange {
  const { auth } = state;
  if (auth && operation.kind === 'FREEZE') return { operation, auth: { ...auth, status: 'FAILED', busyWith: null } };
  if (auth && auth.busyWith === operation.outOperationNo) return { operation, auth: { ...auth, busyWith: null } };
  return { operation };
}
