import { formatWallClock } from '../../src/shared/time.js';
import { hmacSign, rsaSign, rsaVerify, signContent } from '../../src/shared/crypto.js';

/**
 * A raw gateway client for tests that must break requests on purpose. It builds the common
 * parameters, signs them the Alipay way and sends them as a form POST with fetch, with a hook at
 * every step: override or drop any parameter, sign with other credentials, tamper after signing,
 * repeat a key, or send a body built by hand.
 */

export type GatewayCredentials =
  | { appId: string; signType: 'RSA2'; privateKey: string }
  | { appId: string; signType: 'HMAC-SHA256'; secret: string };

/** Where the parameters travel: like alipay-sdk (common ones in the query string, biz_content in the body) or all in the body. */
export type Placement = 'split' | 'body';

export interface GatewayCallOptions {
  /** biz_content as an object (serialized with JSON.stringify) or as exact text. */
  biz?: Record<string, unknown> | string;
  /** Replaces parameters before signing; undefined drops one. */
  params?: Record<string, string | undefined>;
  /** Signs with these credentials instead of the client's (the parameters still say the client's app_id unless overridden). */
  signWith?: GatewayCredentials;
  /** Replaces parameters after signing (undefined drops one), so the signature no longer covers them. */
  tamper?: Record<string, string | undefined>;
  /** Pairs appended to the body after signing, e.g. a second value for a key already sent. */
  extraPairs?: Array<[string, string]>;
  placement?: Placement;
  /** The instant written into timestamp (default: now). */
  timestamp?: Date;
  /** Content-Type header (default: application/x-www-form-urlencoded;charset=utf-8). */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RawRequest {
  /** The query string without "?", exactly as sent. */
  query?: string;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface GatewayResponse {
  status: number;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: Record<string, any> | undefined;
  /** The one *_response key the body carries besides sign. */
  key: string | undefined;
  /** The object under that key. */
  body: Record<string, any>;
  /** Whether sign is the platform's RSA2 signature of the exact text of the *_response object. */
  signatureValid: boolean;
}

/** Common parameters alipay-sdk puts in the query string; everything else goes in the body. */
const queryParameterNames = new Set([
  'app_id', 'method', 'format', 'charset', 'sign_type', 'sign', 'timestamp', 'version',
  'notify_url', 'return_url', 'auth_token', 'app_auth_token',
]);

export const gatewayZone = 'Asia/Shanghai';

export function responseKeyFor(method: string): string {
  return `${method.replace(/\./g, '_')}_response`;
}

export function signWith(credentials: GatewayCredentials, content: string): string {
  return credentials.signType === 'RSA2' ? rsaSign(content, credentials.privateKey) : hmacSign(content, credentials.secret);
}

/** Encodes pairs as application/x-www-form-urlencoded, keeping order and repeated keys. */
export function encodeForm(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

function withOverrides(params: Record<string, string>, overrides: Record<string, string | undefined> | undefined): Record<string, string> {
  const result = { ...params };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    readonly credentials: GatewayCredentials,
    readonly platformPublicKey: string,
  ) {}

  /** Another client for the same gateway with other credentials. */
  as(credentials: GatewayCredentials): GatewayClient {
    return new GatewayClient(this.baseUrl, credentials, this.platformPublicKey);
  }

  /** The signed parameters of a call, before placement: what a correct client would send. */
  sign(method: string, options: GatewayCallOptions = {}): Record<string, string> {
    const signer = options.signWith ?? this.credentials;
    const biz = options.biz === undefined ? {} : options.biz;
    const base: Record<string, string> = {
      app_id: this.credentials.appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: signer.signType,
      timestamp: formatWallClock(options.timestamp ?? new Date(), gatewayZone),
      version: '1.0',
      biz_content: typeof biz === 'string' ? biz : JSON.stringify(biz),
    };
    const params = withOverrides(base, options.params);
    if (options.params && 'sign' in options.params) return params; // the caller decides the signature, or its absence
    return { ...params, sign: signWith(signer, signContent(params)) };
  }

  /** Builds, signs and sends one call. */
  async call(method: string, options: GatewayCallOptions = {}): Promise<GatewayResponse> {
    const params = withOverrides(this.sign(method, options), options.tamper);
    const queryPairs: Array<[string, string]> = [];
    const bodyPairs: Array<[string, string]> = [];
    for (const [key, value] of Object.entries(params)) {
      if ((options.placement ?? 'split') === 'split' && queryParameterNames.has(key)) queryPairs.push([key, value]);
      else bodyPairs.push([key, value]);
    }
    bodyPairs.push(...(options.extraPairs ?? []));
    return this.send({
      query: encodeForm(queryPairs),
      body: encodeForm(bodyPairs),
      contentType: options.contentType,
      headers: options.headers,
    });
  }

  /** Sends exactly the given query string and body. */
  async send(request: RawRequest): Promise<GatewayResponse> {
    const url = `${this.baseUrl}/gateway.do${request.query ? `?${request.query}` : ''}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': request.contentType ?? 'application/x-www-form-urlencoded;charset=utf-8', ...request.headers },
      // Copied into a plain Uint8Array: that is what fetch's body type accepts.
      body: typeof request.body === 'string' || request.body === undefined ? request.body : new Uint8Array(request.body),
    });
    const text = await response.text();
    return this.read(response.status, text);
  }

  private read(status: number, text: string): GatewayResponse {
    let json: Record<string, any> | undefined;
    try {
      json = JSON.parse(text) as Record<string, any>;
    } catch {
      return { status, text, json: undefined, key: undefined, body: {}, signatureValid: false };
    }
    const keys = Object.keys(json).filter((name) => name !== 'sign');
    const key = keys.length === 1 ? keys[0] : undefined;
    const body = key ? (json[key] as Record<string, any>) : {};
    return { status, text, json, key, body, signatureValid: key !== undefined && this.verify(text, key, json.sign) };
  }

  /**
   * Verifies the response the way alipay-sdk does: the signed text is everything between
   * `"<key>":` and the last `,"sign":`, byte for byte, not a re-serialization of the parsed object.
   */
  private verify(text: string, key: string, sign: unknown): boolean {
    if (typeof sign !== 'string') return false;
    const marker = `"${key}":`;
    const start = text.indexOf(marker);
    const end = text.lastIndexOf(',"sign":');
    if (start === -1 || end <= start) return false;
    return rsaVerify(text.slice(start + marker.length, end), sign, this.platformPublicKey);
  }
}
