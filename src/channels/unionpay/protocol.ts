/**
 * UnionPay online gateway (全渠道) version 5.1.0 wire protocol: endpoints, field builders for each transaction,
 * Beijing-time and fen conversions, the SDKs' answer parser, and pure mapping of answers, query results and
 * callbacks to Tongbao's channel results. Nothing here does I/O; the adapter and the test simulator share it.
 * docs/channels/unionpay.md describes the mapping in prose.
 */
import type { ChannelOperationResult, ChannelPayResult, ChannelRefundResult } from '../types.js';
import type { Fields } from './signature.js';

export const unionpayPaths = {
  back: '/gateway/api/backTransReq.do',
  front: '/gateway/api/frontTransReq.do',
  query: '/gateway/api/queryTrans.do',
  file: '/gateway/api/fileTransReq.do',
} as const;

export const txnTypes = {
  query: '00',
  consume: '01',
  preauth: '02',
  preauthComplete: '03',
  refund: '04',
  consumeCancel: '31',
  preauthCancel: '32',
  preauthCompleteCancel: '33',
  fileDownload: '76',
} as const;

export const bizTypes = { gateway: '000201', noRedirect: '000301', none: '000000' } as const;

/** UnionPay takes renminbi only on this gateway; currencyCode is the ISO 4217 numeric code. */
export const cnyCode = '156';

/** orderId: 8 to 40 letters or digits, unique per merId; Tongbao's business numbers fit. */
export const orderIdPattern = /^[0-9A-Za-z]{8,40}$/;

/** txnAmt is at most 12 digits of fen. */
export const maxTxnAmtMinor = 999_999_999_999n;

// ---------------------------------------------------------------------------------------------------------
// Beijing time. China has kept UTC+8 without daylight saving since 1991, so plain arithmetic is exact.

const beijingOffsetMs = 8 * 60 * 60 * 1000;
const two = (value: number) => String(value).padStart(2, '0');

function beijingParts(date: Date): { year: number; month: string; day: string; hour: string; minute: string; second: string } {
  const local = new Date(date.getTime() + beijingOffsetMs);
  return {
    year: local.getUTCFullYear(), month: two(local.getUTCMonth() + 1), day: two(local.getUTCDate()),
    hour: two(local.getUTCHours()), minute: two(local.getUTCMinutes()), second: two(local.getUTCSeconds()),
  };
}

/** yyyyMMddHHmmss in Beijing time: txnTime, payTimeout. */
export function txnTimeOf(date: Date): string {
  const p = beijingParts(date);
  return `${p.year}${p.month}${p.day}${p.hour}${p.minute}${p.second}`;
}

function beijingInstant(year: number, month: number, day: number, hour: number, minute: number, second: number): Date | null {
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(utc);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return new Date(utc - beijingOffsetMs);
}

export function parseTxnTime(text: string | undefined): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text ?? '');
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  return beijingInstant(year, month, day, hour, minute, second);
}

/**
 * traceTime (MMddHHmmss, Beijing) has no year: take the latest instant with that wall-clock time that is not
 * more than a day after `reference`, which is right for any answer about the past year.
 */
export function instantFromTraceTime(traceTime: string | undefined, reference: Date): Date | null {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(traceTime ?? '');
  if (!match) return null;
  const [month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number];
  const latest = reference.getTime() + 24 * 60 * 60 * 1000;
  for (const year of [beijingParts(reference).year + 1, beijingParts(reference).year, beijingParts(reference).year - 1]) {
    const instant = beijingInstant(year, month, day, hour, minute, second);
    if (instant && instant.getTime() <= latest) return instant;
  }
  return null;
}

/** UnionPay's settlement day turns at 23:00 Beijing time: a transaction at 23:30 settles on the next day. */
export const settlementCutoffHour = 23;

/** The settlement day (yyyy-MM-dd) an instant belongs to. */
export function settlementDayOf(date: Date): string {
  const p = beijingParts(new Date(date.getTime() + (24 - settlementCutoffHour) * 60 * 60 * 1000));
  return `${p.year}-${p.month}-${p.day}`;
}

export const statementDatePattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** settleDate (MMdd) of a yyyy-MM-dd settlement day. */
export function settleDateOf(day: string): string {
  return day.slice(5, 7) + day.slice(8, 10);
}

// ---------------------------------------------------------------------------------------------------------
// Money: txnAmt is an integer count of fen, which is CNY's minor unit.

export function txnAmtOf(amountMinor: bigint): string {
  if (amountMinor <= 0n || amountMinor > maxTxnAmtMinor) throw new Error(`txnAmt out of range: ${amountMinor}`);
  return amountMinor.toString();
}

export function parseTxnAmt(text: string | undefined): bigint | null {
  return text !== undefined && /^(0|[1-9]\d{0,11})$/.test(text) ? BigInt(text) : null;
}

