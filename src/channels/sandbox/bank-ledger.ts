/**
 * The sandbox bank's books: payments, refunds, pre-authorization holds and their rules (idempotency,
 * refundable remainder, delayed outcomes), in memory and journaled. No HTTP here; the simulator turns these
 * outcomes into answers. The pre-authorization rules themselves are pure functions in bank-preauth.ts.
 */
import { randomBytes } from 'node:crypto';
import {
  loadAmount,
  loadAuth,
  storeAmount,
  storeAuth,
  type PaymentRecord,
  type PendingOutcome,
  type PreauthAuthRecord,
  type PreauthOperationRecord,
  type RefundRecord,
  type Stored,
  type StoredAuth,
} from './bank-records.js';
import { newPayout, samePayoutRequest, settlePayout, type PayoutRecord } from './bank-payouts.js';
import type { PayoutRequestBody } from './payout-protocol.js';
import { newOperation, sameRequest, settleOperation, type HoldState, type PreauthChange, type PreauthRequest } from './bank-preauth.js';
import { Journal } from './journal.js';
import { statementDateOf, statementHeader, type PaymentRequestBody, type RefundRequestBody } from './protocol.js';
import { delayedFailure, type PaymentScenario, type RefundScenario } from './scenarios.js';

/** One journal line: the new versions of every record one change touched. */
export interface JournalEntry {
  payments?: Stored<PaymentRecord>[] | undefined;
  refunds?: Stored<RefundRecord>[] | undefined;
  /** out_trade_no values closed before any payment arrived; a later payment with one is refused. */
  closedUnpaid?: ReadonlyArray<{ mchId: string; outTradeNo: string }> | undefined;
  preauthAuths?: StoredAuth[] | undefined;
  preauthOperations?: Stored<PreauthOperationRecord>[] | undefined;
  payouts?: Stored<PayoutRecord>[] | undefined;
}

interface Change {
  readonly payments?: readonly PaymentRecord[] | undefined;
  readonly refunds?: readonly RefundRecord[] | undefined;
  readonly closedUnpaid?: ReadonlyArray<{ mchId: string; outTradeNo: string }> | undefined;
  readonly preauthAuths?: readonly PreauthAuthRecord[] | undefined;
  readonly preauthOperations?: readonly PreauthOperationRecord[] | undefined;
  readonly payouts?: readonly PayoutRecord[] | undefined;
}

export type Settlement =
  | { readonly kind: 'payment'; readonly record: PaymentRecord }
  | { readonly kind: 'refund'; readonly record: RefundRecord }
  | { readonly kind: 'preauth'; readonly record: PreauthOperationRecord };

export type CreatePaymentOutcome =
  | { readonly kind: 'created' | 'existing'; readonly payment: PaymentRecord }
  | { readonly kind: 'conflict' | 'closed-unpaid' | 'full' };

export type CreateRefundOutcome = { readonly kind: 'created' | 'existing'; readonly refund: RefundRecord } | { readonly kind: 'conflict' | 'full' };

export type CreatePayoutOutcome = { readonly kind: 'created' | 'existing'; readonly payout: PayoutRecord } | { readonly kind: 'conflict' | 'full' };

export type CreatePreauthOutcome = { readonly kind: 'created' | 'existing'; readonly operation: PreauthOperationRecord } | { readonly kind: 'conflict' | 'full' };

interface MerchantBook {
  readonly payments: Map<string, PaymentRecord>;
  readonly refunds: Map<string, RefundRecord>;
  readonly refundNosByTrade: Map<string, string[]>;
  readonly closedUnpaid: Set<string>;
  /** Holds by the bank's auth_no, operations by Tongbao's out_operation_no. */
  readonly auths: Map<string, PreauthAuthRecord>;
  readonly preauthOperations: Map<string, PreauthOperationRecord>;
  readonly payouts: Map<string, PayoutRecord>;
}

