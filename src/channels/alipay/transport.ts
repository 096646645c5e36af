/**
 * The adapter's one way to Alipay: alipay-sdk for signing, sending and verifying, over this adapter's own
 * undici connection pool, with a hard deadline on every call. Two things the SDK does not do by default are
 * done here on purpose:
 * - `exec` verifies the answer's signature only when asked (`validateSign: true`); every call asks, so an
 *   answer Alipay did not sign (or that was altered) is an error, which the flows report as UNKNOWN.
 * - The SDK stamps `timestamp` in the process's local zone; Alipay reads it as Beijing time, so the stamp
 *   is made here from the adapter clock in Beijing time, whatever zone the server runs in.
 */
import { AlipayRequestError, AlipaySdk, type ProxyAgent } from 'alipay-sdk';
import { Agent, request } from 'undici';
import { now } from '../../clock.js';
import type { AlipayConfig } from './config.js';
import { beijingTime, readGatewayAnswer, type GatewayAnswer } from './protocol.js';

/** Bills can be large; every other answer is a few kilobytes. */
const maxDownloadBytes = 64 * 1024 * 1024;

/** Parameters the SDK puts in the gateway URL; the rest of a page payment goes in the form body. */
const urlParameters = new Set(['app_id', 'method', 'format', 'charset', 'sign_type', 'sign', 'timestamp', 'version', 'notify_url', 'return_url', 'auth_token', 'app_auth_token', 'app_cert_sn', 'alipay_root_cert_sn', 'ws_service_url']);

export interface CommonParameters {
  readonly notifyUrl?: string;
  readonly returnUrl?: string;
}

export type Download = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string };

/** A page payment as the form the payer's browser submits to the gateway (what pageExecute's POST form holds). */
export interface PageForm {
  readonly url: string;
  readonly fields: Record<string, string>;
}

export interface AlipayGateway {
  call(method: string, bizContent: Record<string, unknown>, common?: CommonParameters): Promise<GatewayAnswer>;
  /** A signed page-method request as a GET URL and as the equivalent POST form. */
  page(method: string, bizContent: Record<string, unknown>, common?: CommonParameters): { readonly redirectUrl: string; readonly form: PageForm };
  verifyNotificationSignature(params: Readonly<Record<string, string>>): boolean;
  download(url: string): Promise<Download>;
  dispose(): Promise<void>;
}

export function createAlipayGateway(config: AlipayConfig): AlipayGateway {
  const agent = new Agent({
    connections: config.maxConnections,
    connectTimeout: config.timeoutMs,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    maxResponseSize: maxDownloadBytes,
  });
  const sdk = new AlipaySdk({
    appId: config.appId,
    // The SDK rebuilds the PEM from its lines and keeps a trailing empty line as key text: trim first.
    privateKey: config.appPrivateKey.reveal().trim(),
    keyType: 'PKCS8',
    alipayPublicKey: config.alipayPublicKeyPem.trim(),
    gateway: config.gatewayUrl,
    timeout: config.timeoutMs,
    signType: 'RSA2',
    // Keep Alipay's snake_case field names: protocol.ts reads the wire names.
    camelcase: false,
    // The SDK names its dispatcher option after undici's ProxyAgent, but any undici dispatcher serves.
    proxyAgent: agent as unknown as ProxyAgent,
  });

  function signedParameters(bizContent: Record<string, unknown>, common: CommonParameters): Record<string, unknown> {
    return {
      bizContent,
      timestamp: beijingTime(now()),
      ...(common.notifyUrl ? { notifyUrl: common.notifyUrl } : {}),
      ...(common.returnUrl ? { returnUrl: common.returnUrl } : {}),
    };
  }

  return {
    async call(method, bizContent, common = {}) {
      try {
        const body = await withDeadline(sdk.exec(method, signedParameters(bizContent, common), { validateSign: true }), config.timeoutMs);
        return readGatewayAnswer(body);
      } catch (error) {
        return { kind: 'UNCERTAIN', reason: describeFailure(error) };
      }
    },

    page(method, bizContent, common = {}) {
      const redirectUrl = sdk.pageExecute(method, 'GET', signedParameters(bizContent, common));
      const parsed = new URL(redirectUrl);
      const action = new URL(`${parsed.origin}${parsed.pathname}`);
      const fields: Record<string, string> = {};
      for (const [key, value] of parsed.searchParams) {
        if (urlParameters.has(key)) action.searchParams.set(key, value);
        else fields[key] = value;
      }
      return { redirectUrl, form: { url: action.toString(), fields } };
    },

    verifyNotificationSignature(params) {
      try {
        return sdk.checkNotifySignV2({ ...params });
      } catch {
        return false;
      }
    },

    async download(url) {
      try {
        const response = await request(url, { method: 'GET', dispatcher: agent, signal: AbortSignal.timeout(config.timeoutMs) });
        if (response.statusCode !== 200) {
          await response.body.dump();
          return { ok: false, reason: `the bill download answered HTTP ${response.statusCode}` };
        }
        return { ok: true, bytes: new Uint8Array(await response.body.arrayBuffer()) };
      } catch (error) {
        return { ok: false, reason: describeFailure(error) };
      }
    },

    dispose: () => agent.close(),
  };
}

class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** The work's result, or a DeadlineError once `ms` have passed; the work itself is left to its own timeouts. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = 'code' in error ? String(error.code) : '';
  return error.name === 'DeadlineError' || error.name === 'TimeoutError' || error.name === 'AbortError' || /Timeout/i.test(error.name) || timeoutCodes.has(code);
}

/**
 * Why a call has no trustworthy answer. "timeout" is kept plain because money may have moved and the
 * caller must query; the SDK's own errors are recognised by the situations it reports.
 */
export function describeFailure(error: unknown): string {
  if (isTimeout(error) || (error instanceof Error && isTimeout(error.cause))) return 'timeout';
  if (error instanceof AlipayRequestError) {
    const status = /status: (\d{3})/.exec(error.message);
    if (status) return `Alipay answered HTTP ${status[1]}`;
    if (error.message.includes('验签失败')) return 'the answer signature does not verify';
    if (error.message.includes('Response 格式错误')) return 'the answer is not a readable Alipay response';
    const cause = error.cause instanceof Error ? ('code' in error.cause && error.cause.code ? String(error.cause.code) : error.cause.message) : '';
    return `network error: ${cause || error.message}`.slice(0, 200);
  }
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return `network error: ${error.code}`.slice(0, 200);
  // The SDK's verifier throws (not returns false) when the answer carries no sign at all.
  const message = error instanceof Error ? error.message : String(error);
  return `the answer could not be verified or read: ${message}`.slice(0, 200);
}