// ---------------------------------------------------------------------------------------------------------
// Encodings. Requests and callbacks are URL-encoded forms; synchronous answers are raw key=value pairs joined
// by & whose values are not URL-encoded (the SDKs split them, keeping & inside {...} or [...] values).

export function formBody(fields: Fields): string {
  return new URLSearchParams(fields as Record<string, string>).toString();
}

/** A URL-encoded form; null when a key repeats, since a repeated field makes the signature ambiguous. */
export function parseForm(body: string): Record<string, string> | null {
  const fields: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(fields, key)) return null;
    fields[key] = value;
  }
  return fields;
}

/** The SDKs' parser for synchronous answers; null when the text is not key=value pairs or a key repeats. */
export function parseAnswer(text: string): Record<string, string> | null {
  let body = text.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  if (body === '') return null;
  const fields: Record<string, string> = {};
  let key: string | null = null;
  let current = '';
  let closer: string | null = null;
  const put = (): boolean => {
    if (key === null || key === '' || Object.hasOwn(fields, key)) return false;
    fields[key] = current;
    return true;
  };
  for (const char of body) {
    if (key === null) {
      if (char === '=') {
        key = current;
        current = '';
      } else if (char === '&') return null;
      else current += char;
      continue;
    }
    if (closer !== null) {
      if (char === closer) closer = null;
    } else if (char === '{') closer = '}';
    else if (char === '[') closer = ']';
    if (char === '&' && closer === null) {
      if (!put()) return null;
      key = null;
      current = '';
    } else current += char;
  }
  return put() ? fields : null;
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export interface MerchantIdentity {
  readonly merId: string;
  readonly certId: string;
  /** 07 PC, 08 mobile. */
  readonly channelType: '07' | '08';
}

export function commonFields(merchant: MerchantIdentity, txnTime: string): Record<string, string> {
  return { version: '5.1.0', encoding: 'UTF-8', signMethod: '01', certId: merchant.certId, merId: merchant.merId, accessType: '0', txnTime };
}

/** A money-moving transaction (consume, pre-auth family, refund, cancel). origQryId names the original. */
export interface MoneyTransaction {
  readonly txnType: string;
  readonly bizType: string;
  readonly orderId: string;
  readonly amountMinor: bigint;
  readonly backUrl: string;
  readonly origQryId?: string;
  readonly frontUrl?: string;
  readonly payTimeout?: string;
  /** Token payments: the token and the token requestor id (trId). */
  readonly token?: { readonly token: string; readonly trId: string };
}

const initialTxnTypes: readonly string[] = [txnTypes.consume, txnTypes.preauth];

export function moneyFields(merchant: MerchantIdentity, txnTime: string, txn: MoneyTransaction): Record<string, string> {
  return {
    ...commonFields(merchant, txnTime),
    txnType: txn.txnType,
    txnSubType: initialTxnTypes.includes(txn.txnType) ? '01' : '00',
    bizType: txn.bizType,
    channelType: merchant.channelType,
    orderId: txn.orderId,
    txnAmt: txnAmtOf(txn.amountMinor),
    currencyCode: cnyCode,
    backUrl: txn.backUrl,
    ...(txn.origQryId === undefined ? {} : { origQryId: txn.origQryId }),
    ...(txn.frontUrl === undefined ? {} : { frontUrl: txn.frontUrl }),
    ...(txn.payTimeout === undefined ? {} : { payTimeout: txn.payTimeout }),
    ...(txn.token === undefined ? {} : { tokenPayData: `{trId=${txn.token.trId}&token=${txn.token.token}}` }),
  };
}

/** Transaction status query of one earlier request: its own orderId and the txnTime it was sent with. */
export function queryFields(merchant: MerchantIdentity, orderId: string, origTxnTime: string): Record<string, string> {
  return { ...commonFields(merchant, origTxnTime), txnType: txnTypes.query, txnSubType: '00', bizType: bizTypes.none, orderId };
}

/** File download of one settlement day's statement files (fileType 00: the merchant's general files). */
export function fileFields(merchant: MerchantIdentity, txnTime: string, settleDate: string): Record<string, string> {
  return { ...commonFields(merchant, txnTime), txnType: txnTypes.fileDownload, txnSubType: '01', bizType: bizTypes.none, settleDate, fileType: '00' };
}

// ---------------------------------------------------------------------------------------------------------
// Answers

/**
 * How a respCode (or a query's origRespCode) reads. 05 means accepted and still processing; 03 and 04 mean the
 * outcome is unclear, so money may have moved. Declines are the documented refusals that leave nothing changed.
 * 12 (duplicate order), 42 (debited after the pay timeout), 99 and any code not listed are never read as a
 * decline: the caller must query.
 */
export type RespCodeClass = 'SUCCESS' | 'PROCESSING' | 'UNCLEAR' | 'NOT_FOUND' | 'DECLINED' | 'UNKNOWN';

export function classifyRespCode(code: string | undefined): RespCodeClass {
  if (code === '00') return 'SUCCESS';
  if (code === '05') return 'PROCESSING';
  if (code === '03' || code === '04') return 'UNCLEAR';
  if (code === '34') return 'NOT_FOUND';
  if (code !== undefined && /^(0[126]|1[0134]|3[0-35-9]|4[013-8]|[67]\d|98)$/.test(code)) return 'DECLINED';
  return 'UNKNOWN';
}

/** What the caller asked; UnionPay's echo must match it. Queries know only the order and its kind. */
export interface Expectation {
  readonly merId: string;
  readonly orderId: string;
  readonly txnTypes: readonly string[];
  readonly amountMinor?: bigint;
}

/** A reason the echoed identity or money differs from what was asked, or null. */
export function echoProblem(fields: Fields, expected: Expectation, requireMoney: boolean): string | null {
  if (fields.merId !== expected.merId) return `UnionPay answered for merId ${String(fields.merId).slice(0, 20)}`;
  if (fields.orderId !== expected.orderId) return `UnionPay answered for orderId ${String(fields.orderId).slice(0, 40)}, not ${expected.orderId}`;
  if (fields.txnType !== undefined && !expected.txnTypes.includes(fields.txnType)) return `UnionPay answered about txnType ${fields.txnType.slice(0, 4)}`;
  if (!requireMoney && fields.txnAmt === undefined && fields.currencyCode === undefined) return null;
  const amountMinor = parseTxnAmt(fields.txnAmt);
  if (amountMinor === null) return `UnionPay echoed an unreadable txnAmt "${String(fields.txnAmt).slice(0, 20)}"`;
  if (expected.amountMinor !== undefined && amountMinor !== expected.amountMinor) return `amount mismatch: asked ${expected.amountMinor}, UnionPay echoed ${amountMinor}`;
  if (fields.currencyCode !== cnyCode) return `currency mismatch: asked ${cnyCode}, UnionPay echoed ${String(fields.currencyCode).slice(0, 8)}`;
  return null;
}

/** A transaction's state in Tongbao's terms before it is shaped into a pay, refund or operation result. */
export type Outcome =
  | { readonly kind: 'SUCCEEDED'; readonly queryId: string; readonly amountMinor: bigint; readonly at: Date }
  | { readonly kind: 'PENDING'; readonly queryId?: string }
  | { readonly kind: 'FAILED'; readonly code: string; readonly message: string; readonly queryId?: string }
  | { readonly kind: 'UNKNOWN'; readonly reason: string }
  | { readonly kind: 'NOT_FOUND' };

/** An outcome of a transaction that was sent: UnionPay knows it, in whatever state. */
export type Settled = Exclude<Outcome, { kind: 'NOT_FOUND' }>;

const queryIdOf = (fields: Fields) => (fields.queryId ? { queryId: fields.queryId } : {});

/** A settled state (respCode of a callback, origRespCode of a query) with the money it reports. */
function outcomeOfState(code: string | undefined, message: string | undefined, fields: Fields, now: Date): Outcome {
  switch (classifyRespCode(code)) {
    case 'SUCCESS': {
      const at = instantFromTraceTime(fields.traceTime, now) ?? parseTxnTime(fields.txnTime);
      if (!fields.queryId || !at) return { kind: 'UNKNOWN', reason: 'UnionPay reported success without queryId or traceTime' };
      return { kind: 'SUCCEEDED', queryId: fields.queryId, amountMinor: parseTxnAmt(fields.txnAmt)!, at };
    }
    case 'PROCESSING':
    case 'UNCLEAR':
      return { kind: 'PENDING', ...queryIdOf(fields) };
    case 'DECLINED':
      return { kind: 'FAILED', code: code!, message: message ?? 'UnionPay declined the transaction', ...queryIdOf(fields) };
    default:
      return { kind: 'UNKNOWN', reason: `unknown UnionPay state "${String(code).slice(0, 8)}"` };
  }
}

/**
 * The synchronous answer to a back-end transaction. respCode 00 only says UnionPay accepted the request: the
 * result comes by callback or query, so it is ACCEPTED here and the adapter queries.
 */
export type TransactionAnswer = { readonly kind: 'ACCEPTED'; readonly queryId?: string } | Exclude<Outcome, { kind: 'SUCCEEDED' } | { kind: 'NOT_FOUND' }>;

export function readTransactionAnswer(fields: Fields, expected: Expectation): TransactionAnswer {
  const code = fields.respCode;
  const kind = classifyRespCode(code);
  if (kind === 'SUCCESS' || kind === 'PROCESSING') {
    const problem = echoProblem(fields, expected, true);
    if (problem) return { kind: 'UNKNOWN', reason: problem };
    return kind === 'SUCCESS' ? { kind: 'ACCEPTED', ...queryIdOf(fields) } : { kind: 'PENDING', ...queryIdOf(fields) };
  }
  // A refusal says nothing about the original's money, so only the identity must match.
  if (kind === 'DECLINED' || kind === 'NOT_FOUND') {
    if (fields.orderId !== undefined && fields.orderId !== expected.orderId) return { kind: 'UNKNOWN', reason: 'UnionPay refused another orderId' };
    return { kind: 'FAILED', code: code!, message: fields.respMsg ?? 'UnionPay refused the transaction' };
  }
  return { kind: 'UNKNOWN', reason: `UnionPay answered respCode ${String(code).slice(0, 8)}: ${String(fields.respMsg ?? '').slice(0, 80)}` };
}

/** A query answer: respCode is about the query itself, origRespCode about the transaction queried. */
export function readQueryAnswer(fields: Fields, expected: Expectation, now: Date): Outcome {
  const code = classifyRespCode(fields.respCode);
  if (code === 'NOT_FOUND') return { kind: 'NOT_FOUND' };
  if (code !== 'SUCCESS') return { kind: 'UNKNOWN', reason: `the query answered respCode ${String(fields.respCode).slice(0, 8)}` };
  const problem = echoProblem(fields, expected, classifyRespCode(fields.origRespCode) === 'SUCCESS');
  if (problem) return { kind: 'UNKNOWN', reason: problem };
  return outcomeOfState(fields.origRespCode, fields.origRespMsg, fields, now);
}

/** A verified callback: its respCode is the transaction's state. */
export function readNotification(fields: Fields, now: Date): Outcome {
  const requireMoney = classifyRespCode(fields.respCode) === 'SUCCESS';
  const problem = echoProblem(fields, { merId: fields.merId ?? '', orderId: fields.orderId ?? '', txnTypes: [fields.txnType ?? ''] }, requireMoney);
  if (problem) return { kind: 'UNKNOWN', reason: problem };
  return outcomeOfState(fields.respCode, fields.respMsg, fields, now);
}

// ---------------------------------------------------------------------------------------------------------
// Outcomes as Tongbao results

export function payResultOf(outcome: Settled): ChannelPayResult {
  switch (outcome.kind) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', channelTradeNo: outcome.queryId, amountMinor: outcome.amountMinor, currency: 'CNY', paidAt: outcome.at };
    case 'PENDING':
      return outcome.queryId ? { status: 'PENDING', channelTradeNo: outcome.queryId } : { status: 'PENDING' };
    case 'FAILED':
      return { status: 'FAILED', code: outcome.code, message: outcome.message, ...(outcome.queryId ? { channelTradeNo: outcome.queryId } : {}) };
    case 'UNKNOWN':
      return { status: 'UNKNOWN', reason: outcome.reason };
  }
}

