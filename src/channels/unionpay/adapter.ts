/**
 * Tongbao's adapter for UnionPay's online gateway (全渠道, version 5.1.0): gateway payments as a signed form the
 * payer's browser submits, token payments, refunds, same-day cancel, pre-authorization, queries, callbacks and
 * statements. Requests are signed with the merchant's certificate key (signMethod 01); every answer and callback
 * must carry a UnionPay certificate that chains to the configured root. Anything untrusted or late is UNKNOWN.
 *
 * Example:
 *   const adapter = createUnionpayAdapter(parseUnionpayConfig(settings));
 *   const result = await adapter.pay({ attemptNo: '2026112200000001', amountMinor: 1999n, currency: 'CNY', ... });
 *   // result: { status: 'PENDING', payerAction: { type: 'FORM', url, fields } } — the browser posts the form.
 *   await adapter.dispose();
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { now } from '../../clock.js';
import type {
  ChannelAcknowledgement,
  ChannelAdapter,
  ChannelCancelRequest,
  ChannelCancelResult,
  ChannelCapabilities,
  ChannelCloseResult,
  ChannelNotification,
  ChannelPayRequest,
  ChannelPayResult,
  ChannelRefundRequest,
  ChannelRefundResult,
  InboundChannelRequest,
  NotificationVerification,
} from '../types.js';
import { createUnionpayClient } from './client.js';
import { parseUnionpayConfig, type UnionpayConfig } from './config.js';
import { createUnionpayCore, type UnionpayCore } from './core.js';
import { createUnionpayPreauth, type UnionpayPreauth } from './preauth.js';
import {
  bizTypes,
  fileFields,
  maxTxnAmtMinor,
  parseForm,
  parseTxnTime,
  payResultOf,
  readNotification,
  refundResultOf,
  operationResultOf,
  requestProblem,
  settleDateOf,
  statementDatePattern,
  txnTimeOf,
  txnTypes,
  unionpayPaths,
} from './protocol.js';
import { MemorySentOrderBook, type SentOrderBook } from './sent-orders.js';
import { verifyUnionpaySignature, type UnionpayTrust } from './signature.js';
import { extractStatementFile, statementHeader, zmFileName, zmToCsv } from './statement.js';

export const unionpayProducts = { gateway: 'UNIONPAY_GATEWAY', token: 'UNIONPAY_TOKEN' } as const;

export const unionpayCapabilities: ChannelCapabilities = {
  products: [unionpayProducts.gateway, unionpayProducts.token],
  currencies: ['CNY'],
  // Gateway payments settle when the payer finishes in the browser; token payments usually answer at once.
  resultMode: 'both',
  refund: true,
  partialRefund: true,
  // UnionPay has no close: an unpaid order lapses at its payTimeout. close() reports that from a query.
  close: false,
  cancel: true,
  preauth: true,
  payout: false,
  statement: true,
  escrow: true,
  maxAmountMinor: maxTxnAmtMinor,
};

export type UnionpayAdapter = Omit<ChannelAdapter, 'cancel' | 'preauth'> & {
  cancel(request: ChannelCancelRequest): Promise<ChannelCancelResult>;
  readonly preauth: UnionpayPreauth;
  /** Closes the connection pool (calls in flight finish or time out first). */
  dispose(): Promise<void>;
  /** What JSON.stringify shows: the name and capabilities (bigints as strings), never configuration. */
  toJSON(): object;
};

export interface UnionpayAdapterOptions {
  /** Where the txnTime of each sent order is kept for later queries; in memory (bounded) by default. */
  readonly sentOrders?: SentOrderBook;
}

/** Callbacks may be stamped a little ahead of Tongbao's clock. */
const callbackClockSkewMs = 5 * 60 * 1000;

