/**
 * Tongbao's adapter for WeChat Pay API v3 (direct merchants, platform public key mode). Requests go through
 * wechatpay-axios-plugin, which signs each one with the merchant API key (Authorization:
 * WECHATPAY2-SHA256-RSA2048) and verifies the platform's signature on every answer; this adapter gives it
 * its own connection pool and a hard time limit, and maps answers with protocol.ts. Anything it cannot
 * trust or did not get in time is UNKNOWN.
 *
 * Example:
 *   const adapter = createWechatAdapter(parseWechatConfig(sealedConfig));
 *   const result = await adapter.pay({ attemptNo: '2024...0001', product: 'WECHAT_NATIVE', amountMinor: 1999n, currency: 'CNY', ... });
 *   // result: { status: 'PENDING', payerAction: { type: 'QR_CODE', content: 'weixin://wxpay/bizpayurl?pr=...' } }
 *   await adapter.dispose();
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Wechatpay } from 'wechatpay-axios-plugin';
import { now } from '../../clock.js';
import type { ChannelAdapter, ChannelCapabilities, ChannelCloseResult, ChannelQueryResult, ChannelRefundQueryRequest, ChannelRefundQueryResult, ChannelRefundRequest, ChannelRefundResult } from '../types.js';
import type { WechatConfig } from './config.js';
import { callbackAnswers, notificationFromEnvelope, parseEnvelope, readCallbackHeaders, rsaVerify, signedMessage } from './notification.js';
import {
  checkers,
  fenFromMinor,
  jsapiPayerAction,
  orderBody,
  outRefundNoPattern,
  outTradeNoPattern,
  payResultFromOrderAnswer,
  queryResultFromAnswer,
  refundBody,
  refundQueryResultFromAnswer,
  refundResultFromAnswer,
  rejectionOf,
  timestampWindowMs,
  unexpectedAnswer,
  wechatCurrency,
  wechatProducts,
  type ErrorAnswer,
  type RefundExpectation,
  type WechatAnswer,
  type WechatProduct,
} from './protocol.js';
import { billDatePattern, billDigest, billToCsv, tradeBillColumns } from './statement.js';

export type WechatAdapter = ChannelAdapter & {
  /** Closes the connection pool; calls in flight fail and answer UNKNOWN. */
  dispose(): Promise<void>;
};

export const wechatCapabilities: ChannelCapabilities = {
  products: wechatProducts,
  currencies: [wechatCurrency],
  // Native and JSAPI orders are paid later by the payer; the result comes by callback or query.
  resultMode: 'async',
  refund: true,
  partialRefund: true,
  close: true,
  // 撤销 exists only for payment-code (付款码) payments, not for Native or JSAPI.
  cancel: false,
  preauth: false,
  payout: false,
  statement: true,
  escrow: true,
  maxAmountMinor: null,
};

/** Bills can be long; every other answer is a few kilobytes. */
const maxResponseBytes = 64 * 1024 * 1024;

type Exchange = { readonly ok: true; readonly answer: WechatAnswer } | { readonly ok: false; readonly reason: string };

interface CallOptions {
  readonly body?: object;
  readonly params?: Record<string, string>;
  readonly responseType?: 'arraybuffer';
}

