/**
 * The sandbox bank's records, as it keeps and journals them, and the JSON objects it answers with.
 * bank-ledger.ts holds the rules that change them.
 */
import type { PaymentObject, RefundObject } from './protocol.js';
import type { PreauthKind, PreauthOperationObject } from './preauth-protocol.js';

/** A delayed outcome, applied once `settleAt` has passed. */
export interface PendingOutcome {
  readonly outcome: 'SUCCEEDED' | 'FAILED';
  readonly settleAt: string;
  readonly callback: boolean;
}

export interface PaymentRecord {
  readonly mchId: string;
  readonly bankTxnNo: string;
  readonly outTradeNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly subject: string;
  readonly notifyUrl: string;
  readonly expireAt: string;
  readonly createdAt: string;
  /** REVERSED: a captured pre-authorization whose completion was cancelled; it can no longer be refunded. */
  readonly status: 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'CLOSED' | 'REVERSED';
  readonly paidAt: string | null;
  readonly finishedAt: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly pending: PendingOutcome | null;
}

export interface RefundRecord {
  readonly mchId: string;
  readonly bankRefundNo: string;
  readonly outRefundNo: string;
  readonly outTradeNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly reason: string | null;
  readonly notifyUrl: string;
  readonly createdAt: string;
  readonly status: 'PROCESSING' | 'SUCCEEDED' | 'FAILED';
  readonly finishedAt: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly pending: PendingOutcome | null;
}

/** A hold on the payer's funds (预授权). */
export interface PreauthAuthRecord {
  readonly mchId: string;
  /** The bank's number of the hold: the bank_operation_no of the freeze that made it. */
  readonly bankAuthNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly subject: string;
  /** A hold still FROZEN past this instant has lapsed: see effectiveAuthStatus. */
  readonly expireAt: string;
  readonly status: 'PROCESSING' | 'FROZEN' | 'COMPLETED' | 'UNFROZEN' | 'FAILED';
  /** What the completion captured, while COMPLETED; 0 otherwise. */
  readonly completedMinor: bigint;
  /** The completion that captured it, while COMPLETED. Its capture is the payment keyed by outOperationNo. */
  readonly completion: { readonly bankOperationNo: string; readonly outOperationNo: string } | null;
  /** The out_operation_no of an operation still processing on this hold; every other operation waits for it. */
  readonly busyWith: string | null;
}

/** One operation on a hold: the freeze that makes it, an unfreeze, a completion or a completion's cancel. */
export interface PreauthOperationRecord {
  readonly mchId: string;
  readonly bankOperationNo: string;
  readonly outOperationNo: string;
  readonly kind: PreauthKind;
  readonly bankAuthNo: string;
  /** COMPLETE_CANCEL only: the bank_operation_no of the completion it reverses. */
  readonly completeNo: string | null;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly notifyUrl: string;
  readonly createdAt: string;
  readonly status: 'PROCESSING' | 'SUCCEEDED' | 'FAILED';
  readonly finishedAt: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly pending: PendingOutcome | null;
}

/** What a hold's status means now: a FROZEN hold past its expireAt has lapsed and holds nothing. */
export function effectiveAuthStatus(auth: PreauthAuthRecord, nowMs: number): PreauthAuthRecord['status'] | 'LAPSED' {
  return auth.status === 'FROZEN' && Date.parse(auth.expireAt) <= nowMs ? 'LAPSED' : auth.status;
}

/** Records as journaled: bigints as decimal strings, since JSON has no bigint. */
export type Stored<Record> = Omit<Record, 'amountMinor'> & { amountMinor: string };
export type StoredAuth = Omit<PreauthAuthRecord, 'amountMinor' | 'completedMinor'> & { amountMinor: string; completedMinor: string };

export function storeAmount<Record extends { amountMinor: bigint }>(record: Record): Stored<Record> {
  return { ...record, amountMinor: record.amountMinor.toString() };
}

export function loadAmount<Record extends { amountMinor: bigint }>(stored: Stored<Record>): Record {
  return { ...stored, amountMinor: BigInt(stored.amountMinor) } as unknown as Record;
}

export function storeAuth(auth: PreauthAuthRecord): StoredAuth {
  return { ...auth, amountMinor: auth.amountMinor.toString(), completedMinor: auth.completedMinor.toString() };
}

export function loadAuth(stored: StoredAuth): PreauthAuthRecord {
  return { ...stored, amountMinor: BigInt(stored.amountMinor), completedMinor: BigInt(stored.completedMinor) };
}

/** How a record ended, as the bank's answers show it: only the fields that have a value. */
export function outcomeFields(record: { finishedAt: string | null; errorCode: string | null; errorMessage: string | null }) {
  return {
    ...(record.finishedAt === null ? {} : { finished_at: record.finishedAt }),
    ...(record.errorCode === null ? {} : { error_code: record.errorCode }),
    ...(record.errorMessage === null ? {} : { error_message: record.errorMessage }),
  };
}

export function paymentObject(payment: PaymentRecord): PaymentObject {
  return {
    bank_txn_no: payment.bankTxnNo,
    out_trade_no: payment.outTradeNo,
    status: payment.status,
    amount: payment.amountMinor.toString(),
    currency: payment.currency,
    subject: payment.subject,
    created_at: payment.createdAt,
    ...(payment.paidAt === null ? {} : { paid_at: payment.paidAt }),
    ...outcomeFields(payment),
  };
}

export function refundObject(refund: RefundRecord): RefundObject {
  return {
    bank_refund_no: refund.bankRefundNo,
    out_refund_no: refund.outRefundNo,
    out_trade_no: refund.outTradeNo,
    status: refund.status,
    amount: refund.amountMinor.toString(),
    currency: refund.currency,
    ...(refund.reason === null ? {} : { reason: refund.reason }),
    created_at: refund.createdAt,
    ...outcomeFields(refund),
  };
}

export function preauthOperationObject(operation: PreauthOperationRecord): PreauthOperationObject {
  return {
    bank_operation_no: operation.bankOperationNo,
    out_operation_no: operation.outOperationNo,
    type: operation.kind,
    auth_no: operation.bankAuthNo,
    status: operation.status,
    amount: operation.amountMinor.toString(),
    currency: operation.currency,
    created_at: operation.createdAt,
    ...outcomeFields(operation),
  };
}