export function createUnionpayAdapter(settings: unknown, options: UnionpayAdapterOptions = {}): UnionpayAdapter {
  const config: UnionpayConfig = parseUnionpayConfig(settings);
  const trust: UnionpayTrust = {
    root: new X509Certificate(config.rootCertPem),
    intermediate: new X509Certificate(config.intermediateCertPem),
    signerName: config.signerName,
  };
  const client = createUnionpayClient({
    privateKey: createPrivateKey(config.merchantPrivateKeyPem), trust, timeoutMs: config.timeoutMs, maxConnections: config.maxConnections,
  });
  const core = createUnionpayCore(config, client, options.sentOrders ?? new MemorySentOrderBook());
  const maxAgeMs = config.callbackMaxAgeSeconds * 1000;

  return {
    name: 'unionpay',
    capabilities: unionpayCapabilities,
    pay: (request) => pay(core, request),

    async query({ attemptNo }) {
      const outcome = await core.queryOrder(attemptNo, [txnTypes.consume]);
      return outcome.kind === 'NOT_FOUND' ? { status: 'NOT_FOUND' } : payResultOf(outcome);
    },

    refund: (request) => refund(core, request),

    async queryRefund({ refundNo }) {
      const outcome = await core.queryOrder(refundNo, [txnTypes.refund]);
      return outcome.kind === 'NOT_FOUND' ? { status: 'NOT_FOUND' } : refundResultOf(outcome);
    },

    close: (attemptNo) => close(core, attemptNo),
    cancel: (request) => cancel(core, request),
    preauth: createUnionpayPreauth(core),
    dispose: () => client.dispose(),

    verifyNotification(inbound: InboundChannelRequest): NotificationVerification {
      const fields = parseForm(inbound.rawBody);
      if (!fields) return { ok: false, reason: 'the callback body is not a form' };
      const nowMs = now().getTime();
      const check = verifyUnionpaySignature(fields, trust, nowMs);
      if (!check.ok) return { ok: false, reason: `invalid signature: ${check.reason}` };
      if (fields.merId !== config.merId) return { ok: false, reason: 'the callback is for another merchant' };
      const sentAt = parseTxnTime(fields.txnTime);
      if (!sentAt) return { ok: false, reason: 'the callback has no readable txnTime' };
      if (nowMs - sentAt.getTime() > maxAgeMs || sentAt.getTime() - nowMs > callbackClockSkewMs) return { ok: false, reason: 'stale txnTime' };
      const notification = notificationOf(fields, now());
      if (!notification) return { ok: false, reason: `the callback is about an unsupported txnType ${String(fields.txnType).slice(0, 4)}` };
      // UnionPay resends an identical callback until it gets HTTP 200, so a callback is named by what it reports;
      // past the freshness window (and the clock skew) a copy is refused as stale anyway.
      return { ok: true, notification, replayKey: `${fields.orderId}|${fields.txnType}|${fields.queryId ?? ''}`, replayWindowMs: maxAgeMs + callbackClockSkewMs };
    },

    acknowledge(accepted): ChannelAcknowledgement {
      // UnionPay reads HTTP 200 as received and resends on anything else.
      return accepted ? { statusCode: 200, contentType: 'text/plain', body: 'ok' } : { statusCode: 400, contentType: 'text/plain', body: 'fail' };
    },

    downloadStatement: (date) => downloadStatement(core, date),

    toJSON: () => ({ name: 'unionpay', capabilities: { ...unionpayCapabilities, maxAmountMinor: String(unionpayCapabilities.maxAmountMinor) } }),
  };
}

