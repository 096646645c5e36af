/**
 * The simulator's books: every transaction UnionPay accepted, by merId + orderId and by queryId, and the rules
 * that tie later transactions to their original (origQryId): refunds up to what was paid within 90 days,
 * cancels and completion cancels only in the same settlement day (23:00 to 23:00 Beijing time), pre-auth
 * completion up to the held amount, and so on. Refusals use UnionPay's respCodes with the sub-codes its FAQ
 * documents in respMsg.
 */
import { settlementDayOf, txnTimeOf, txnTypes } from '../../../src/channels/unionpay/protocol.js';

export type TxnState = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

export interface Txn {
  readonly merId: string;
  readonly orderId: string;
  readonly txnType: string;
  readonly txnSubType: string;
  readonly bizType: string;
  /** As the merchant sent it: queries must name it. */
  readonly txnTime: string;
  readonly amountMinor: bigint;
  readonly backUrl: string;
  readonly queryId: string;
  readonly traceNo: string;
  readonly origQryId?: string;
  /** When UnionPay took it (simulator clock, ms); backdate() moves it into the past. */
  atMs: number;
  state: TxnState;
  respCode: string;
  respMsg: string;
  /** Consumes and completions: refunded or cancelled so far (reserved while a refund is processing). */
  reversedMinor: bigint;
  /** Pre-auths: the completion holding it, or released by 32; completions: cancelled by 33. */
  completedBy?: string;
}

export type Refusal = { readonly respCode: string; readonly respMsg: string };

const refundWindowMs = 90 * 24 * 60 * 60 * 1000;

export class UnionpayBooks {
  private readonly byOrder = new Map<string, Txn>();
  private readonly byQueryId = new Map<string, Txn>();
  private sequence = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

  find(merId: string, orderId: string): Txn | undefined {
    return this.byOrder.get(`${merId}|${orderId}`);
  }

  /** Refuses a transaction that names an original it may not touch; null when it may go ahead. */
  check(merId: string, txnType: string, amountMinor: bigint, origQryId: string | undefined): Refusal | null {
    if (txnType === txnTypes.consume || txnType === txnTypes.preauth) return null;
    const original = origQryId ? this.byQueryId.get(origQryId) : undefined;
    const missing = { respCode: '35', respMsg: '原交易不存在或状态不正确[2040004]' };
    if (!original || original.merId !== merId || original.state !== 'SUCCEEDED') return missing;
    const sameDay = settlementDayOf(new Date(original.atMs)) === settlementDayOf(new Date(this.nowMs()));
    switch (txnType) {
      case txnTypes.refund:
        if (original.txnType !== txnTypes.consume && original.txnType !== txnTypes.preauthComplete) return missing;
        if (this.nowMs() - original.atMs > refundWindowMs) return { respCode: '35', respMsg: '原交易状态不正确，已超过退货期限[2040005]' };
        if (original.reversedMinor + amountMinor > original.amountMinor) return { respCode: '36', respMsg: '与原交易信息不符，退货金额超限[2050004]' };
        return null;
      case txnTypes.consumeCancel:
        if (original.txnType !== txnTypes.consume || original.reversedMinor > 0n) return missing;
        if (!sameDay) return { respCode: '35', respMsg: '原交易状态不正确，只能撤销当日交易[2040006]' };
        return amountMinor === original.amountMinor ? null : { respCode: '36', respMsg: '与原交易信息不符，撤销金额需与原交易相同[2050008]' };
      case txnTypes.preauthCancel:
        if (original.txnType !== txnTypes.preauth || original.completedBy) return missing;
        return amountMinor === original.amountMinor ? null : { respCode: '36', respMsg: '与原交易信息不符[2050008]' };
      case txnTypes.preauthComplete:
        if (original.txnType !== txnTypes.preauth || original.completedBy) return missing;
        return amountMinor <= original.amountMinor ? null : { respCode: '36', respMsg: '与原交易信息不符，完成金额超过预授权金额[2050008]' };
      case txnTypes.preauthCompleteCancel:
        if (original.txnType !== txnTypes.preauthComplete || original.reversedMinor > 0n) return missing;
        if (!sameDay) return { respCode: '35', respMsg: '原交易状态不正确，需在同一清算日发起[2040006]' };
        return amountMinor === original.amountMinor ? null : { respCode: '36', respMsg: '与原交易信息不符[2050008]' };
      default:
        return { respCode: '32', respMsg: '无此交易权限' };
    }
  }

