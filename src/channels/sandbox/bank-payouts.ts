/**
 * The sandbox bank's payouts: a record per out_payout_no (idempotent: the same request answers the same
 * record, a different one under the same number is a conflict), whose outcome the magic amounts choose
 * (scenarios.ts payoutMagicAmounts). Pure functions; bank-ledger.ts keeps and journals the records.
 */
import { outcomeFields, type PendingOutcome } from './bank-records.js';
import type { PayoutObject, PayoutRequestBody } from './payout-protocol.js';
import type { PaymentScenario } from './scenarios.js';

export interface PayoutRecord {
  readonly mchId: string;
  readonly bankPayoutNo: string;
  readonly outPayoutNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly payeeType: string;
  readonly createdAt: string;
  readonly status: 'PROCESSING' | 'SUCCEEDED' | 'FAILED';
  readonly finishedAt: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly pending: PendingOutcome | null;
}

export function samePayoutRequest(record: PayoutRecord, body: PayoutRequestBody): boolean {
  return record.amountMinor === BigInt(body.amount) && record.currency === body.currency && record.payeeType === body.payee_type;
}

/** Why a delayed payout fails (amount 60.02). */
export const delayedPayoutFailure = { code: 'PAYEE_BANK_REJECTED', message: "the payee's bank returned the payout" } as const;

export function newPayout(input: { mchId: string; bankPayoutNo: string; nowMs: number; pending: (outcome: 'SUCCEEDED' | 'FAILED') => PendingOutcome }, body: PayoutRequestBody, scenario: PaymentScenario): PayoutRecord {
  const now = new Date(input.nowMs).toISOString();
  const base = {
    mchId: input.mchId, bankPayoutNo: input.bankPayoutNo, outPayoutNo: body.out_payout_no, amountMinor: BigInt(body.amount), currency: body.currency,
    payeeType: body.payee_type, createdAt: now, finishedAt: now, errorCode: null, errorMessage: null, pending: null,
  };
  switch (scenario.kind) {
    case 'decline':
      return { ...base, status: 'FAILED', errorCode: scenario.code, errorMessage: scenario.message };
    case 'hang':
      return scenario.charged
        ? { ...base, status: 'SUCCEEDED' }
        : { ...base, status: 'FAILED', errorCode: 'TIMEOUT', errorMessage: 'the payout timed out at the bank; nothing was paid' };
    case 'delayed':
      return { ...base, status: 'PROCESSING', finishedAt: null, pending: input.pending(scenario.outcome) };
    case 'server-error':
      throw new Error('a server-error scenario records nothing; the routes answer it before the ledger');
    case 'succeed':
      return { ...base, status: 'SUCCEEDED' };
  }
}

/** The payout with its delayed outcome applied when due; null when nothing changes. */
export function settlePayout(payout: PayoutRecord, nowMs: number): PayoutRecord | null {
  const pending = payout.pending;
  if (payout.status !== 'PROCESSING' || !pending || Date.parse(pending.settleAt) > nowMs) return null;
  const finishedAt = new Date(nowMs).toISOString();
  return pending.outcome === 'SUCCEEDED'
    ? { ...payout, status: 'SUCCEEDED', finishedAt, pending: null }
    : { ...payout, status: 'FAILED', errorCode: delayedPayoutFailure.code, errorMessage: delayedPayoutFailure.message, finishedAt, pending: null };
}

export function payoutObject(payout: PayoutRecord): PayoutObject {
  return {
    bank_payout_no: payout.bankPayoutNo,
    out_payout_no: payout.outPayoutNo,
    status: payout.status,
    amount: payout.amountMinor.toString(),
    currency: payout.currency,
    created_at: payout.createdAt,
    ...outcomeFields(payout),
  };
}
