/**
 * Tongbao's Alipay adapter: one small flow per operation, each a call through the gateway (transport.ts)
 * and a pure mapping of the answer (protocol.ts, payout-protocol.ts, notifications.ts, statement.ts).
 * Anything the adapter cannot trust or did not get in time is UNKNOWN; a refusal Alipay names is FAILED.
 *
 * Example:
 *   const adapter = createAlipayAdapter(parseAlipayConfig({ appId, appPrivateKeyPem, alipayPublicKeyPem, timeoutMs: 10_000 }));
 *   const result = await adapter.pay({ attemptNo: 'A1', tradeNo: 'T1', amountMinor: 1999n, currency: 'CNY', product: 'ALIPAY_PRECREATE', ... });
 *   // result: { status: 'PENDING', payerAction: { type: 'QR_CODE', content: 'https://qr.alipay.com/...' } }
 *   await adapter.dispose();
 */
import { now } from '../../clock.js';
import type {
  ChannelAcknowledgement,
  ChannelAdapter,
  ChannelCancelRequest,
  ChannelCancelResult,
  ChannelCapabilities,
  ChannelCloseResult,
  ChannelPayouts,
  ChannelPayRequest,
  ChannelPayResult,
  ChannelQueryResult,
  ChannelRefundQueryRequest,
  ChannelRefundQueryResult,
  ChannelRefundRequest,
  ChannelRefundResult,
  InboundChannelRequest,
  NotificationVerification,
} from '../types.js';
import type { AlipayConfig } from './config.js';
import { allowedClockSkewMs, freshnessProblem, notificationFromParams, notificationWindowMs, parseFormBody, sentAt } from './notifications.js';
import { payoutQueryResultFromAnswer, payoutRequestProblem, payoutResultFromAnswer, transferBizContent, transferQueryBizContent } from './payout-protocol.js';
import {
  alipayCurrency,
  alipayMethods,
  cancelResultFromAnswer,
  closeReadingFromAnswer,
  closeResultFromQuery,
  maxTotalAmountMinor,
  pagePayBizContent,
  payResultFromPrecreate,
  precreateBizContent,
  queryResultFromAnswer,
  refundBizContent,
  refundQueryBizContent,
  refundQueryResultFromAnswer,
  refundReadingFromAnswer,
} from './protocol.js';
import { billBizContent, billUrlFromAnswer, statementCsvFromZip, statementDatePattern } from './statement.js';
import { createAlipayGateway } from './transport.js';

export const alipayProducts = { precreate: 'ALIPAY_PRECREATE', page: 'ALIPAY_PAGE' } as const;

export const alipayCapabilities: ChannelCapabilities = {
  products: [alipayProducts.precreate, alipayProducts.page],
  currencies: [alipayCurrency],
  resultMode: 'async',
  refund: true,
  partialRefund: true,
  close: true,
  cancel: true,
  preauth: false,
  payout: true,
  statement: true,
  escrow: true,
  maxAmountMinor: maxTotalAmountMinor,
};

export type AlipayAdapter = ChannelAdapter & {
  cancel(request: ChannelCancelRequest): Promise<ChannelCancelResult>;
  readonly payouts: ChannelPayouts;
  /** Closes the connection pool (calls in flight finish or time out first). */
  dispose(): Promise<void>;
};

