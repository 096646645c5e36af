/**
 * Tongbao's adapter for the sandbox bank: signs each request with the merchant's Ed25519 key, sends it over
 * its own undici connection pool with a hard time limit, verifies the bank's signature on every answer, and
 * maps answers to channel results with protocol.ts. Anything it cannot trust or did not get in time is UNKNOWN.
 *
 * Example:
 *   const adapter = createSandboxAdapter({ baseUrl: bank.url, mchId, merchantPrivateKeyPem, bankPublicKeyPem, timeoutMs: 10_000 });
 *   const result = await adapter.pay({ attemptNo: 'A1', tradeNo: 'T1', amountMinor: 1999n, currency: 'CNY', ... });
 *   await adapter.dispose();
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { realNow } from '../../clock.js';
import type {
  ChannelAcknowledgement,
  ChannelAdapter,
  ChannelAgreements,
  ChannelCapabilities,
  ChannelCloseResult,
  ChannelOperationResult,
  ChannelPayouts,
  ChannelPreauth,
  InboundChannelRequest,
  NotificationVerification,
} from '../types.js';
import { agreementPaths, agreementQueryResultFromAnswer, agreementResultFromAnswer, signRequestBody } from './agreement-protocol.js';
import {
  completeCancelRequestBody,
  freezeRequestBody,
  operationQueryResultFromAnswer,
  operationResultFromAnswer,
  preauthNotificationFromBody,
  preauthPaths,
  stepRequestBody,
  type PreauthKind,
} from './preauth-protocol.js';
import {
  closeResultFromAnswer,
  headerValue,
  isFresh,
  notificationFromBody,
  paymentRequestBody,
  payResultFromAnswer,
  queryResultFromAnswer,
  readSignatureHeaders,
  refundQueryResultFromAnswer,
  refundRequestBody,
  refundResultFromAnswer,
  sandboxHeaders,
  signedHeaders,
  statementDatePattern,
  stringToSign,
  timestampWindowMs,
  verifyMessage,
  type BankAnswer,
  type HeaderBag,
} from './protocol.js';
import { payoutPath, payoutQueryResultFromAnswer, payoutRequestBody, payoutResultFromAnswer } from './payout-protocol.js';

export interface SandboxAdapterConfig {
  /** The bank's base URL, such as http://127.0.0.1:8081. */
  readonly baseUrl: string;
  readonly mchId: string;
  readonly merchantPrivateKeyPem: string;
  readonly bankPublicKeyPem: string;
  /** The most any one call may take, connecting and reading the answer included. */
  readonly timeoutMs: number;
  /** Connections to the bank at most; defaults to 32. */
  readonly maxConnections?: number;
}

export type SandboxAdapter = ChannelAdapter & {
  /** Verifies a callback. `path` is the path it was posted to; without it the bank's X-Sandbox-Path header is used. */
  verifyNotification(request: InboundChannelRequest): NotificationVerification;
  /** Closes the connection pool (calls in flight finish or time out first). */
  dispose(): Promise<void>;
};

export const sandboxCapabilities: ChannelCapabilities = {
  products: ['SANDBOX_PAY'],
  currencies: ['CNY', 'USD', 'EUR', 'JPY', 'HKD', 'GBP'],
  resultMode: 'both',
  refund: true,
  partialRefund: true,
  close: true,
  cancel: false,
  preauth: true,
  payout: true,
  agreements: true,
  statement: true,
  escrow: true,
  maxAmountMinor: null,
};

/** Statements can be long; every other answer is a few hundred bytes. */
const maxResponseBytes = 64 * 1024 * 1024;

/** A signed answer that verified, or why there is none. */
type Exchange = { readonly ok: true; readonly statusCode: number; readonly text: string } | { readonly ok: false; readonly reason: string };

