/**
 * WeChat Pay API v3 as Tongbao speaks it: the JSON shapes of orders, transactions and refunds, fen
 * amounts, RFC 3339 times in Beijing time, the JSAPI payment signature, and pure functions that map
 * WeChat's answers to channel results. No I/O and no state: the adapter, the simulator and the unit tests
 * share these functions. Callbacks live in notification.ts, statements in statement.ts.
 */
import { createSign, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type {
  ChannelPayRequest,
  ChannelPayResult,
  ChannelQueryResult,
  ChannelRefundQueryResult,
  ChannelRefundResult,
  PayerAction,
} from '../types.js';

export const wechatProducts = ['WECHAT_NATIVE', 'WECHAT_JSAPI'] as const;
export type WechatProduct = (typeof wechatProducts)[number];

/** WeChat Pay domestic payments are in yuan, counted in fen: CNY's minor unit exactly. */
export const wechatCurrency = 'CNY';

/** Signed messages (answers, callbacks) more than this far from the local clock are refused. */
export const timestampWindowMs = 5 * 60 * 1000;

/** China Standard Time, UTC+8 all year; WeChat's times and bill dates are in it. */
export const beijingOffsetMs = 8 * 60 * 60 * 1000;

/** out_trade_no: 6 to 32 of digits, letters, _-|*. */
export const outTradeNoPattern = /^[0-9A-Za-z_\-|*]{6,32}$/;
/** out_refund_no: 1 to 64 of digits, letters, _-|*@. */
export const outRefundNoPattern = /^[0-9A-Za-z_\-|*@]{1,64}$/;

export const wechatHeaders = {
  timestamp: 'Wechatpay-Timestamp',
  nonce: 'Wechatpay-Nonce',
  signature: 'Wechatpay-Signature',
  serial: 'Wechatpay-Serial',
  signatureType: 'Wechatpay-Signature-Type',
} as const;

export const signatureScheme = 'WECHATPAY2-SHA256-RSA2048';

// ---------------------------------------------------------------------------------------------------------
// Amounts and times

/** Tongbao's minor units as WeChat's fen, or null when the currency is not CNY or the amount does not fit. */
export function fenFromMinor(amountMinor: bigint, currency: string): number | null {
  if (currency !== wechatCurrency) return null;
  if (amountMinor <= 0n || amountMinor > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(amountMinor);
}

/** A fen count from a WeChat answer, or null when it is not a non-negative safe integer. */
export function minorFromFen(fen: unknown): bigint | null {
  return typeof fen === 'number' && Number.isSafeInteger(fen) && fen >= 0 ? BigInt(fen) : null;
}

/** yyyy-MM-DDTHH:mm:ss+08:00, the form WeChat documents for time_expire and its own times. */
export function formatBeijingTime(instant: Date): string {
  return `${new Date(instant.getTime() + beijingOffsetMs).toISOString().slice(0, 19)}+08:00`;
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function parseWechatTime(text: string | undefined): Date | null {
  if (text === undefined || !rfc3339.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The bill day (yyyy-MM-dd, Beijing time) an instant falls on. */
export function beijingDateOf(instant: Date): string {
  return new Date(instant.getTime() + beijingOffsetMs).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export interface MerchantIds {
  readonly mchid: string;
  readonly appid: string;
}

export interface OrderBody {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire: string;
  notify_url: string;
  amount: { total: number; currency: string };
  payer?: { openid: string };
}

/** The order body for Native or JSAPI, or the reason it cannot be sent (nothing is sent then). */
export function orderBody(request: ChannelPayRequest, product: WechatProduct, ids: MerchantIds): { ok: true; body: OrderBody } | { ok: false; code: string; message: string } {
  if (request.currency !== wechatCurrency) return { ok: false, code: 'CURRENCY_NOT_SUPPORTED', message: `WeChat Pay takes CNY only, not ${request.currency}` };
  const total = fenFromMinor(request.amountMinor, request.currency);
  if (total === null) return { ok: false, code: 'INVALID_AMOUNT', message: `amount ${request.amountMinor} fen is out of range` };
  if (!outTradeNoPattern.test(request.attemptNo)) return { ok: false, code: 'INVALID_OUT_TRADE_NO', message: 'the attempt number does not fit out_trade_no' };
  const body: OrderBody = {
    appid: ids.appid,
    mchid: ids.mchid,
    // description is string(127); an empty one is refused, so the trade number stands in.
    description: [...(request.subject.trim() || request.tradeNo)].slice(0, 127).join(''),
    out_trade_no: request.attemptNo,
    time_expire: formatBeijingTime(request.expiresAt),
    notify_url: request.notifyUrl,
    amount: { total, currency: wechatCurrency },
  };
  if (product === 'WECHAT_JSAPI') {
    if (request.payer?.type !== 'openid' || request.payer.id === '') {
      return { ok: false, code: 'PAYER_REQUIRED', message: 'WECHAT_JSAPI needs the payer as { type: "openid", id }' };
    }
    body.payer = { openid: request.payer.id };
  }
  return { ok: true, body };
}

export interface RefundBody {
  out_trade_no: string;
  out_refund_no: string;
  reason?: string;
  notify_url: string;
  amount: { refund: number; total: number; currency: string };
}

export function refundBody(input: { attemptNo: string; refundNo: string; reason: string | null; notifyUrl: string; refundFen: number; totalFen: number }): RefundBody {
  return {
    out_trade_no: input.attemptNo,
    out_refund_no: input.refundNo,
    // reason is string(80) and shows on the payer's refund message.
    ...(input.reason ? { reason: [...input.reason].slice(0, 80).join('') } : {}),
    notify_url: input.notifyUrl,
    amount: { refund: input.refundFen, total: input.totalFen, currency: wechatCurrency },
  };
}

// ---------------------------------------------------------------------------------------------------------
// JSAPI: the parameters WeixinJSBridge.invoke('getBrandWCPayRequest') / wx.requestPayment take

/** The string WeChat signs for JSAPI: appId, timeStamp, nonceStr and package, each followed by a line feed. */
export function jsapiSignMessage(parts: { appId: string; timeStamp: string; nonceStr: string; package: string }): string {
  return `${parts.appId}\n${parts.timeStamp}\n${parts.nonceStr}\n${parts.package}\n`;
}

export function jsapiPayerAction(input: { appId: string; prepayId: string; timeStampSeconds: number; nonceStr: string; merchantKey: KeyObject }): PayerAction {
  const parts = { appId: input.appId, timeStamp: String(input.timeStampSeconds), nonceStr: input.nonceStr, package: `prepay_id=${input.prepayId}` };
  const paySign = createSign('RSA-SHA256').update(jsapiSignMessage(parts), 'utf8').sign(input.merchantKey, 'base64');
  return { type: 'SDK', parameters: { ...parts, signType: 'RSA', paySign } };
}

// ---------------------------------------------------------------------------------------------------------
// Answers

const Amount = Type.Object({
  total: Type.Optional(Type.Integer()),
  payer_total: Type.Optional(Type.Integer()),
  currency: Type.Optional(Type.String()),
  payer_currency: Type.Optional(Type.String()),
});

export const Transaction = Type.Object({
  appid: Type.String(),
  mchid: Type.String(),
  out_trade_no: Type.String(),
  transaction_id: Type.Optional(Type.String({ minLength: 1 })),
  trade_type: Type.Optional(Type.String()),
  trade_state: Type.String(),
  trade_state_desc: Type.Optional(Type.String()),
  bank_type: Type.Optional(Type.String()),
  success_time: Type.Optional(Type.String()),
  payer: Type.Optional(Type.Object({ openid: Type.Optional(Type.String()) })),
  amount: Type.Optional(Amount),
});
export type Transaction = Static<typeof Transaction>;

export const Refund = Type.Object({
  refund_id: Type.String({ minLength: 1 }),
  out_refund_no: Type.String(),
  transaction_id: Type.Optional(Type.String()),
  out_trade_no: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  user_received_account: Type.Optional(Type.String()),
  success_time: Type.Optional(Type.String()),
  create_time: Type.Optional(Type.String()),
  status: Type.String(),
  amount: Type.Object({
    total: Type.Integer(),
    refund: Type.Integer(),
    payer_total: Type.Optional(Type.Integer()),
    payer_refund: Type.Optional(Type.Integer()),
    currency: Type.String(),
  }),
});
export type Refund = Static<typeof Refund>;

export const NativeAnswer = Type.Object({ code_url: Type.String({ minLength: 1 }) });
export const JsapiAnswer = Type.Object({ prepay_id: Type.String({ minLength: 1 }) });
export const TradeBillAnswer = Type.Object({ hash_type: Type.String(), hash_value: Type.String(), download_url: Type.String({ minLength: 1 }) });
export const ErrorAnswer = Type.Object({ code: Type.String(), message: Type.Optional(Type.String()) });
export type ErrorAnswer = Static<typeof ErrorAnswer>;

export const checkers = {
  transaction: TypeCompiler.Compile(Transaction),
  refund: TypeCompiler.Compile(Refund),
  native: TypeCompiler.Compile(NativeAnswer),
  jsapi: TypeCompiler.Compile(JsapiAnswer),
  tradeBill: TypeCompiler.Compile(TradeBillAnswer),
  error: TypeCompiler.Compile(ErrorAnswer),
};

/** An answer whose signature the plugin verified: the HTTP status and the body as parsed JSON (or raw text). */
export interface WechatAnswer {
  readonly statusCode: number;
  readonly body: unknown;
}

type Unknown = { status: 'UNKNOWN'; reason: string };

export function unexpectedAnswer(answer: WechatAnswer): Unknown {
  const code = checkers.error.Check(answer.body) ? ` ${answer.body.code}` : '';
  return { status: 'UNKNOWN', reason: `WeChat Pay answered HTTP ${answer.statusCode}${code}` };
}

/** A signed 4xx with WeChat's error body: the request was refused. Never a 5xx, whose effect is unknown. */
export function rejectionOf(answer: WechatAnswer): ErrorAnswer | null {
  if (answer.statusCode < 400 || answer.statusCode >= 500 || !checkers.error.Check(answer.body)) return null;
  return answer.body;
}

/**
 * Order-creation refusals that leave nothing behind at WeChat. OUT_TRADE_NO_USED and ORDERPAID are not
 * here: they say an order already exists under this number, so money may have moved and the caller queries.
 */
const orderRefusalsWithoutEffect = new Set([
  'PARAM_ERROR', 'INVALID_REQUEST', 'APPID_MCHID_NOT_MATCH', 'MCH_NOT_EXISTS', 'SIGN_ERROR', 'NO_AUTH', 'RULE_LIMIT', 'TRADE_ERROR', 'FREQUENCY_LIMITED',
]);

export function payResultFromOrderAnswer(answer: WechatAnswer, product: WechatProduct, actionFor: (prepay: string) => PayerAction): ChannelPayResult {
  if (answer.statusCode === 200) {
    if (product === 'WECHAT_NATIVE' && checkers.native.Check(answer.body)) {
      return { status: 'PENDING', payerAction: { type: 'QR_CODE', content: answer.body.code_url } };
    }
    if (product === 'WECHAT_JSAPI' && checkers.jsapi.Check(answer.body)) return { status: 'PENDING', payerAction: actionFor(answer.body.prepay_id) };
    return { status: 'UNKNOWN', reason: 'WeChat Pay answered the order with an unreadable body' };
  }
  const refusal = rejectionOf(answer);
  if (refusal && orderRefusalsWithoutEffect.has(refusal.code)) {
    return { status: 'FAILED', code: refusal.code, message: refusal.message ?? 'WeChat Pay refused the order' };
  }
  return unexpectedAnswer(answer);
}

/** What Tongbao expects a transaction answer to echo. */
export interface TransactionExpectation extends MerchantIds {
  readonly outTradeNo: string;
}

/**
 * One transaction as a pay result. trade_state REFUND means it was paid and then (partly) refunded, so the
 * payment itself succeeded. A success must carry the transaction id, a readable time and a CNY amount.
 */
export function payResultFromTransaction(transaction: Transaction, expected: TransactionExpectation): ChannelPayResult {
  if (transaction.out_trade_no !== expected.outTradeNo) return { status: 'UNKNOWN', reason: `WeChat Pay answered for ${transaction.out_trade_no.slice(0, 40)}, not ${expected.outTradeNo}` };
  if (transaction.mchid !== expected.mchid || transaction.appid !== expected.appid) return { status: 'UNKNOWN', reason: 'the transaction belongs to another merchant or app' };
  const channelTradeNo = transaction.transaction_id;
  switch (transaction.trade_state) {
    case 'SUCCESS':
    case 'REFUND': {
      const amountMinor = minorFromFen(transaction.amount?.total);
      const currency = transaction.amount?.currency;
      const paidAt = parseWechatTime(transaction.success_time);
      if (amountMinor === null) return { status: 'UNKNOWN', reason: 'a paid transaction without a readable amount.total' };
      if (currency !== wechatCurrency) return { status: 'UNKNOWN', reason: `currency mismatch: asked ${wechatCurrency}, WeChat Pay echoed ${String(currency).slice(0, 8)}` };
      if (!channelTradeNo || !paidAt) return { status: 'UNKNOWN', reason: 'a paid transaction without transaction_id or a readable success_time' };
      return { status: 'SUCCEEDED', channelTradeNo, amountMinor, currency, paidAt };
    }
    case 'NOTPAY':
    case 'USERPAYING':
    case 'ACCEPT':
      return channelTradeNo ? { status: 'PENDING', channelTradeNo } : { status: 'PENDING' };
    case 'CLOSED':
    case 'PAYERROR':
    case 'REVOKED':
      return {
        status: 'FAILED',
        code: transaction.trade_state,
        message: transaction.trade_state_desc ?? `the transaction is ${transaction.trade_state}`,
        ...(channelTradeNo ? { channelTradeNo } : {}),
      };
    default:
      return { status: 'UNKNOWN', reason: `unknown trade_state "${transaction.trade_state.slice(0, 40)}"` };
  }
}

export function queryResultFromAnswer(answer: WechatAnswer, expected: TransactionExpectation): ChannelQueryResult {
  if (answer.statusCode === 200) {
    if (!checkers.transaction.Check(answer.body)) return { status: 'UNKNOWN', reason: 'WeChat Pay answered with an unreadable transaction' };
    return payResultFromTransaction(answer.body, expected);
  }
  if (answer.statusCode === 404 && rejectionOf(answer)?.code === 'ORDER_NOT_EXIST') return { status: 'NOT_FOUND' };
  return unexpectedAnswer(answer);
}

/** What Tongbao expects a refund answer to echo; queries know only the number. */
export interface RefundExpectation {
  readonly outRefundNo: string;
  readonly refundMinor?: bigint;
  readonly totalMinor?: bigint;
}

/**
 * One refund as a refund result. ABNORMAL (the payer's card was closed, say) waits for the merchant to act
 * at WeChat and can still end in SUCCESS, so it stays PENDING; only CLOSED is a final failure.
 */
export function refundResultFromRefund(refund: Refund, expected: RefundExpectation): ChannelRefundResult {
  if (refund.out_refund_no !== expected.outRefundNo) return { status: 'UNKNOWN', reason: `WeChat Pay answered for refund ${refund.out_refund_no.slice(0, 40)}, not ${expected.outRefundNo}` };
  const refundMinor = minorFromFen(refund.amount.refund);
  const totalMinor = minorFromFen(refund.amount.total);
  if (refundMinor === null || totalMinor === null) return { status: 'UNKNOWN', reason: 'a refund without readable amounts' };
  if (refund.amount.currency !== wechatCurrency) return { status: 'UNKNOWN', reason: `currency mismatch: asked ${wechatCurrency}, WeChat Pay echoed ${refund.amount.currency.slice(0, 8)}` };
  if (expected.refundMinor !== undefined && refundMinor !== expected.refundMinor) {
    return { status: 'UNKNOWN', reason: `amount mismatch: asked to refund ${expected.refundMinor}, WeChat Pay echoed ${refundMinor}` };
  }
  if (expected.totalMinor !== undefined && totalMinor !== expected.totalMinor) {
    return { status: 'UNKNOWN', reason: `amount mismatch: the order total is ${expected.totalMinor}, WeChat Pay echoed ${totalMinor}` };
  }
  switch (refund.status) {
    case 'SUCCESS':
      return { status: 'SUCCEEDED', channelRefundNo: refund.refund_id, amountMinor: refundMinor, currency: wechatCurrency };
    case 'PROCESSING':
    case 'ABNORMAL':
      return { status: 'PENDING', channelRefundNo: refund.refund_id };
    case 'CLOSED':
      return { status: 'FAILED', code: 'CLOSED', message: 'WeChat Pay closed the refund; the money stayed with the merchant' };
    default:
      return { status: 'UNKNOWN', reason: `unknown refund status "${refund.status.slice(0, 40)}"` };
  }
}

export function refundResultFromAnswer(answer: WechatAnswer, expected: RefundExpectation): ChannelRefundResult {
  if (answer.statusCode !== 200) return unexpectedAnswer(answer);
  if (!checkers.refund.Check(answer.body)) return { status: 'UNKNOWN', reason: 'WeChat Pay answered with an unreadable refund' };
  return refundResultFromRefund(answer.body, expected);
}

export function refundQueryResultFromAnswer(answer: WechatAnswer, outRefundNo: string): ChannelRefundQueryResult {
  if (answer.statusCode === 404 && rejectionOf(answer)?.code === 'RESOURCE_NOT_EXISTS') return { status: 'NOT_FOUND' };
  return refundResultFromAnswer(answer, { outRefundNo });
}
