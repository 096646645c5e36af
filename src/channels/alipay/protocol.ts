/**
 * Alipay's OpenAPI wire protocol for the trade methods Tongbao uses: the biz_content each call sends, the
 * shapes Alipay answers with, and pure functions that map those answers to channel results. Signing and
 * transport belong to alipay-sdk (adapter.ts); nothing here does I/O, so every mapping is unit tested on its own.
 *
 * Alipay answers HTTP 200 with `{"<method>_response": {code, msg, sub_code?, sub_msg?, ...}, "sign": "..."}`.
 * code 10000 is success; 40001/40002/40006 refuse the request before it does anything; 40004 is a business
 * failure named by sub_code; 20000 means the service failed and the outcome is unknown.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { formatAmount } from '../../shared/money.js';
import { formatWallClock, parseWallClock } from '../../shared/time.js';
import type {
  ChannelCancelResult,
  ChannelCloseResult,
  ChannelPayRequest,
  ChannelPayResult,
  ChannelQueryResult,
  ChannelRefundQueryResult,
  ChannelRefundRequest,
  ChannelRefundResult,
} from '../types.js';

export const alipayMethods = {
  precreate: 'alipay.trade.precreate',
  pagePay: 'alipay.trade.page.pay',
  query: 'alipay.trade.query',
  refund: 'alipay.trade.refund',
  refundQuery: 'alipay.trade.fastpay.refund.query',
  close: 'alipay.trade.close',
  cancel: 'alipay.trade.cancel',
  transfer: 'alipay.fund.trans.uni.transfer',
  transferQuery: 'alipay.fund.trans.common.query',
  billUrl: 'alipay.data.dataservice.bill.downloadurl.query',
} as const;

/** Alipay writes and reads wall-clock times ("yyyy-MM-dd HH:mm:ss") in Beijing time. */
export const alipayZone = 'Asia/Shanghai';
/** Domestic Alipay settles in yuan only. */
export const alipayCurrency = 'CNY';
/** Alipay's ceiling on total_amount: 100,000,000.00 yuan. */
export const maxTotalAmountMinor = 10_000_000_000n;

export function beijingTime(instant: Date): string {
  return formatWallClock(instant, alipayZone);
}

export function parseBeijingTime(text: unknown): Date | null {
  return typeof text === 'string' ? parseWallClock(text, alipayZone) : null;
}

/** 1234n -> "12.34": Alipay's amounts are yuan with two decimals. */
export function yuan(amountMinor: bigint): string {
  return formatAmount(amountMinor, alipayCurrency);
}

/** "12.34" (or "12.3", "12") -> 1234n; null for anything else, zero and negatives included. */
export function parseYuan(text: unknown): bigint | null {
  if (typeof text !== 'string') return null;
  const match = /^(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,2}))?$/.exec(text);
  if (!match) return null;
  const amountMinor = BigInt(match[1]!) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
  return amountMinor > 0n ? amountMinor : null;
}

// ---------------------------------------------------------------------------------------------------------
// biz_content of each call, from Tongbao's requests

export function precreateBizContent(request: ChannelPayRequest): Record<string, string> {
  return {
    out_trade_no: request.attemptNo,
    total_amount: yuan(request.amountMinor),
    subject: request.subject,
    time_expire: beijingTime(request.expiresAt),
  };
}

export function pagePayBizContent(request: ChannelPayRequest): Record<string, string> {
  return { ...precreateBizContent(request), product_code: 'FAST_INSTANT_TRADE_PAY' };
}

export function refundBizContent(request: ChannelRefundRequest): Record<string, string> {
  return {
    out_trade_no: request.attemptNo,
    ...(request.channelTradeNo ? { trade_no: request.channelTradeNo } : {}),
    refund_amount: yuan(request.amountMinor),
    out_request_no: request.refundNo,
    ...(request.reason ? { refund_reason: request.reason } : {}),
  };
}