export interface BankLedgerOptions {
  readonly dataDir?: string;
  /** How long delayed outcomes (6001, 6002, 6003, refund 6001, preauth 6001-6003 and 7001, 7003) wait. */
  readonly delayMs: number;
  /** Payments, refunds, closed numbers, holds and their operations the bank holds at most; past it, new ones are refused. */
  readonly maxRecords: number;
  /** Called when a delayed outcome that promises a callback is applied. */
  readonly onSettled: (settlement: Settlement) => void;
}

export class BankLedger {
  private readonly books = new Map<string, MerchantBook>();
  private recordCount = 0;

  private constructor(private readonly journal: Journal<JournalEntry>, private readonly options: BankLedgerOptions) {}

  /** Opens the books, replaying the journal in `dataDir` when there is one. */
  static open(options: BankLedgerOptions): BankLedger {
    const ledger = new BankLedger(Journal.open<JournalEntry>(options.dataDir), options);
    for (const entry of ledger.journal.read()) {
      ledger.apply({
        payments: entry.payments?.map(loadAmount<PaymentRecord>),
        refunds: entry.refunds?.map(loadAmount<RefundRecord>),
        closedUnpaid: entry.closedUnpaid,
        preauthAuths: entry.preauthAuths?.map(loadAuth),
        preauthOperations: entry.preauthOperations?.map(loadAmount<PreauthOperationRecord>),
        payouts: entry.payouts?.map(loadAmount<PayoutRecord>),
      });
    }
    return ledger;
  }

  createPayment(mchId: string, body: PaymentRequestBody, scenario: PaymentScenario, nowMs: number): CreatePaymentOutcome {
    const book = this.book(mchId);
    const existing = this.findPayment(mchId, body.out_trade_no, nowMs);
    if (existing) {
      const same = existing.amountMinor === BigInt(body.amount) && existing.currency === body.currency;
      return same ? { kind: 'existing', payment: existing } : { kind: 'conflict' };
    }
    if (book.closedUnpaid.has(body.out_trade_no)) return { kind: 'closed-unpaid' };
    if (this.recordCount >= this.options.maxRecords) return { kind: 'full' };

    const now = new Date(nowMs).toISOString();
    const base = {
      mchId,
      bankTxnNo: `sbp_${randomBytes(8).toString('hex')}`,
      outTradeNo: body.out_trade_no,
      amountMinor: BigInt(body.amount),
      currency: body.currency,
      subject: body.subject,
      notifyUrl: body.notify_url,
      expireAt: body.expire_at,
      createdAt: now,
      paidAt: null,
      finishedAt: now,
      errorCode: null,
      errorMessage: null,
      pending: null,
    };
    const payment = ((): PaymentRecord => {
      if (Date.parse(body.expire_at) <= nowMs) {
        return { ...base, status: 'FAILED', errorCode: 'ORDER_EXPIRED', errorMessage: 'expire_at has passed' };
      }
      switch (scenario.kind) {
        case 'decline':
          return { ...base, status: 'FAILED', errorCode: scenario.code, errorMessage: scenario.message };
        case 'hang':
          return scenario.charged
            ? { ...base, status: 'SUCCEEDED', paidAt: now }
            : { ...base, status: 'FAILED', errorCode: 'TIMEOUT', errorMessage: 'the payment timed out at the bank; nothing was charged' };
        case 'delayed':
          return { ...base, status: 'PROCESSING', finishedAt: null, pending: this.pendingOutcome(scenario.outcome, scenario.callback, nowMs) };
        case 'server-error':
          throw new Error('a server-error scenario records nothing; the simulator answers it before the ledger');
        case 'succeed':
          return { ...base, status: 'SUCCEEDED', paidAt: now };
      }
    })();
    this.commit({ payments: [payment] });
    return { kind: 'created', payment };
  }

