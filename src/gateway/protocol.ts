import { errors, TongbaoError, type ErrorDefinition } from '../errors.js';
import { signTypes, type SignType } from '../shared/crypto.js';
import { parseWallClock } from '../shared/time.js';
import { collectParams, parseForm } from './form.js';
import { findDuplicateKey, jsonNestingExceeds } from './json.js';

/**
 * Common parameters of every gateway request; none of them may appear inside biz_content.
 * notify_url is the exception: trade methods also take it as a business field (it wins over the common one).
 */
export const commonParameterNames = [
  'app_id', 'method', 'format', 'charset', 'sign_type', 'sign', 'timestamp', 'version',
  'return_url', 'app_auth_token', 'biz_content',
] as const;

/** Business fields that identify records; like the common identifiers, they must be free of separators. */
const identifierFields = ['out_trade_no', 'trade_no', 'out_request_no', 'out_order_no', 'auth_no'] as const;

/** Real biz_content nests a few levels (goods_detail[].x); far more is a mistake or an attack. */
const maxBizContentDepth = 32;

const specialCharacters = /[?&=\s\u0000-\u001f\u007f]/;

export interface GatewayEnvelope {
  appId: string;
  method: string;
  signType: SignType;
  sign: string;
  timestamp: Date;
  notifyUrl: string | null;
  /** Every parameter as received (decoded once), for the string to sign. */
  params: Record<string, string>;
  biz: Record<string, unknown>;
}

export interface ProtocolCheckInput {
  query: string;
  body: string;
  contentType: string | undefined;
  now: Date;
  zone: string;
  windowSeconds: number;
}

export type ProtocolCheckResult =
  | { ok: true; envelope: GatewayEnvelope }
  | { ok: false; error: TongbaoError; method: string | undefined };

function failure(definition: ErrorDefinition, detail: string | undefined, method: string | undefined): ProtocolCheckResult {
  return { ok: false, error: new TongbaoError(definition, detail), method };
}

/**
 * The gateway's checks that need no database, in the documented order: charset and encoding,
 * missing common parameters, format of each field, special characters in identifiers, reserved keys
 * inside biz_content, duplicate keys, and the timestamp window. The first failure wins.
 */