export function refundQueryBizContent(attemptNo: string, refundNo: string): Record<string, unknown> {
  return { out_trade_no: attemptNo, out_request_no: refundNo, query_options: ['gmt_refund_pay'] };
}

// ---------------------------------------------------------------------------------------------------------
// Reading an answer

/** What one call told us, before any method-specific meaning is given to it. */
export type GatewayAnswer =
  | { readonly kind: 'SUCCESS'; readonly body: Readonly<Record<string, unknown>> }
  /** Alipay refused the request; it says nothing was done (40001, 40002, 40004, 40006). */
  | { readonly kind: 'REFUSED'; readonly code: string; readonly subCode: string; readonly message: string }
  | { readonly kind: 'UNCERTAIN'; readonly reason: string };

/**
 * 40004 sub_codes that do not mean "nothing happened": a system error asks for a retry, and a context
 * mismatch says the out number already names another order, which may have moved money.
 */
const uncertainSubCodes = new Set(['ACQ.SYSTEM_ERROR', 'SYSTEM_ERROR', 'aop.ACQ.SYSTEM_ERROR', 'isp.unknow-error', 'isp.unknown-error', 'ACQ.CONTEXT_INCONSISTENT']);
const refusalCodes = new Set(['40001', '40002', '40004', '40006']);

export function readGatewayAnswer(body: unknown): GatewayAnswer {
  if (typeof body !== 'object' || body === null) return { kind: 'UNCERTAIN', reason: 'the answer is not an object' };
  const fields = body as Record<string, unknown>;
  const code = typeof fields.code === 'string' ? fields.code : '';
  const subCode = typeof fields.sub_code === 'string' ? fields.sub_code : '';
  const message = (typeof fields.sub_msg === 'string' && fields.sub_msg) || (typeof fields.msg === 'string' && fields.msg) || 'Alipay refused the request';
  if (code === '10000') return { kind: 'SUCCESS', body: fields };
  if (code === '20000') return { kind: 'UNCERTAIN', reason: `Alipay is unavailable (20000 ${subCode})`.trim() };
  if (refusalCodes.has(code) && !uncertainSubCodes.has(subCode)) return { kind: 'REFUSED', code, subCode: subCode || code, message: message.slice(0, 200) };
  return { kind: 'UNCERTAIN', reason: `Alipay answered code "${code.slice(0, 20)}" ${subCode.slice(0, 60)}`.trim() };
}

function compile<T extends TSchema>(schema: T) {
  return TypeCompiler.Compile(schema);
}

const PrecreateBody = Type.Object({ out_trade_no: Type.String(), qr_code: Type.String({ minLength: 1 }) });
const TradeBody = Type.Object({
  out_trade_no: Type.String(),
  trade_no: Type.Optional(Type.String()),
  trade_status: Type.String(),
  total_amount: Type.String(),
  send_pay_date: Type.Optional(Type.String()),
  gmt_payment: Type.Optional(Type.String()),
  trans_currency: Type.Optional(Type.String()),
});
export type TradeFields = Static<typeof TradeBody>;
const RefundBody = Type.Object({ out_trade_no: Type.String(), trade_no: Type.String(), fund_change: Type.String(), refund_fee: Type.String() });
const RefundQueryBody = Type.Object({
  out_trade_no: Type.Optional(Type.String()),
  trade_no: Type.Optional(Type.String()),
  out_request_no: Type.Optional(Type.String()),
  refund_amount: Type.Optional(Type.String()),
  refund_status: Type.Optional(Type.String()),
});
const CancelBody = Type.Object({ out_trade_no: Type.Optional(Type.String()), action: Type.Optional(Type.String()), retry_flag: Type.Optional(Type.String()) });
const CloseBody = Type.Object({ out_trade_no: Type.String() });

export const checkers = {
  precreate: compile(PrecreateBody),
  trade: compile(TradeBody),
  refund: compile(RefundBody),
  refundQuery: compile(RefundQueryBody),
  cancel: compile(CancelBody),
  close: compile(CloseBody),
};