/** Why a payment cannot be sent at all, or null; checked before any call so Alipay never sees it. */
function payRequestProblem(request: ChannelPayRequest, product: string): { status: 'FAILED'; code: string; message: string } | null {
  if (!alipayCapabilities.products.includes(product)) return { status: 'FAILED', code: 'PRODUCT_NOT_SUPPORTED', message: `Alipay products are ${alipayCapabilities.products.join(', ')}` };
  if (request.currency !== alipayCurrency) return { status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED', message: `Alipay takes ${alipayCurrency} only, not ${request.currency}` };
  if (request.amountMinor <= 0n || request.amountMinor > maxTotalAmountMinor) return { status: 'FAILED', code: 'INVALID_AMOUNT', message: 'Alipay takes 0.01 to 100000000.00 yuan' };
  return null;
}

export function createAlipayAdapter(config: AlipayConfig): AlipayAdapter {
  const gateway = createAlipayGateway(config);

  async function pay(request: ChannelPayRequest): Promise<ChannelPayResult> {
    const product = request.product ?? alipayProducts.precreate;
    const problem = payRequestProblem(request, product);
    if (problem) return problem;
    if (product === alipayProducts.page) {
      // No call is made: the payer's browser carries the signed request to Alipay's cashier.
      const page = gateway.page(alipayMethods.pagePay, pagePayBizContent(request), { notifyUrl: request.notifyUrl, ...(request.returnUrl ? { returnUrl: request.returnUrl } : {}) });
      return {
        status: 'PENDING',
        payerAction: config.pagePayAction === 'REDIRECT' ? { type: 'REDIRECT', url: page.redirectUrl } : { type: 'FORM', url: page.form.url, fields: page.form.fields },
      };
    }
    const answer = await gateway.call(alipayMethods.precreate, precreateBizContent(request), { notifyUrl: request.notifyUrl });
    return payResultFromPrecreate(answer, request);
  }

  async function queryAttempt(attemptNo: string): Promise<ChannelQueryResult> {
    return queryResultFromAnswer(await gateway.call(alipayMethods.query, { out_trade_no: attemptNo }), attemptNo);
  }

  /** Alipay finds a refund only under its trade: out_trade_no (the attempt) and out_request_no (the refund). */
  async function queryRefund({ attemptNo, refundNo }: ChannelRefundQueryRequest): Promise<ChannelRefundQueryResult> {
    const answer = await gateway.call(alipayMethods.refundQuery, refundQueryBizContent(attemptNo, refundNo));
    return refundQueryResultFromAnswer(answer, { attemptNo, refundNo });
  }

  async function refund(request: ChannelRefundRequest): Promise<ChannelRefundResult> {
    if (request.currency !== alipayCurrency) return { status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED', message: `Alipay refunds ${alipayCurrency} only` };
    const reading = refundReadingFromAnswer(await gateway.call(alipayMethods.refund, refundBizContent(request)), request);
    if (reading.kind === 'RESULT') return reading.result;
    // fund_change N: this call moved no money. Either the refund was done before (a retry) or it is still
    // running; the refund query tells which, and its refund_amount is the echo to check.
    const answer = await gateway.call(alipayMethods.refundQuery, refundQueryBizContent(request.attemptNo, request.refundNo));
    const confirmed = refundQueryResultFromAnswer(answer, { attemptNo: request.attemptNo, refundNo: request.refundNo, amountMinor: request.amountMinor });
    if (confirmed.status === 'NOT_FOUND') return { status: 'PENDING', channelRefundNo: reading.channelTradeNo };
    if (confirmed.status === 'UNKNOWN' && confirmed.reason === 'timeout') return { status: 'PENDING', channelRefundNo: reading.channelTradeNo };
    return confirmed;
  }

  async function close(attemptNo: string): Promise<ChannelCloseResult> {
    const reading = closeReadingFromAnswer(await gateway.call(alipayMethods.close, { out_trade_no: attemptNo }), attemptNo);
    // ACQ.TRADE_STATUS_ERROR: the trade is paid, finished or closed already; the query says which.
    return reading.kind === 'RESULT' ? reading.result : closeResultFromQuery(await queryAttempt(attemptNo));
  }

  async function cancel(request: ChannelCancelRequest): Promise<ChannelCancelResult> {
    const bizContent = { out_trade_no: request.attemptNo, ...(request.channelTradeNo ? { trade_no: request.channelTradeNo } : {}) };
    return cancelResultFromAnswer(await gateway.call(alipayMethods.cancel, bizContent), request.attemptNo);
  }

  const payouts: ChannelPayouts = {
    async payout(request) {
      const problem = payoutRequestProblem(request);
      if (problem) return { status: 'FAILED', ...problem };
      return payoutResultFromAnswer(await gateway.call(alipayMethods.transfer, transferBizContent(request)), request);
    },
    async query(payoutNo) {
      return payoutQueryResultFromAnswer(await gateway.call(alipayMethods.transferQuery, transferQueryBizContent(payoutNo)), payoutNo);
    },
  };

  /**
   * Signature, app, freshness, then meaning. The notify_id names the notification: Alipay keeps it across its
   * retries, and a copy is refused as stale once the window and the clock skew have passed.
   */
  function verifyNotification(inbound: InboundChannelRequest): NotificationVerification {
    const params = parseFormBody(inbound.rawBody);
    if (!params || !params.sign) return { ok: false, reason: 'not a signed Alipay notification' };
    if (!gateway.verifyNotificationSignature(params)) return { ok: false, reason: 'invalid signature' };
    if (params.app_id !== config.appId) return { ok: false, reason: 'the notification is for another app' };
    const sent = sentAt(params);
    if (!sent) return { ok: false, reason: 'missing or unreadable notify_time' };
    const nowMs = now().getTime();
    const stale = freshnessProblem(sent, nowMs);
    if (stale) return { ok: false, reason: stale };
    const parsed = notificationFromParams(params);
    if (!parsed.ok) return parsed;
    if (!params.notify_id) return { ok: false, reason: 'missing notify_id' };
    return { ...parsed, replayKey: `notify_id:${params.notify_id}`, replayWindowMs: notificationWindowMs + allowedClockSkewMs };
  }

  async function downloadStatement(date: string): Promise<string> {
    if (!statementDatePattern.test(date)) throw new Error(`statement date must be yyyy-MM-dd, got ${JSON.stringify(date).slice(0, 40)}`);
    const reading = billUrlFromAnswer(await gateway.call(alipayMethods.billUrl, billBizContent(date)));
    if (!reading.ok) throw new Error(`alipay bill ${date}: ${reading.reason}`);
    const download = await gateway.download(reading.url);
    if (!download.ok) throw new Error(`alipay bill ${date}: ${download.reason}`);
    try {
      return statementCsvFromZip(download.bytes);
    } catch (error) {
      throw new Error(`alipay bill ${date}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return {
    name: 'alipay',
    capabilities: alipayCapabilities,
    pay,
    query: ({ attemptNo }) => queryAttempt(attemptNo),
    refund,
    queryRefund,
    close,
    cancel,
    payouts,
    verifyNotification,
    acknowledge(accepted): ChannelAcknowledgement {
      // Alipay reads the body only: exactly "success" stops its retries, anything else is retried.
      return { statusCode: 200, contentType: 'text/plain; charset=utf-8', body: accepted ? 'success' : 'fail' };
    },
    downloadStatement,
    dispose: () => gateway.dispose(),
  };
}