export function createSandboxAdapter(config: SandboxAdapterConfig): SandboxAdapter {
  if (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0) throw new Error('timeoutMs must be a positive integer');
  const merchantKey = createPrivateKey(config.merchantPrivateKeyPem);
  const bankKey = createPublicKey(config.bankPublicKeyPem);
  if (merchantKey.asymmetricKeyType !== 'ed25519' || bankKey.asymmetricKeyType !== 'ed25519') throw new Error('sandbox keys must be Ed25519');
  const base = new URL(config.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const agent = new Agent({
    connections: config.maxConnections ?? 32,
    connectTimeout: config.timeoutMs,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    maxResponseSize: maxResponseBytes,
  });

  /** The answer's signature must be the bank's, over this very method and path, and fresh. */
  function verifyAnswer(headers: HeaderBag, method: string, path: string, body: string): string | null {
    const reading = readSignatureHeaders(headers);
    if (!reading.ok) return `unsigned answer: ${reading.reason}`;
    const { mchId, timestamp, timestampMs, nonce, signature } = reading.value;
    if (mchId !== config.mchId) return 'the answer is signed for another merchant';
    if (!isFresh(timestampMs, realNow().getTime())) return 'the answer has a stale timestamp';
    if (!verifyMessage(stringToSign({ timestamp, nonce, method, path, body }), signature, bankKey)) return 'the answer signature does not verify';
    return null;
  }

  async function exchange(method: 'GET' | 'POST', relativePath: string, body?: object): Promise<Exchange> {
    const path = `${basePath}${relativePath}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signedHeaders({
      mchId: config.mchId, method, path, body: text, privateKey: merchantKey, nowMs: realNow().getTime(), nonce: randomBytes(16).toString('hex'),
    });
    try {
      const response = await request(`${base.origin}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: text }),
        dispatcher: agent,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      const answerText = await response.body.text();
      const problem = verifyAnswer(response.headers, method, path, answerText);
      if (problem) return { ok: false, reason: problem };
      return { ok: true, statusCode: response.statusCode, text: answerText };
    } catch (error) {
      return { ok: false, reason: describeFailure(error) };
    }
  }

  async function call(method: 'GET' | 'POST', relativePath: string, body?: object): Promise<{ ok: true; answer: BankAnswer } | { ok: false; reason: string }> {
    const result = await exchange(method, relativePath, body);
    if (!result.ok) return result;
    return { ok: true, answer: { statusCode: result.statusCode, body: parseJson(result.text) } };
  }

  async function close(attemptNo: string): Promise<ChannelCloseResult> {
    const result = await call('POST', `/v1/payments/${encodeURIComponent(attemptNo)}/close`, {});
    return result.ok ? closeResultFromAnswer(result.answer, attemptNo) : { status: 'UNKNOWN', reason: result.reason };
  }

  async function operate(
    kind: PreauthKind,
    request: { operationNo: string; amountMinor: bigint; currency: string },
    body: object,
  ): Promise<ChannelOperationResult> {
    const result = await call('POST', preauthPaths[kind], body);
    return result.ok
      ? operationResultFromAnswer(result.answer, { operationNo: request.operationNo, kind, amountMinor: request.amountMinor, currency: request.currency })
      : { status: 'UNKNOWN', reason: result.reason };
  }

  const preauth: ChannelPreauth = {
    async freeze(request) {
      if (!sandboxCapabilities.currencies.includes(request.currency)) {
        return { status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED', message: `the sandbox channel does not take ${request.currency}` };
      }
      return operate('FREEZE', request, freezeRequestBody(request));
    },
    unfreeze: (request) => operate('UNFREEZE', request, stepRequestBody(request)),
    complete: (request) => operate('COMPLETE', request, stepRequestBody(request)),
    completeCancel: (request) => operate('COMPLETE_CANCEL', request, completeCancelRequestBody(request)),
    async query(operationNo) {
      const result = await call('GET', `/v1/preauth/operations/${encodeURIComponent(operationNo)}`);
      return result.ok ? operationQueryResultFromAnswer(result.answer, operationNo) : { status: 'UNKNOWN', reason: result.reason };
    },
  };

  const payouts: ChannelPayouts = {
    async payout(request) {
      if (!sandboxCapabilities.currencies.includes(request.currency)) {
        return { status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED', message: `the sandbox channel does not take ${request.currency}` };
      }
      const result = await call('POST', payoutPath, payoutRequestBody(request));
      return result.ok ? payoutResultFromAnswer(result.answer, request) : { status: 'UNKNOWN', reason: result.reason };
    },
    async query(payoutNo) {
      const result = await call('GET', `${payoutPath}/${encodeURIComponent(payoutNo)}`);
      return result.ok ? payoutQueryResultFromAnswer(result.answer, payoutNo) : { status: 'UNKNOWN', reason: result.reason };
    },
  };

  // Tongbao's agreement number is the bank's out_agreement_no, so a resent sign or confirm is the same request.
  const agreements: ChannelAgreements = {
    async sign(request) {
      const result = await call('POST', agreementPaths.sign, signRequestBody(request));
      return result.ok ? agreementResultFromAnswer(result.answer, request.agreementNo) : { status: 'UNKNOWN', reason: result.reason };
    },
    async confirm(request) {
      const result = await call('POST', agreementPaths.confirm(request.agreementNo), { code: request.code });
      return result.ok ? agreementResultFromAnswer(result.answer, request.agreementNo) : { status: 'UNKNOWN', reason: result.reason };
    },
    async terminate(request) {
      const result = await call('POST', agreementPaths.terminate(request.agreementNo), {});
      return result.ok ? agreementResultFromAnswer(result.answer, request.agreementNo) : { status: 'UNKNOWN', reason: result.reason };
    },
    async query(agreementNo) {
      const result = await call('GET', agreementPaths.query(agreementNo));
      return result.ok ? agreementQueryResultFromAnswer(result.answer, agreementNo) : { status: 'UNKNOWN', reason: result.reason };
    },
  };

  return {
    name: 'sandbox',
    capabilities: sandboxCapabilities,

    async pay(payRequest) {
      if (!sandboxCapabilities.currencies.includes(payRequest.currency)) {
        return { status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED', message: `the sandbox channel does not take ${payRequest.currency}` };
      }
      const result = await call('POST', '/v1/payments', paymentRequestBody(payRequest));
      return result.ok ? payResultFromAnswer(result.answer, payRequest) : { status: 'UNKNOWN', reason: result.reason };
    },

    async query({ attemptNo }) {
      const result = await call('GET', `/v1/payments/${encodeURIComponent(attemptNo)}`);
      return result.ok ? queryResultFromAnswer(result.answer, attemptNo) : { status: 'UNKNOWN', reason: result.reason };
    },

    async refund(refundRequest) {
      const result = await call('POST', '/v1/refunds', refundRequestBody(refundRequest));
      return result.ok ? refundResultFromAnswer(result.answer, refundRequest) : { status: 'UNKNOWN', reason: result.reason };
    },

    async queryRefund({ refundNo }) {
      const result = await call('GET', `/v1/refunds/${encodeURIComponent(refundNo)}`);
      return result.ok ? refundQueryResultFromAnswer(result.answer, refundNo) : { status: 'UNKNOWN', reason: result.reason };
    },

    close,

    preauth,

    payouts,
    agreements,

    dispose: () => agent.close(),

    verifyNotification(inbound: InboundChannelRequest): NotificationVerification {
      const reading = readSignatureHeaders(inbound.headers);
      if (!reading.ok) return { ok: false, reason: reading.reason };
      const { mchId, timestamp, timestampMs, nonce, signature } = reading.value;
      if (mchId !== config.mchId) return { ok: false, reason: 'the callback is for another merchant' };
      const path = inbound.path ?? headerValue(inbound.headers, sandboxHeaders.callbackPath);
      if (!path) return { ok: false, reason: `missing ${sandboxHeaders.callbackPath}` };
      const nowMs = realNow().getTime();
      if (!isFresh(timestampMs, nowMs)) return { ok: false, reason: 'stale timestamp' };
      if (!verifyMessage(stringToSign({ timestamp, nonce, method: 'POST', path, body: inbound.rawBody }), signature, bankKey)) {
        return { ok: false, reason: 'invalid signature' };
      }
      const body = parseJson(inbound.rawBody);
      const parsed = preauthNotificationFromBody(body) ?? notificationFromBody(body);
      if (!parsed.ok) return parsed;
      // The bank signs every delivery afresh with a new nonce; a fresh message is at most a window old, and may be
      // stamped up to a window ahead, so the nonce is remembered for two.
      return { ...parsed, replayKey: `nonce:${nonce}`, replayWindowMs: 2 * timestampWindowMs };
    },

    acknowledge(accepted): ChannelAcknowledgement {
      return accepted
        ? { statusCode: 200, contentType: 'application/json', body: '{"code":"SUCCESS"}' }
        : { statusCode: 400, contentType: 'application/json', body: '{"code":"FAIL"}' };
    },

    async downloadStatement(date) {
      if (!statementDatePattern.test(date)) throw new Error(`statement date must be yyyy-MM-dd, got ${JSON.stringify(date)}`);
      const result = await exchange('GET', `/v1/statements/${date}`);
      if (!result.ok) throw new Error(`sandbox statement ${date}: ${result.reason}`);
      if (result.statusCode !== 200) throw new Error(`sandbox statement ${date}: the bank answered HTTP ${result.statusCode} ${result.text.slice(0, 200)}`);
      return result.text;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Why a call got no answer. A time limit hit is plain "timeout": money may have moved, so the caller queries. */
function describeFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (name === 'TimeoutError' || name === 'AbortError' || ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'].includes(code)) {
    return 'timeout';
  }
  const message = error instanceof Error ? error.message : String(error);
  return `network error: ${code || message}`.slice(0, 200);
}