export function createWechatAdapter(config: WechatConfig): WechatAdapter {
  const merchantKey = createPrivateKey(config.merchantPrivateKey.reveal());
  const platformKey = createPublicKey(config.platformPublicKeyPem);
  const ids = { mchid: config.mchid, appid: config.appid };
  const secure = new URL(config.baseUrl).protocol === 'https:';
  // Each adapter has its own pool, so a slow WeChat cannot take the sockets other channels need.
  const agentOptions = { keepAlive: true, maxSockets: config.maxConnections, maxTotalSockets: config.maxConnections, timeout: config.timeoutMs };
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const client = new Wechatpay({
    mchid: config.mchid,
    serial: config.merchantSerialNo,
    privateKey: config.merchantPrivateKey.reveal(),
    certs: { [config.platformPublicKeyId]: config.platformPublicKeyPem },
    baseURL: `${config.baseUrl}/`,
    timeout: config.timeoutMs,
    ...(secure ? { httpsAgent: agent } : { httpAgent: agent }),
    // The plugin verifies answers only when validateStatus accepts them, so it accepts all: an error answer
    // is signed too, and a 404 ORDER_NOT_EXIST must be WeChat's own before it can mean "never charged".
    validateStatus: () => true,
    maxRedirects: 0,
    proxy: false,
    maxContentLength: maxResponseBytes,
  });

  async function call(method: 'get' | 'post', path: string, options: CallOptions = {}): Promise<Exchange> {
    const requestConfig = {
      // axios's own timeout only watches for an idle socket; the signal bounds the whole call.
      signal: AbortSignal.timeout(config.timeoutMs),
      ...(options.params ? { params: options.params } : {}),
      ...(options.responseType ? { responseType: options.responseType } : {}),
    };
    try {
      const endpoint = client.chain(path);
      const response = method === 'get' ? await endpoint.get(requestConfig) : await endpoint.post(options.body, requestConfig);
      return { ok: true, answer: { statusCode: response.status, body: response.data } };
    } catch (error) {
      return { ok: false, reason: describeFailure(error) };
    }
  }

  async function queryAttempt(attemptNo: string): Promise<ChannelQueryResult> {
    // pay() never sends a number WeChat would refuse, so such a number has no order there.
    if (!outTradeNoPattern.test(attemptNo)) return { status: 'NOT_FOUND' };
    const result = await call('get', `v3/pay/transactions/out-trade-no/${encodeURIComponent(attemptNo)}`, { params: { mchid: config.mchid } });
    return result.ok ? queryResultFromAnswer(result.answer, { ...ids, outTradeNo: attemptNo }) : { status: 'UNKNOWN', reason: result.reason };
  }

  async function queryRefund({ refundNo }: ChannelRefundQueryRequest): Promise<ChannelRefundQueryResult> {
    if (!outRefundNoPattern.test(refundNo)) return { status: 'NOT_FOUND' };
    const result = await call('get', `v3/refund/domestic/refunds/${encodeURIComponent(refundNo)}`);
    return result.ok ? refundQueryResultFromAnswer(result.answer, refundNo) : { status: 'UNKNOWN', reason: result.reason };
  }

  /**
   * A refused refund is FAILED only once a query shows no refund under this number: the same number may
   * have been sent before (a retry after a timeout), and that refund may have moved money.
   */
  async function confirmRefusal(refusal: ErrorAnswer, expected: RefundExpectation): Promise<ChannelRefundResult> {
    const result = await call('get', `v3/refund/domestic/refunds/${encodeURIComponent(expected.outRefundNo)}`);
    if (!result.ok) return { status: 'UNKNOWN', reason: `refund refused with ${refusal.code}, and the check that nothing was refunded failed: ${result.reason}` };
    const found = refundQueryResultFromAnswer(result.answer, expected.outRefundNo);
    if (found.status !== 'NOT_FOUND') return result.answer.statusCode === 200 ? refundResultFromAnswer(result.answer, expected) : found;
    return { status: 'FAILED', code: refusal.code, message: refusal.message ?? 'WeChat Pay refused the refund' };
  }

  async function refund(request: ChannelRefundRequest): Promise<ChannelRefundResult> {
    if (request.currency !== wechatCurrency) return { status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED', message: `WeChat Pay refunds CNY only, not ${request.currency}` };
    const refundFen = fenFromMinor(request.amountMinor, request.currency);
    if (refundFen === null) return { status: 'FAILED', code: 'INVALID_AMOUNT', message: `refund amount ${request.amountMinor} fen is out of range` };
    if (!outRefundNoPattern.test(request.refundNo)) return { status: 'FAILED', code: 'INVALID_OUT_REFUND_NO', message: 'the refund number does not fit out_refund_no' };
    // WeChat wants the order's total with every refund: the payment's amount, which Tongbao passes.
    const totalFen = fenFromMinor(request.paymentAmountMinor, request.currency);
    if (totalFen === null) return { status: 'FAILED', code: 'INVALID_AMOUNT', message: `payment amount ${request.paymentAmountMinor} fen is out of range` };
    const body = refundBody({ ...request, refundFen, totalFen });
    const result = await call('post', 'v3/refund/domestic/refunds', { body });
    if (!result.ok) return { status: 'UNKNOWN', reason: result.reason };
    const expected = { outRefundNo: request.refundNo, refundMinor: request.amountMinor, totalMinor: request.paymentAmountMinor };
    const refusal = rejectionOf(result.answer);
    return refusal ? confirmRefusal(refusal, expected) : refundResultFromAnswer(result.answer, expected);
  }

  /** The trade bill of one day: ask for it, fetch the file, check its digest, convert it to CSV. */
  async function downloadStatement(date: string): Promise<string> {
    if (!billDatePattern.test(date)) throw new Error(`statement date must be yyyy-MM-dd, got ${JSON.stringify(date).slice(0, 40)}`);
    const bill = await call('get', 'v3/bill/tradebill', { params: { bill_date: date, bill_type: 'ALL' } });
    if (!bill.ok) throw new Error(`wechat statement ${date}: ${bill.reason}`);
    // A day without a single trade has no bill at all; its statement is empty.
    if (rejectionOf(bill.answer)?.code === 'NO_STATEMENT_EXIST') return `${tradeBillColumns.join(',')}\n`;
    if (bill.answer.statusCode !== 200 || !checkers.tradeBill.Check(bill.answer.body)) throw new Error(`wechat statement ${date}: ${unexpectedAnswer(bill.answer).reason}`);
    const { download_url: downloadUrl, hash_type: hashType, hash_value: hashValue } = bill.answer.body;
    // The download is signed with the merchant's key, so it may only go back to WeChat Pay's own API.
    const url = new URL(downloadUrl, `${config.baseUrl}/`);
    if (url.origin !== new URL(config.baseUrl).origin || url.pathname !== `${new URL(config.baseUrl).pathname.replace(/\/+$/, '')}/v3/billdownload/file`) {
      throw new Error(`wechat statement ${date}: the download URL leads elsewhere`);
    }
    // WeChat does not sign the file itself (the plugin skips it); the digest from the signed answer vouches for it.
    const file = await call('get', 'v3/billdownload/file', { params: Object.fromEntries(url.searchParams), responseType: 'arraybuffer' });
    if (!file.ok) throw new Error(`wechat statement ${date}: ${file.reason}`);
    if (file.answer.statusCode !== 200 || !(file.answer.body instanceof Uint8Array)) throw new Error(`wechat statement ${date}: the bill download answered HTTP ${file.answer.statusCode}`);
    const digest = billDigest(file.answer.body, hashType);
    if (digest === null) throw new Error(`wechat statement ${date}: unsupported hash_type ${hashType.slice(0, 20)}`);
    if (digest !== hashValue.toLowerCase()) throw new Error(`wechat statement ${date}: the bill file does not match its ${hashType} digest`);
    return billToCsv(Buffer.from(file.answer.body).toString('utf8'));
  }

  async function close(attemptNo: string): Promise<ChannelCloseResult> {
    if (!outTradeNoPattern.test(attemptNo)) return { status: 'CLOSED' };
    const result = await call('post', `v3/pay/transactions/out-trade-no/${encodeURIComponent(attemptNo)}/close`, { body: { mchid: config.mchid } });
    if (!result.ok) return { status: 'UNKNOWN', reason: result.reason };
    if (result.answer.statusCode === 204) return { status: 'CLOSED' };
    // WeChat refuses to close a paid order (and answers 404 for one it never saw); the order's state decides.
    const refused = rejectionOf(result.answer)?.code ?? `HTTP ${result.answer.statusCode}`;
    const state = await queryAttempt(attemptNo);
    switch (state.status) {
      case 'SUCCEEDED':
        return { status: 'ALREADY_PAID' };
      case 'NOT_FOUND':
        return { status: 'CLOSED' };
      case 'FAILED':
        return state.code === 'CLOSED' || state.code === 'REVOKED' ? { status: 'CLOSED' } : { status: 'UNKNOWN', reason: `close refused with ${refused}; the order is ${state.code}` };
      case 'PENDING':
        return { status: 'UNKNOWN', reason: `close refused with ${refused}; the order is still open` };
      case 'UNKNOWN':
        return { status: 'UNKNOWN', reason: `close refused with ${refused}; ${state.reason}` };
    }
  }

  return {
    name: 'wechat',
    capabilities: wechatCapabilities,

    async pay(request) {
      const product = request.product ?? wechatProducts[0];
      if (!(wechatProducts as readonly string[]).includes(product)) {
        return { status: 'FAILED', code: 'PRODUCT_NOT_SUPPORTED', message: `the wechat channel has no product ${product}` };
      }
      const built = orderBody(request, product as WechatProduct, ids);
      if (!built.ok) return { status: 'FAILED', code: built.code, message: built.message };
      const path = product === 'WECHAT_JSAPI' ? 'v3/pay/transactions/jsapi' : 'v3/pay/transactions/native';
      const result = await call('post', path, { body: built.body });
      if (!result.ok) return { status: 'UNKNOWN', reason: result.reason };
      return payResultFromOrderAnswer(result.answer, product as WechatProduct, (prepayId) =>
        jsapiPayerAction({ appId: config.appid, prepayId, timeStampSeconds: Math.floor(now().getTime() / 1000), nonceStr: randomBytes(16).toString('hex'), merchantKey }),
      );
    },

    query: ({ attemptNo }) => queryAttempt(attemptNo),
    refund,
    queryRefund,
    close,

    verifyNotification(inbound) {
      try {
        const headers = readCallbackHeaders(inbound.headers);
        if (!headers.ok) return { ok: false, reason: headers.reason };
        const { timestamp, timestampMs, nonce, signature, serial } = headers.value;
        if (serial !== config.platformPublicKeyId) return { ok: false, reason: 'unknown Wechatpay-Serial' };
        const nowMs = now().getTime();
        if (Math.abs(nowMs - timestampMs) > timestampWindowMs) return { ok: false, reason: 'stale timestamp' };
        if (!rsaVerify(signedMessage(timestamp, nonce, inbound.rawBody), signature, platformKey)) return { ok: false, reason: 'invalid signature' };
        const envelope = parseEnvelope(inbound.rawBody);
        if (!envelope.ok) return envelope;
        const parsed = notificationFromEnvelope(envelope.envelope, config.apiV3Key.reveal(), ids);
        if (!parsed.ok) return parsed;
        // The notification id names it: WeChat keeps the id (and the body) across its retries, each signed afresh with
        // a new nonce. A timestamp may lie a window either side of now, so the id is remembered for two windows.
        return { ok: true, notification: parsed.notification, replayKey: `id:${parsed.id}`, replayWindowMs: 2 * timestampWindowMs };
      } catch (error) {
        return { ok: false, reason: `unreadable callback: ${error instanceof Error ? error.message.slice(0, 100) : 'error'}` };
      }
    },

    acknowledge(accepted) {
      return accepted ? callbackAnswers.accepted : callbackAnswers.rejected;
    },

    downloadStatement,

    async dispose() {
      agent.destroy();
    },
  };
}

/** Why a call got no trustworthy answer. A time limit hit is plain "timeout": money may have moved. */
function describeFailure(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const name = error instanceof Error ? error.name : '';
  if (code === 'ERR_CANCELED' || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  // The plugin's verifier codes: missing headers, a stale timestamp, an unknown serial, a signature that fails.
  if (code.startsWith('EV3_RES_')) return `the answer is not signed by WeChat Pay (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return `network error: ${code || message}`.slice(0, 200);
}