  /** The payment, with any delayed outcome that is due applied first. */
  findPayment(mchId: string, outTradeNo: string, nowMs: number): PaymentRecord | null {
    const payment = this.book(mchId).payments.get(outTradeNo);
    if (!payment) return null;
    return this.settlePaymentIfDue(payment, nowMs);
  }

  /** Closes an unpaid payment. A number never seen is remembered as closed so a late payment cannot land on it. */
  closePayment(mchId: string, outTradeNo: string, nowMs: number): 'CLOSED' | 'SUCCEEDED' | 'full' {
    const book = this.book(mchId);
    const payment = this.findPayment(mchId, outTradeNo, nowMs);
    if (!payment) {
      if (book.closedUnpaid.has(outTradeNo)) return 'CLOSED';
      if (this.recordCount >= this.options.maxRecords) return 'full';
      this.commit({ closedUnpaid: [{ mchId, outTradeNo }] });
      return 'CLOSED';
    }
    if (payment.status === 'SUCCEEDED') return 'SUCCEEDED';
    if (payment.status === 'PROCESSING') {
      this.commit({ payments: [{ ...payment, status: 'CLOSED', finishedAt: new Date(nowMs).toISOString(), pending: null }] });
    }
    return 'CLOSED';
  }

  createRefund(mchId: string, body: RefundRequestBody, scenario: RefundScenario, nowMs: number): CreateRefundOutcome {
    const existing = this.findRefund(mchId, body.out_refund_no, nowMs);
    if (existing) {
      const same = existing.outTradeNo === body.out_trade_no && existing.amountMinor === BigInt(body.amount) && existing.currency === body.currency;
      return same ? { kind: 'existing', refund: existing } : { kind: 'conflict' };
    }
    if (this.recordCount >= this.options.maxRecords) return { kind: 'full' };

    const now = new Date(nowMs).toISOString();
    const amountMinor = BigInt(body.amount);
    const base = {
      mchId,
      bankRefundNo: `sbr_${randomBytes(8).toString('hex')}`,
      outRefundNo: body.out_refund_no,
      outTradeNo: body.out_trade_no,
      amountMinor,
      currency: body.currency,
      reason: body.reason ?? null,
      notifyUrl: body.notify_url,
      createdAt: now,
      finishedAt: now,
      errorCode: null,
      errorMessage: null,
      pending: null,
    };
    const refused = (errorCode: string, errorMessage: string): RefundRecord => ({ ...base, status: 'FAILED', errorCode, errorMessage });
    const payment = this.findPayment(mchId, body.out_trade_no, nowMs);
    const refund = ((): RefundRecord => {
      if (!payment) return refused('PAYMENT_NOT_FOUND', 'no payment has this out_trade_no');
      if (payment.status !== 'SUCCEEDED') return refused('PAYMENT_NOT_PAID', 'only a paid payment can be refunded');
      if (payment.currency !== body.currency) return refused('CURRENCY_MISMATCH', `the payment is in ${payment.currency}`);
      const remainingMinor = payment.amountMinor - this.refundedMinor(mchId, payment.outTradeNo);
      if (amountMinor > remainingMinor) return refused('REFUND_AMOUNT_EXCEEDED', `only ${remainingMinor} remains refundable`);
      switch (scenario.kind) {
        case 'decline':
          return refused(scenario.code, scenario.message);
        case 'delayed':
          return { ...base, status: 'PROCESSING', finishedAt: null, pending: this.pendingOutcome(scenario.outcome, scenario.callback, nowMs) };
        case 'succeed':
          return { ...base, status: 'SUCCEEDED' };
      }
    })();
    this.commit({ refunds: [refund] });
    return { kind: 'created', refund };
  }

  findRefund(mchId: string, outRefundNo: string, nowMs: number): RefundRecord | null {
    const refund = this.book(mchId).refunds.get(outRefundNo);
    if (!refund) return null;
    return this.settleRefundIfDue(refund, nowMs);
  }