async function pay(core: UnionpayCore, request: ChannelPayRequest): Promise<ChannelPayResult> {
  const problem = requestProblem(request.attemptNo, request.amountMinor, request.currency);
  if (problem) return { status: 'FAILED', ...problem };
  if (request.expiresAt.getTime() <= now().getTime()) return { status: 'FAILED', code: 'ORDER_EXPIRED', message: 'the order expired before it was sent' };
  const product = request.product ?? unionpayCapabilities.products[0];
  const common = { txnType: txnTypes.consume, orderId: request.attemptNo, amountMinor: request.amountMinor, backUrl: request.notifyUrl, payTimeout: txnTimeOf(request.expiresAt) };
  if (product === unionpayProducts.gateway) {
    const form = await core.frontForm({ ...common, bizType: bizTypes.gateway, ...(request.returnUrl ? { frontUrl: request.returnUrl } : {}) });
    return form.ok ? { status: 'PENDING', payerAction: form.action } : { status: 'FAILED', code: form.code, message: form.message };
  }
  if (product === unionpayProducts.token) {
    if (request.payer?.type !== 'token' || !request.payer.id) return { status: 'FAILED', code: 'PAYER_REQUIRED', message: 'UNIONPAY_TOKEN needs payer { type: "token", id }' };
    const trId = core.config.tokenRequestorId;
    if (!trId) return { status: 'FAILED', code: 'TOKEN_NOT_CONFIGURED', message: 'tokenRequestorId is not configured' };
    return payResultOf(await core.send({ ...common, bizType: bizTypes.noRedirect, token: { token: request.payer.id, trId } }));
  }
  return { status: 'FAILED', code: 'PRODUCT_NOT_SUPPORTED', message: `UnionPay has no product ${String(product).slice(0, 40)}` };
}

type Original = { readonly ok: true; readonly queryId: string; readonly bizType: string } | { readonly ok: false; readonly code: string; readonly message: string };

/** The original payment's queryId (origQryId) and bizType, from the caller or from a query. */
async function originalPayment(core: UnionpayCore, attemptNo: string, channelTradeNo: string | null): Promise<Original> {
  const bizType = (await core.recall(attemptNo))?.bizType ?? bizTypes.gateway;
  if (channelTradeNo) return { ok: true, queryId: channelTradeNo, bizType };
  const outcome = await core.queryOrder(attemptNo, [txnTypes.consume]);
  if (outcome.kind === 'SUCCEEDED') return { ok: true, queryId: outcome.queryId, bizType };
  return { ok: false, code: 'ORIGINAL_NOT_PAID', message: `the original payment is not known to be paid (${outcome.kind === 'UNKNOWN' ? outcome.reason : outcome.kind})` };
}

async function refund(core: UnionpayCore, request: ChannelRefundRequest): Promise<ChannelRefundResult> {
  const problem = requestProblem(request.refundNo, request.amountMinor, request.currency);
  if (problem) return { status: 'FAILED', ...problem };
  const original = await originalPayment(core, request.attemptNo, request.channelTradeNo);
  if (!original.ok) return { status: 'FAILED', code: original.code, message: original.message };
  const outcome = await core.send({
    txnType: txnTypes.refund, bizType: original.bizType, orderId: request.refundNo, amountMinor: request.amountMinor, backUrl: request.notifyUrl, origQryId: original.queryId,
  });
  return refundResultOf(outcome);
}

async function close(core: UnionpayCore, attemptNo: string): Promise<ChannelCloseResult> {
  const outcome = await core.queryOrder(attemptNo, [txnTypes.consume]);
  if (outcome.kind === 'SUCCEEDED') return { status: 'ALREADY_PAID' };
  if (outcome.kind === 'FAILED') return { status: 'CLOSED' };
  if (outcome.kind === 'UNKNOWN') return { status: 'UNKNOWN', reason: outcome.reason };
  // Unpaid or never submitted: UnionPay cannot close it, but refuses the payer after payTimeout.
  if (core.lapsed(await core.recall(attemptNo))) return { status: 'CLOSED' };
  return { status: 'UNKNOWN', reason: 'UnionPay cannot close an order; it lapses at its payTimeout' };
}