function refusedResult(answer: { code: string; subCode: string; message: string }): { status: 'FAILED'; code: string; message: string } {
  return { status: 'FAILED', code: answer.subCode, message: answer.message };
}

function uncertain(reason: string): { status: 'UNKNOWN'; reason: string } {
  return { status: 'UNKNOWN', reason };
}

// ---------------------------------------------------------------------------------------------------------
// Payments

/** alipay.trade.precreate: the QR code the payer scans; the result comes by notification or query. */
export function payResultFromPrecreate(answer: GatewayAnswer, request: ChannelPayRequest): ChannelPayResult {
  if (answer.kind === 'UNCERTAIN') return uncertain(answer.reason);
  if (answer.kind === 'REFUSED') {
    // The number was already paid: a real payment exists, which only a query reports properly.
    if (answer.subCode === 'ACQ.TRADE_HAS_SUCCESS') return uncertain('Alipay says this out_trade_no is already paid; query it');
    return refusedResult(answer);
  }
  if (!checkers.precreate.Check(answer.body)) return uncertain('Alipay answered precreate without a readable qr_code');
  if (answer.body.out_trade_no !== request.attemptNo) return uncertain(`Alipay answered for ${answer.body.out_trade_no.slice(0, 64)}, not ${request.attemptNo}`);
  return { status: 'PENDING', payerAction: { type: 'QR_CODE', content: answer.body.qr_code } };
}

/**
 * A trade as alipay.trade.query or a notification reports it. The echo must name the attempt asked about
 * and be in yuan; success needs Alipay's trade number, a readable amount and the payment time.
 */
export function tradeResult(fields: TradeFields, outTradeNo: string, paidAtText: string | undefined): ChannelPayResult {
  if (fields.out_trade_no !== outTradeNo) return uncertain(`Alipay answered for ${fields.out_trade_no.slice(0, 64)}, not ${outTradeNo}`);
  if (fields.trans_currency !== undefined && fields.trans_currency !== alipayCurrency) {
    return uncertain(`currency mismatch: Alipay echoed ${fields.trans_currency.slice(0, 8)}, the adapter pays in ${alipayCurrency}`);
  }
  const channelTradeNo = fields.trade_no;
  switch (fields.trade_status) {
    case 'TRADE_SUCCESS':
    case 'TRADE_FINISHED': {
      const amountMinor = parseYuan(fields.total_amount);
      if (amountMinor === null) return uncertain(`Alipay echoed an unreadable total_amount "${fields.total_amount.slice(0, 40)}"`);
      const paidAt = parseBeijingTime(paidAtText);
      if (!channelTradeNo || !paidAt) return uncertain('Alipay reported a paid trade without trade_no or payment time');
      return { status: 'SUCCEEDED', channelTradeNo, amountMinor, currency: alipayCurrency, paidAt };
    }
    case 'WAIT_BUYER_PAY':
      return channelTradeNo ? { status: 'PENDING', channelTradeNo } : { status: 'PENDING' };
    case 'TRADE_CLOSED':
      return { status: 'FAILED', code: 'TRADE_CLOSED', message: 'the trade was closed unpaid or fully refunded', ...(channelTradeNo ? { channelTradeNo } : {}) };
    default:
      return uncertain(`unknown trade_status "${fields.trade_status.slice(0, 40)}"`);
  }
}

/** alipay.trade.query. A trade Alipay never created (the QR was never scanned, the page never opened) is NOT_FOUND. */
export function queryResultFromAnswer(answer: GatewayAnswer, attemptNo: string): ChannelQueryResult {
  if (answer.kind === 'UNCERTAIN') return uncertain(answer.reason);
  if (answer.kind === 'REFUSED') {
    if (answer.subCode === 'ACQ.TRADE_NOT_EXIST') return { status: 'NOT_FOUND' };
    // A refused query says nothing about the payment itself.
    return uncertain(`Alipay refused the query: ${answer.subCode} ${answer.message}`);
  }
  if (!checkers.trade.Check(answer.body)) return uncertain('Alipay answered the query with an unreadable trade');
  return tradeResult(answer.body, attemptNo, answer.body.send_pay_date);
}