  /** Records an accepted transaction as processing and reserves its effect on the original. */
  accept(input: Omit<Txn, 'queryId' | 'traceNo' | 'atMs' | 'state' | 'respCode' | 'respMsg' | 'reversedMinor' | 'completedBy'>): Txn {
    this.sequence += 1;
    const atMs = this.nowMs();
    const txn: Txn = {
      ...input,
      queryId: `${txnTimeOf(new Date(atMs))}${String(this.sequence).padStart(7, '0')}`,
      traceNo: String(this.sequence % 1_000_000).padStart(6, '0'),
      atMs,
      state: 'PROCESSING',
      respCode: '05',
      respMsg: '交易已受理，请稍后查询交易结果',
      reversedMinor: 0n,
    };
    this.byOrder.set(`${txn.merId}|${txn.orderId}`, txn);
    this.byQueryId.set(txn.queryId, txn);
    this.effect(txn, 1n);
    return txn;
  }

  /** Settles a processing transaction; a failure releases what it reserved on the original. */
  settle(txn: Txn, state: 'SUCCEEDED' | 'FAILED', respCode = '00', respMsg = '成功[0000000]'): void {
    if (txn.state !== 'PROCESSING') return;
    txn.state = state;
    txn.respCode = state === 'SUCCEEDED' ? '00' : respCode;
    txn.respMsg = state === 'SUCCEEDED' ? '成功[0000000]' : respMsg;
    if (state === 'FAILED') this.effect(txn, -1n);
  }

  private effect(txn: Txn, sign: 1n | -1n): void {
    const original = txn.origQryId ? this.byQueryId.get(txn.origQryId) : undefined;
    if (!original) return;
    switch (txn.txnType) {
      case txnTypes.refund:
      case txnTypes.consumeCancel:
      case txnTypes.preauthCompleteCancel:
        original.reversedMinor += sign * txn.amountMinor;
        if (txn.txnType === txnTypes.preauthCompleteCancel) {
          // The completion is reversed and the hold it captured is valid again.
          const hold = original.origQryId ? this.byQueryId.get(original.origQryId) : undefined;
          if (hold) hold.completedBy = sign === 1n ? undefined : original.queryId;
        }
        return;
      case txnTypes.preauthComplete:
      case txnTypes.preauthCancel:
        original.completedBy = sign === 1n ? txn.queryId : undefined;
        return;
    }
  }

  /** Moves a transaction's time into the past, so it falls on an earlier settlement day. */
  backdate(merId: string, orderId: string, ms: number): void {
    const txn = this.find(merId, orderId);
    if (!txn) throw new Error(`no transaction ${orderId}`);
    txn.atMs -= ms;
  }

  /** The merchant's successful money movements of one settlement day (MMdd). Holds and releases move no money. */
  settledOn(merId: string, settleDate: string): Txn[] {
    const moving: readonly string[] = [txnTypes.consume, txnTypes.preauthComplete, txnTypes.refund, txnTypes.consumeCancel, txnTypes.preauthCompleteCancel];
    return [...this.byOrder.values()].filter((txn) => {
      if (txn.merId !== merId || txn.state !== 'SUCCEEDED' || !moving.includes(txn.txnType)) return false;
      const day = settlementDayOf(new Date(txn.atMs));
      return day.slice(5, 7) + day.slice(8, 10) === settleDate;
    });
  }
}