export function checkProtocol(input: ProtocolCheckInput): ProtocolCheckResult {
  const query = parseForm(input.query);
  const isForm = input.body === '' || (input.contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  const body = isForm ? parseForm(input.body) : ({ ok: false, reason: 'the body must be application/x-www-form-urlencoded' } as const);
  const pairs = [...(query.ok ? query.pairs : []), ...(body.ok ? body.pairs : [])];
  const { params, duplicates } = collectParams(pairs);
  const method = params.method;

  // 1. charset and encoding
  if (params.charset !== undefined && params.charset.toLowerCase() !== 'utf-8') {
    return failure(errors.invalidCharset, `charset must be utf-8, got "${params.charset.slice(0, 20)}"`, method);
  }
  // A body declared in another charset may still decode as UTF-8 by accident (and then verify): refuse it.
  const headerCharset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(input.contentType ?? '')?.[1];
  if (headerCharset !== undefined && !['utf-8', 'utf8'].includes(headerCharset.toLowerCase())) {
    return failure(errors.invalidCharset, `the Content-Type charset must be utf-8, got "${headerCharset.slice(0, 20)}"`, method);
  }
  if (!query.ok) return failure(errors.invalidEncoding, `query string: ${query.reason}`, method);
  if (!body.ok) return failure(errors.invalidEncoding, `body: ${body.reason}`, method);

  // 2. missing common parameters
  const required: Array<[string, ErrorDefinition]> = [
    ['app_id', errors.missingAppId], ['method', errors.missingMethod], ['sign_type', errors.missingSignType],
    ['sign', errors.missingSignature], ['timestamp', errors.missingTimestamp], ['version', errors.missingVersion],
  ];
  for (const [name, definition] of required) {
    if (params[name] === undefined || params[name] === '') return failure(definition, undefined, method);
  }
  const appId = params.app_id!;
  const methodName = params.method!;

  // 3. format of each field
  if (appId.length > 32) return failure(errors.invalidAppIdFormat, 'app_id is longer than 32 characters', method);
  if (methodName.length > 128) return failure(errors.invalidMethodFormat, 'method is longer than 128 characters', method);
  if (params.format !== undefined && params.format.toUpperCase() !== 'JSON') return failure(errors.invalidFormat, undefined, method);
  if (params.version !== '1.0') return failure(errors.invalidVersion, `version must be 1.0, got "${params.version!.slice(0, 20)}"`, method);
  if (!signTypes.includes(params.sign_type as SignType)) {
    return failure(errors.invalidSignType, `sign_type must be one of ${signTypes.join(', ')}, got "${params.sign_type!.slice(0, 20)}"`, method);
  }
  const timestamp = parseWallClock(params.timestamp!, input.zone);
  if (!timestamp) return failure(errors.invalidTimestamp, `timestamp must be yyyy-MM-dd HH:mm:ss, got "${params.timestamp!.slice(0, 30)}"`, method);
  const notifyUrl = params.notify_url || null;
  if (notifyUrl !== null && !isHttpUrl(notifyUrl)) return failure(errors.invalidNotifyUrl, undefined, method);
  let biz: Record<string, unknown> = {};
  if (params.biz_content !== undefined && params.biz_content !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.biz_content);
    } catch {
      return failure(errors.invalidBizContent, 'biz_content is not valid JSON', method);
    }
    // The duplicate-key scan recurses; a bound keeps a 64 KB "[[[[..." a client error, not a stack overflow.
    if (jsonNestingExceeds(params.biz_content, maxBizContentDepth)) {
      return failure(errors.invalidBizContent, `biz_content is nested more than ${maxBizContentDepth} levels deep`, method);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return failure(errors.invalidBizContent, 'biz_content must be a JSON object', method);
    }
    biz = parsed as Record<string, unknown>;
  }

  // 4. special characters in identifiers
  for (const name of ['app_id', 'method'] as const) {
    if (specialCharacters.test(params[name]!)) return failure(errors.invalidCharacters, `${name} contains a separator, space or control character`, method);
  }
  for (const name of identifierFields) {
    const value = biz[name];
    if (typeof value === 'string' && specialCharacters.test(value)) {
      return failure(errors.invalidCharacters, `${name} contains a separator, space or control character`, method);
    }
  }

  // 5. reserved common keys inside biz_content
  const reserved = commonParameterNames.find((name) => Object.hasOwn(biz, name));
  if (reserved) return failure(errors.reservedKeyInBizContent, `biz_content must not contain the common parameter ${reserved}`, method);

  // 6. duplicate keys, in the parameters and inside biz_content
  if (duplicates.length > 0) return failure(errors.duplicateParameter, `parameter ${duplicates[0]} appears more than once`, method);
  const duplicateBizKey = params.biz_content ? findDuplicateKey(params.biz_content) : null;
  if (duplicateBizKey) return failure(errors.duplicateParameter, `biz_content key ${duplicateBizKey} appears more than once`, method);

  // 7. timestamp window (anti-replay)
  const skewSeconds = Math.abs(input.now.getTime() - timestamp.getTime()) / 1000;
  if (skewSeconds > input.windowSeconds) {
    return failure(errors.timestampOutOfWindow, `timestamp ${params.timestamp} (${input.zone}) is ${Math.round(skewSeconds)}s from server time; at most ${input.windowSeconds}s allowed`, method);
  }

  return {
    ok: true,
    envelope: { appId, method: methodName, signType: params.sign_type as SignType, sign: params.sign!, timestamp, notifyUrl, params, biz },
  };
}

export function isHttpUrl(text: string): boolean {
  if (text.length > 512) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The response key the Alipay way: the method with dots as underscores, or error_response when unusable. */
export function responseKey(method: string | undefined): string {
  return method && /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/i.test(method) && method.length <= 128
    ? `${method.replace(/\./g, '_')}_response`
    : 'error_response';
}
