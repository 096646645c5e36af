/**
 * The UnionPay adapter's configuration: a TypeBox schema and a parser that names the first bad field.
 * The merchant's private key is the one secret: the parsed config hides it from JSON.stringify and from
 * util.inspect, so logging a config cannot leak it.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const httpUrl = { pattern: '^https?://[^\\s]+$' };

export const UnionpayConfigSchema = Type.Object(
  {
    /** The gateway, such as https://gateway.95516.com (production) or the test environment's host. */
    baseUrl: Type.String(httpUrl),
    /** The file-download host (production: https://filedownload.95516.com); baseUrl when absent. */
    fileBaseUrl: Type.Optional(Type.String(httpUrl)),
    /** The merchant number UnionPay assigned (15 characters). */
    merId: Type.String({ pattern: '^[0-9A-Za-z]{15}$' }),
    /** The serial number (decimal) of the merchant's signing certificate, sent as certId. */
    certId: Type.String({ pattern: '^[0-9]{1,40}$' }),
    /** The private key of that certificate, PEM (PKCS#8 or PKCS#1), RSA. */
    merchantPrivateKeyPem: Type.String({ minLength: 1 }),
    /** UnionPay's root certificate (acp_prod_root.cer), PEM. */
    rootCertPem: Type.String({ minLength: 1 }),
    /** UnionPay's intermediate certificate (acp_prod_middle.cer), PEM. */
    intermediateCertPem: Type.String({ minLength: 1 }),
    /** The third '@'-separated part of the signing certificate's CN; the test environment uses 00040000:SIGN. */
    signerName: Type.String({ minLength: 1, default: '中国银联股份有限公司' }),
    /** channelType of every request: 07 PC, 08 mobile. */
    channelType: Type.Union([Type.Literal('07'), Type.Literal('08')], { default: '07' }),
    /** Tongbao's callback URL for UnionPay, sent as backUrl where a request names none (cancel). */
    notifyUrl: Type.String(httpUrl),
    /** The token requestor id (trId) for UNIONPAY_TOKEN payments. */
    tokenRequestorId: Type.Optional(Type.String({ pattern: '^[0-9]{11}$' })),
    /** The most any one HTTP call may take, connecting and reading the answer included. */
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
    /** Connections to UnionPay at most. */
    maxConnections: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
    /** Callbacks whose txnTime is older than this are refused as stale; replays are remembered as long. */
    callbackMaxAgeSeconds: Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, default: 24 * 3600 }),
  },
  { additionalProperties: false },
);

export type UnionpayConfig = Static<typeof UnionpayConfigSchema>;

export class UnionpayConfigError extends Error {
  constructor(readonly field: string, problem: string) {
    super(`unionpay config: ${field} ${problem}`);
  }
}

function redacted(config: UnionpayConfig): UnionpayConfig {
  const view = () => ({ ...config, merchantPrivateKeyPem: '[redacted]' });
  Object.defineProperty(config, 'toJSON', { value: view, enumerable: false });
  Object.defineProperty(config, inspect.custom, { value: () => view(), enumerable: false });
  return Object.freeze(config);
}

/** Validates an unknown value into the typed config (defaults filled in); throws UnionpayConfigError naming the field. */
export function parseUnionpayConfig(value: unknown): UnionpayConfig {
  if (typeof value !== 'object' || value === null) throw new UnionpayConfigError('(root)', 'must be an object');
  const candidate = Value.Default(UnionpayConfigSchema, structuredClone(value));
  const error = Value.Errors(UnionpayConfigSchema, candidate).First();
  if (error) {
    const field = error.path.replace(/^\//, '') || '(root)';
    // The message names the field and the rule, never the value, which may be a key.
    throw new UnionpayConfigError(field, error.message.toLowerCase());
  }
  const config = candidate as UnionpayConfig;
  try {
    const key = createPrivateKey(config.merchantPrivateKeyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
  } catch {
    throw new UnionpayConfigError('merchantPrivateKeyPem', 'must be an RSA private key in PEM');
  }
  for (const field of ['rootCertPem', 'intermediateCertPem'] as const) {
    try {
      new X509Certificate(config[field]);
    } catch {
      throw new UnionpayConfigError(field, 'must be an X.509 certificate in PEM');
    }
  }
  return redacted(config);
}
