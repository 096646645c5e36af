/**
 * The HTTP side of the UnionPay adapter: signs a request's fields, posts them as a UTF-8 form over the
 * adapter's own undici pool with a hard time limit, and returns the answer's fields only once UnionPay's
 * certificate and signature check out. Anything it cannot trust or did not get in time is a reason, never fields.
 */
import type { KeyObject } from 'node:crypto';
import { Agent, request } from 'undici';
import { now } from '../../clock.js';
import { formBody, parseAnswer } from './protocol.js';
import { verifyUnionpaySignature, withSignature, type Fields, type UnionpayTrust } from './signature.js';

export type Exchange = { readonly ok: true; readonly fields: Readonly<Record<string, string>> } | { readonly ok: false; readonly reason: string };

export interface UnionpayClient {
  /** Signs and posts the fields to the absolute URL; the answer's fields once verified. */
  post(url: string, fields: Fields): Promise<Exchange>;
  /** The fields with certId's signature, for a form the payer's browser submits. */
  sign(fields: Fields): Record<string, string>;
  dispose(): Promise<void>;
}

export interface ClientOptions {
  readonly privateKey: KeyObject;
  readonly trust: UnionpayTrust;
  readonly timeoutMs: number;
  readonly maxConnections: number;
}

/** Statements are zipped days of transactions; every other answer is a few kilobytes. */
const maxResponseBytes = 64 * 1024 * 1024;

export function createUnionpayClient(options: ClientOptions): UnionpayClient {
  const agent = new Agent({
    connections: options.maxConnections,
    connectTimeout: options.timeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    maxResponseSize: maxResponseBytes,
  });

  async function post(url: string, fields: Fields): Promise<Exchange> {
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
        body: formBody(withSignature(fields, options.privateKey)),
        dispatcher: agent,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) return { ok: false, reason: `UnionPay answered HTTP ${response.statusCode}` };
      const answer = parseAnswer(text);
      if (!answer) return { ok: false, reason: 'UnionPay answered with an unreadable body' };
      const check = verifyUnionpaySignature(answer, options.trust, now().getTime());
      if (!check.ok) return { ok: false, reason: `untrusted answer: ${check.reason}` };
      return { ok: true, fields: answer };
    } catch (error) {
      return { ok: false, reason: describeFailure(error) };
    }
  }

  return {
    post,
    sign: (fields) => withSignature(fields, options.privateKey),
    dispose: () => agent.close(),
  };
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