async function cancel(core: UnionpayCore, request: ChannelCancelRequest): Promise<ChannelCancelResult> {
  const problem = requestProblem(request.cancelNo, request.amountMinor, request.currency);
  if (problem) return { status: 'FAILED', ...problem };
  let origQryId = request.channelTradeNo;
  if (!origQryId) {
    const paid = await core.queryOrder(request.attemptNo, [txnTypes.consume]);
    if (paid.kind === 'UNKNOWN') return { status: 'UNKNOWN', reason: paid.reason };
    if (paid.kind === 'FAILED') return { status: 'CANCELLED', refunded: false };
    if (paid.kind !== 'SUCCEEDED') {
      if (core.lapsed(await core.recall(request.attemptNo))) return { status: 'CANCELLED', refunded: false };
      return { status: 'UNKNOWN', reason: 'the payment is still open at UnionPay until its payTimeout' };
    }
    origQryId = paid.queryId;
  }
  const bizType = (await core.recall(request.attemptNo))?.bizType ?? bizTypes.gateway;
  const outcome = await core.send({
    txnType: txnTypes.consumeCancel, bizType, orderId: request.cancelNo, amountMinor: request.amountMinor, backUrl: core.config.notifyUrl, origQryId,
  });
  switch (outcome.kind) {
    case 'SUCCEEDED':
      return { status: 'CANCELLED', refunded: true };
    case 'FAILED':
      return { status: 'FAILED', code: outcome.code, message: outcome.message };
    case 'PENDING':
      return { status: 'UNKNOWN', reason: 'UnionPay accepted the cancel but has no result yet' };
    case 'UNKNOWN':
      return { status: 'UNKNOWN', reason: outcome.reason };
  }
}

const operationTxnTypes: readonly string[] = [txnTypes.preauth, txnTypes.preauthCancel, txnTypes.preauthComplete, txnTypes.preauthCompleteCancel, txnTypes.consumeCancel];

/** A verified callback as Tongbao's notification; null for a txnType Tongbao does not handle. */
function notificationOf(fields: Readonly<Record<string, string>>, at: Date): ChannelNotification | null {
  const orderId = fields.orderId;
  if (!orderId) return null;
  const outcome = readNotification(fields, at);
  const settled = outcome.kind === 'NOT_FOUND' ? ({ kind: 'UNKNOWN', reason: 'the callback reports no such transaction' } as const) : outcome;
  if (fields.txnType === txnTypes.consume) return { kind: 'PAYMENT', attemptNo: orderId, result: payResultOf(settled) };
  if (fields.txnType === txnTypes.refund) return { kind: 'REFUND', refundNo: orderId, result: refundResultOf(settled) };
  // Pre-authorization steps and cancels carry Tongbao's operation (or cancel) number as their orderId.
  if (fields.txnType !== undefined && operationTxnTypes.includes(fields.txnType)) return { kind: 'OPERATION', operationNo: orderId, result: operationResultOf(settled) };
  return null;
}

async function downloadStatement(core: UnionpayCore, date: string): Promise<string> {
  if (!statementDatePattern.test(date)) throw new Error(`statement date must be yyyy-MM-dd, got ${JSON.stringify(date).slice(0, 40)}`);
  const base = (core.config.fileBaseUrl ?? core.config.baseUrl).replace(/\/+$/, '');
  const answer = await core.client.post(`${base}${unionpayPaths.file}`, fileFields(core.merchant, txnTimeOf(now()), settleDateOf(date)));
  if (!answer.ok) throw new Error(`UnionPay statement ${date}: ${answer.reason}`);
  const fields = answer.fields;
  if (fields.merId !== core.merchant.merId || (fields.settleDate !== undefined && fields.settleDate !== settleDateOf(date))) {
    throw new Error(`UnionPay statement ${date}: the answer is for another merchant or day`);
  }
  // 98: UnionPay has no file for that day, which means the merchant had no transactions.
  if (fields.respCode === '98') return `${statementHeader}\n`;
  if (fields.respCode !== '00' || !fields.fileContent) {
    throw new Error(`UnionPay statement ${date}: respCode ${String(fields.respCode).slice(0, 8)} ${String(fields.respMsg ?? '').slice(0, 80)}`);
  }
  return zmToCsv(extractStatementFile(fields.fileContent, zmFileName(date, core.merchant.merId)), date);
}

/** The adapter is a ChannelAdapter; this stops compiling if the two ever drift apart. */
type IsChannelAdapter<T extends ChannelAdapter> = T;
export type UnionpayChannelAdapter = IsChannelAdapter<UnionpayAdapter>;