export function refundResultOf(outcome: Settled): ChannelRefundResult {
  switch (outcome.kind) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', channelRefundNo: outcome.queryId, amountMinor: outcome.amountMinor, currency: 'CNY' };
    case 'PENDING':
      return outcome.queryId ? { status: 'PENDING', channelRefundNo: outcome.queryId } : { status: 'PENDING' };
    case 'FAILED':
      return { status: 'FAILED', code: outcome.code, message: outcome.message };
    case 'UNKNOWN':
      return { status: 'UNKNOWN', reason: outcome.reason };
  }
}

export function operationResultOf(outcome: Settled): ChannelOperationResult {
  switch (outcome.kind) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', channelRef: outcome.queryId, amountMinor: outcome.amountMinor, currency: 'CNY', finishedAt: outcome.at };
    case 'PENDING':
      return outcome.queryId ? { status: 'PENDING', channelRef: outcome.queryId } : { status: 'PENDING' };
    case 'FAILED':
      return { status: 'FAILED', code: outcome.code, message: outcome.message };
    case 'UNKNOWN':
      return { status: 'UNKNOWN', reason: outcome.reason };
  }
}

/** Why a request cannot be sent at all (nothing reaches UnionPay, so the caller may treat it as declined), or null. */
export function requestProblem(orderId: string, amountMinor: bigint, currency: string): { readonly code: string; readonly message: string } | null {
  if (currency !== 'CNY') return { code: 'CURRENCY_NOT_SUPPORTED', message: `UnionPay's online gateway takes CNY only, not ${currency.slice(0, 8)}` };
  if (amountMinor <= 0n || amountMinor > maxTxnAmtMinor) return { code: 'INVALID_AMOUNT', message: 'txnAmt must be 1 to 999999999999 fen' };
  if (!orderIdPattern.test(orderId)) return { code: 'INVALID_ORDER_ID', message: 'UnionPay orderId must be 8 to 40 letters or digits' };
  return null;
}
