/**
 * The steps every UnionPay flow is made of: send a money transaction and learn its result, build a signed form
 * for the payer's browser, and query one earlier request by its orderId and the txnTime it was sent with.
 * adapter.ts (payments, refunds, cancel) and preauth.ts compose them.
 */
import { now } from '../../clock.js';
import type { PayerAction } from '../types.js';
import type { UnionpayClient } from './client.js';
import type { UnionpayConfig } from './config.js';
import {
  moneyFields,
  parseTxnTime,
  queryFields,
  readQueryAnswer,
  readTransactionAnswer,
  txnTimeOf,
  unionpayPaths,
  type Expectation,
  type MerchantIdentity,
  type MoneyTransaction,
  type Outcome,
  type Settled,
} from './protocol.js';
import type { SentOrder, SentOrderBook } from './sent-orders.js';

/** UnionPay checks payTimeout when the payer pays; a payment under way at the deadline may land just after. */
const payTimeoutGraceMs = 60_000;

export type FrontForm = { readonly ok: true; readonly action: PayerAction } | { readonly ok: false; readonly code: string; readonly message: string };

export interface UnionpayCore {
  readonly merchant: MerchantIdentity;
  readonly config: UnionpayConfig;
  readonly client: UnionpayClient;
  /** Sends a back-end money transaction; on acceptance, asks for its result once. */
  send(txn: MoneyTransaction): Promise<Settled>;
  /** Records and signs a front transaction for the payer's browser to submit. */
  frontForm(txn: MoneyTransaction): Promise<FrontForm>;
  /** The state of an earlier request by its orderId; its kind must be one of txnTypes. */
  queryOrder(orderId: string, txnTypes: readonly string[]): Promise<Outcome>;
  /** What the sent-order book knows of an orderId, or undefined (also when the book fails). */
  recall(orderId: string): Promise<SentOrder | undefined>;
  /** True once the payer's deadline of a front or token payment has passed, so UnionPay refuses it from now on. */
  lapsed(order: SentOrder | undefined): boolean;
}

export function createUnionpayCore(config: UnionpayConfig, client: UnionpayClient, book: SentOrderBook): UnionpayCore {
  const merchant: MerchantIdentity = { merId: config.merId, certId: config.certId, channelType: config.channelType };
  const base = config.baseUrl.replace(/\/+$/, '');

  async function remember(orderId: string, order: SentOrder): Promise<string | null> {
    try {
      await book.remember(orderId, order);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message.slice(0, 200) : 'the sent-order book failed';
    }
  }

  async function recall(orderId: string): Promise<SentOrder | undefined> {
    try {
      return await book.recall(orderId);
    } catch {
      return undefined;
    }
  }

  async function queryAt(orderId: string, txnTime: string, expected: Expectation): Promise<Outcome> {
    const answer = await client.post(`${base}${unionpayPaths.query}`, queryFields(merchant, orderId, txnTime));
    return answer.ok ? readQueryAnswer(answer.fields, expected, now()) : { kind: 'UNKNOWN', reason: answer.reason };
  }

  return {
    merchant,
    config,
    client,
    recall,

    async send(txn) {
      const txnTime = txnTimeOf(now());
      const notRecorded = await remember(txn.orderId, { txnTime, txnType: txn.txnType, bizType: txn.bizType, ...(txn.payTimeout ? { payTimeout: txn.payTimeout } : {}) });
      if (notRecorded) return { kind: 'FAILED', code: 'ORDER_NOT_RECORDED', message: `not sent: ${notRecorded}` };
      const expected: Expectation = { merId: merchant.merId, orderId: txn.orderId, txnTypes: [txn.txnType], amountMinor: txn.amountMinor };
      const answer = await client.post(`${base}${unionpayPaths.back}`, moneyFields(merchant, txnTime, txn));
      if (!answer.ok) return { kind: 'UNKNOWN', reason: answer.reason };
      const read = readTransactionAnswer(answer.fields, expected);
      if (read.kind !== 'ACCEPTED') return read;
      // 00 only means accepted. UnionPay usually has the result at once, so one query saves the caller a round
      // trip; if it has none yet, the result comes by callback or a later query.
      const settled = await queryAt(txn.orderId, txnTime, expected);
      if (settled.kind === 'SUCCEEDED' || settled.kind === 'FAILED' || settled.kind === 'UNKNOWN') return settled;
      return read.queryId ? { kind: 'PENDING', queryId: read.queryId } : { kind: 'PENDING' };
    },

    async frontForm(txn) {
      const txnTime = txnTimeOf(now());
      const notRecorded = await remember(txn.orderId, { txnTime, txnType: txn.txnType, bizType: txn.bizType, ...(txn.payTimeout ? { payTimeout: txn.payTimeout } : {}) });
      if (notRecorded) return { ok: false, code: 'ORDER_NOT_RECORDED', message: `not built: ${notRecorded}` };
      const fields = client.sign(moneyFields(merchant, txnTime, txn));
      return { ok: true, action: { type: 'FORM', url: `${base}${unionpayPaths.front}`, fields } };
    },

    async queryOrder(orderId, txnTypes) {
      const sent = await recall(orderId);
      if (!sent) {
        return { kind: 'UNKNOWN', reason: `no record of the txnTime ${orderId} was sent with, which UnionPay needs to find it (see docs/channels/unionpay.md)` };
      }
      return queryAt(orderId, sent.txnTime, { merId: merchant.merId, orderId, txnTypes });
    },

    lapsed(order) {
      const deadline = parseTxnTime(order?.payTimeout);
      return deadline !== null && now().getTime() > deadline.getTime() + payTimeoutGraceMs;
    },
  };
}