/** What a close answer means; a status error needs a query to tell "already paid" from "already closed". */
export type CloseReading = { readonly kind: 'RESULT'; readonly result: ChannelCloseResult } | { readonly kind: 'NEEDS_QUERY' };

export function closeReadingFromAnswer(answer: GatewayAnswer, attemptNo: string): CloseReading {
  if (answer.kind === 'UNCERTAIN') return { kind: 'RESULT', result: uncertain(answer.reason) };
  if (answer.kind === 'REFUSED') {
    // No trade yet (never scanned or opened): there is nothing at Alipay to close. See docs/channels/alipay.md.
    if (answer.subCode === 'ACQ.TRADE_NOT_EXIST' || answer.subCode === 'ACQ.TRADE_HAS_CLOSE') return { kind: 'RESULT', result: { status: 'CLOSED' } };
    if (answer.subCode === 'ACQ.TRADE_STATUS_ERROR') return { kind: 'NEEDS_QUERY' };
    return { kind: 'RESULT', result: uncertain(`Alipay refused the close: ${answer.subCode} ${answer.message}`) };
  }
  if (!checkers.close.Check(answer.body) || answer.body.out_trade_no !== attemptNo) return { kind: 'RESULT', result: uncertain('Alipay answered the close for another trade') };
  return { kind: 'RESULT', result: { status: 'CLOSED' } };
}

export function closeResultFromQuery(result: ChannelQueryResult): ChannelCloseResult {
  if (result.status === 'SUCCEEDED') return { status: 'ALREADY_PAID' };
  if (result.status === 'FAILED' && result.code === 'TRADE_CLOSED') return { status: 'CLOSED' };
  if (result.status === 'UNKNOWN') return result;
  return uncertain(`the close was refused and the trade reads ${result.status}`);
}