  /**
   * Records a pre-authorization operation, or returns the one already recorded under its out_operation_no
   * when the request is the same. A completion's number also keys the payment it captures, so it must not
   * name a payment already.
   */
  createPreauthOperation(mchId: string, request: PreauthRequest, scenario: PaymentScenario, nowMs: number): CreatePreauthOutcome {
    const outNo = request.body.out_operation_no;
    const existing = this.findPreauthOperation(mchId, outNo, nowMs);
    if (existing) return sameRequest(existing, request) ? { kind: 'existing', operation: existing } : { kind: 'conflict' };
    if (request.kind === 'COMPLETE' && this.book(mchId).payments.has(outNo)) return { kind: 'conflict' };
    if (this.recordCount >= this.options.maxRecords) return { kind: 'full' };
    const state = this.holdState(mchId, request.kind === 'FREEZE' ? null : request.body.auth_no);
    const change = newOperation({
      mchId,
      nowMs,
      newNo: (prefix) => `${prefix}_${randomBytes(8).toString('hex')}`,
      pendingOutcome: (outcome, callback) => this.pendingOutcome(outcome, callback, nowMs),
    }, request, state, scenario);
    this.commitPreauth(change);
    return { kind: 'created', operation: change.operation };
  }

  /** The operation, with any delayed outcome that is due applied first. */
  findPreauthOperation(mchId: string, outOperationNo: string, nowMs: number): PreauthOperationRecord | null {
    const operation = this.book(mchId).preauthOperations.get(outOperationNo);
    if (!operation) return null;
    const settled = settleOperation(operation, this.holdState(mchId, operation.bankAuthNo), nowMs);
    if (!settled) return operation;
    this.commitPreauth(settled);
    if (settled.callback) this.options.onSettled({ kind: 'preauth', record: settled.operation });
    return settled.operation;
  }

  /** Records a payout, or returns the one already recorded under its out_payout_no when the request is the same. */
  createPayout(mchId: string, body: PayoutRequestBody, scenario: PaymentScenario, nowMs: number): CreatePayoutOutcome {
    const existing = this.findPayout(mchId, body.out_payout_no, nowMs);
    if (existing) return samePayoutRequest(existing, body) ? { kind: 'existing', payout: existing } : { kind: 'conflict' };
    if (this.recordCount >= this.options.maxRecords) return { kind: 'full' };
    const payout = newPayout({
      mchId, nowMs, bankPayoutNo: `sbo_${randomBytes(8).toString('hex')}`, pending: (outcome) => this.pendingOutcome(outcome, false, nowMs),
    }, body, scenario);
    this.commit({ payouts: [payout] });
    return { kind: 'created', payout };
  }

  /** The payout, with any delayed outcome that is due applied first (payouts settle on read: no callbacks). */
  findPayout(mchId: string, outPayoutNo: string, nowMs: number): PayoutRecord | null {
    const payout = this.book(mchId).payouts.get(outPayoutNo);
    if (!payout) return null;
    const settled = settlePayout(payout, nowMs);
    if (!settled) return payout;
    this.commit({ payouts: [settled] });
    return settled;
  }

  /** Applies a delayed outcome now; the simulator's timers call this when `settleAt` arrives. */
  settle(kind: Settlement['kind'], mchId: string, outNo: string, nowMs: number): void {
    if (kind === 'payment') this.findPayment(mchId, outNo, nowMs);
    else if (kind === 'refund') this.findRefund(mchId, outNo, nowMs);
    else this.findPreauthOperation(mchId, outNo, nowMs);
  }