/** alipay.trade.cancel: `action` says what Alipay did; retry_flag Y on a failure asks for the same call again. */
export function cancelResultFromAnswer(answer: GatewayAnswer, attemptNo: string): ChannelCancelResult {
  if (answer.kind === 'UNCERTAIN') return uncertain(answer.reason);
  if (answer.kind === 'REFUSED') return refusedResult(answer);
  if (!checkers.cancel.Check(answer.body)) return uncertain('Alipay answered the cancel unreadably');
  const { out_trade_no: outTradeNo, action, retry_flag: retryFlag } = answer.body;
  if (outTradeNo !== undefined && outTradeNo !== attemptNo) return uncertain(`Alipay answered for ${outTradeNo.slice(0, 64)}, not ${attemptNo}`);
  if (retryFlag === 'Y') return uncertain('Alipay asks for the cancel to be retried');
  switch (action) {
    case 'close':
      return { status: 'CANCELLED', refunded: false };
    case 'refund':
      return { status: 'CANCELLED', refunded: true };
    case undefined:
      // Alipay found no trade under this number: nothing was paid, and nothing can be paid under it now.
      return { status: 'CANCELLED', refunded: false };
    default:
      return uncertain(`unknown cancel action "${action.slice(0, 40)}"`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Refunds

/** fund_change N says this call moved no money: either a repeat of a finished refund or one still running. */
export type RefundReading = { readonly kind: 'RESULT'; readonly result: ChannelRefundResult } | { readonly kind: 'NEEDS_QUERY'; readonly channelTradeNo: string };

/**
 * alipay.trade.refund. refund_fee is the trade's total refunded so far, not this refund's amount, so it can
 * only bound the echo: a success whose total is below this refund cannot be this refund.
 */
export function refundReadingFromAnswer(answer: GatewayAnswer, request: ChannelRefundRequest): RefundReading {
  if (answer.kind === 'UNCERTAIN') return { kind: 'RESULT', result: uncertain(answer.reason) };
  if (answer.kind === 'REFUSED') return { kind: 'RESULT', result: refusedResult(answer) };
  if (!checkers.refund.Check(answer.body)) return { kind: 'RESULT', result: uncertain('Alipay answered the refund unreadably') };
  const body = answer.body;
  if (body.out_trade_no !== request.attemptNo) return { kind: 'RESULT', result: uncertain(`Alipay refunded ${body.out_trade_no.slice(0, 64)}, not ${request.attemptNo}`) };
  if (body.fund_change === 'N') return { kind: 'NEEDS_QUERY', channelTradeNo: body.trade_no };
  if (body.fund_change !== 'Y') return { kind: 'RESULT', result: uncertain(`unknown fund_change "${body.fund_change.slice(0, 8)}"`) };
  const refundedMinor = parseYuan(body.refund_fee);
  if (refundedMinor === null || refundedMinor < request.amountMinor) {
    return { kind: 'RESULT', result: uncertain(`amount mismatch: refunding ${request.amountMinor}, Alipay's refunded total is "${body.refund_fee.slice(0, 40)}"`) };
  }
  return { kind: 'RESULT', result: { status: 'SUCCEEDED', channelRefundNo: body.trade_no, amountMinor: request.amountMinor, currency: alipayCurrency } };
}

export interface RefundExpectation {
  readonly attemptNo: string;
  readonly refundNo: string;
  /** Known when confirming a refund just sent; a plain query knows only the numbers. */
  readonly amountMinor?: bigint;
}

/**
 * alipay.trade.fastpay.refund.query. An answer without the refund means Alipay has no such refund (it may
 * be sent again under the same out_request_no); refund_status REFUND_SUCCESS is the only success.
 */
export function refundQueryResultFromAnswer(answer: GatewayAnswer, expected: RefundExpectation): ChannelRefundQueryResult {
  if (answer.kind === 'UNCERTAIN') return uncertain(answer.reason);
  if (answer.kind === 'REFUSED') {
    if (answer.subCode === 'ACQ.TRADE_NOT_EXIST') return { status: 'NOT_FOUND' };
    return uncertain(`Alipay refused the refund query: ${answer.subCode} ${answer.message}`);
  }
  if (!checkers.refundQuery.Check(answer.body)) return uncertain('Alipay answered the refund query unreadably');
  const body = answer.body;
  if (body.out_request_no === undefined || body.out_request_no === '') return { status: 'NOT_FOUND' };
  if (body.out_request_no !== expected.refundNo) return uncertain(`Alipay answered for refund ${body.out_request_no.slice(0, 64)}, not ${expected.refundNo}`);
  if (body.out_trade_no !== undefined && body.out_trade_no !== expected.attemptNo) return uncertain(`Alipay answered for ${body.out_trade_no.slice(0, 64)}, not ${expected.attemptNo}`);
  const channelRefundNo = body.trade_no ?? '';
  if (body.refund_status === undefined || body.refund_status === '') return channelRefundNo ? { status: 'PENDING', channelRefundNo } : { status: 'PENDING' };
  if (body.refund_status !== 'REFUND_SUCCESS') return uncertain(`unknown refund_status "${body.refund_status.slice(0, 40)}"`);
  const amountMinor = parseYuan(body.refund_amount);
  if (amountMinor === null) return uncertain('Alipay reported a refund without a readable refund_amount');
  if (expected.amountMinor !== undefined && amountMinor !== expected.amountMinor) {
    return uncertain(`amount mismatch: refunding ${expected.amountMinor}, Alipay echoed ${amountMinor}`);
  }
  if (!channelRefundNo) return uncertain('Alipay reported a refund without trade_no');
  return { status: 'SUCCEEDED', channelRefundNo, amountMinor, currency: alipayCurrency };
}