  /** Every delayed outcome still to apply, so timers can be set again after a restart. */
  pendingSettlements(): Array<{ kind: Settlement['kind']; mchId: string; outNo: string; settleAtMs: number }> {
    const pending: Array<{ kind: Settlement['kind']; mchId: string; outNo: string; settleAtMs: number }> = [];
    for (const [mchId, book] of this.books) {
      for (const payment of book.payments.values()) {
        if (payment.pending) pending.push({ kind: 'payment', mchId, outNo: payment.outTradeNo, settleAtMs: Date.parse(payment.pending.settleAt) });
      }
      for (const refund of book.refunds.values()) {
        if (refund.pending) pending.push({ kind: 'refund', mchId, outNo: refund.outRefundNo, settleAtMs: Date.parse(refund.pending.settleAt) });
      }
      for (const operation of book.preauthOperations.values()) {
        if (operation.pending) pending.push({ kind: 'preauth', mchId, outNo: operation.outOperationNo, settleAtMs: Date.parse(operation.pending.settleAt) });
      }
    }
    return pending;
  }

  /** The day's statement (yyyy-MM-dd, UTC+8) for one merchant: every payment and refund created that day. */
  statementCsv(mchId: string, date: string, nowMs: number): string {
    const book = this.book(mchId);
    const rows: Array<{ createdAt: string; cells: string[] }> = [];
    for (const stored of book.payments.values()) {
      const payment = this.settlePaymentIfDue(stored, nowMs);
      if (statementDateOf(new Date(payment.createdAt)) !== date) continue;
      const cells = [payment.bankTxnNo, payment.outTradeNo, 'PAY', payment.amountMinor.toString(), payment.currency, payment.status, payment.createdAt, payment.finishedAt ?? ''];
      rows.push({ createdAt: payment.createdAt, cells });
    }
    for (const stored of book.refunds.values()) {
      const refund = this.settleRefundIfDue(stored, nowMs);
      if (statementDateOf(new Date(refund.createdAt)) !== date) continue;
      const cells = [refund.bankRefundNo, refund.outRefundNo, 'REFUND', refund.amountMinor.toString(), refund.currency, refund.status, refund.createdAt, refund.finishedAt ?? ''];
      rows.push({ createdAt: refund.createdAt, cells });
    }
    rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return [statementHeader, ...rows.map((row) => row.cells.map(csvField).join(','))].join('\n') + '\n';
  }

  private pendingOutcome(outcome: PendingOutcome['outcome'], callback: boolean, nowMs: number): PendingOutcome {
    return { outcome, callback, settleAt: new Date(nowMs + this.options.delayMs).toISOString() };
  }

  private settlePaymentIfDue(payment: PaymentRecord, nowMs: number): PaymentRecord {
    const pending = payment.pending;
    if (payment.status !== 'PROCESSING' || !pending || Date.parse(pending.settleAt) > nowMs) return payment;
    const settledAt = new Date(nowMs).toISOString();
    const settled: PaymentRecord =
      pending.outcome === 'SUCCEEDED'
        ? { ...payment, status: 'SUCCEEDED', paidAt: settledAt, finishedAt: settledAt, pending: null }
        : { ...payment, status: 'FAILED', errorCode: delayedFailure.code, errorMessage: delayedFailure.message, finishedAt: settledAt, pending: null };
    this.commit({ payments: [settled] });
    if (pending.callback) this.options.onSettled({ kind: 'payment', record: settled });
    return settled;
  }

  private settleRefundIfDue(refund: RefundRecord, nowMs: number): RefundRecord {
    const pending = refund.pending;
    if (refund.status !== 'PROCESSING' || !pending || Date.parse(pending.settleAt) > nowMs) return refund;
    // Delayed refunds only ever succeed: the amount was reserved against the payment when the refund was accepted.
    const settled: RefundRecord = { ...refund, status: 'SUCCEEDED', finishedAt: new Date(nowMs).toISOString(), pending: null };
    this.commit({ refunds: [settled] });
    if (pending.callback) this.options.onSettled({ kind: 'refund', record: settled });
    return settled;
  }

  /** The hold a step names, with the payment its completion captured and what is refunded of it. */
  private holdState(mchId: string, bankAuthNo: string | null): HoldState {
    const book = this.book(mchId);
    const auth = bankAuthNo === null ? null : book.auths.get(bankAuthNo) ?? null;
    const capture = auth?.completion ? book.payments.get(auth.completion.outOperationNo) ?? null : null;
    return { auth, capture, captureRefundedMinor: capture ? this.refundedMinor(mchId, capture.outTradeNo) : 0n };
  }

  private commitPreauth(change: PreauthChange): void {
    this.commit({
      preauthOperations: [change.operation],
      ...(change.auth ? { preauthAuths: [change.auth] } : {}),
      ...(change.payment ? { payments: [change.payment] } : {}),
    });
  }

  /** Refunds that hold part of the payment: succeeded ones and those still processing. */
  private refundedMinor(mchId: string, outTradeNo: string): bigint {
    const book = this.book(mchId);
    let total = 0n;
    for (const outRefundNo of book.refundNosByTrade.get(outTradeNo) ?? []) {
      const refund = book.refunds.get(outRefundNo);
      if (refund && refund.status !== 'FAILED') total += refund.amountMinor;
    }
    return total;
  }

  /** Journals a change, then applies it: the file never lags what the bank has answered. */
  private commit(change: Change): void {
    this.journal.append({
      payments: change.payments?.map(storeAmount),
      refunds: change.refunds?.map(storeAmount),
      closedUnpaid: change.closedUnpaid,
      preauthAuths: change.preauthAuths?.map(storeAuth),
      preauthOperations: change.preauthOperations?.map(storeAmount),
      payouts: change.payouts?.map(storeAmount),
    });
    this.apply(change);
  }

  private apply(change: Change): void {
    for (const payment of change.payments ?? []) {
      const book = this.book(payment.mchId);
      if (!book.payments.has(payment.outTradeNo)) this.recordCount += 1;
      book.payments.set(payment.outTradeNo, payment);
    }
    for (const refund of change.refunds ?? []) {
      const book = this.book(refund.mchId);
      if (!book.refunds.has(refund.outRefundNo)) {
        this.recordCount += 1;
        book.refundNosByTrade.set(refund.outTradeNo, [...(book.refundNosByTrade.get(refund.outTradeNo) ?? []), refund.outRefundNo]);
      }
      book.refunds.set(refund.outRefundNo, refund);
    }
    for (const { mchId, outTradeNo } of change.closedUnpaid ?? []) {
      const book = this.book(mchId);
      if (!book.closedUnpaid.has(outTradeNo)) this.recordCount += 1;
      book.closedUnpaid.add(outTradeNo);
    }
    for (const auth of change.preauthAuths ?? []) {
      const book = this.book(auth.mchId);
      if (!book.auths.has(auth.bankAuthNo)) this.recordCount += 1;
      book.auths.set(auth.bankAuthNo, auth);
    }
    for (const operation of change.preauthOperations ?? []) {
      const book = this.book(operation.mchId);
      if (!book.preauthOperations.has(operation.outOperationNo)) this.recordCount += 1;
      book.preauthOperations.set(operation.outOperationNo, operation);
    }
    this.applyPayouts(change.payouts ?? []);
  }

  private applyPayouts(payouts: readonly PayoutRecord[]): void {
    for (const payout of payouts) {
      const book = this.book(payout.mchId);
      if (!book.payouts.has(payout.outPayoutNo)) this.recordCount += 1;
      book.payouts.set(payout.outPayoutNo, payout);
    }
  }

  private book(mchId: string): MerchantBook {
    let book = this.books.get(mchId);
    if (!book) {
      book = { payments: new Map(), refunds: new Map(), refundNosByTrade: new Map(), closedUnpaid: new Set(), auths: new Map(), preauthOperations: new Map(), payouts: new Map() };
      this.books.set(mchId, book);
    }
    return book;
  }
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
