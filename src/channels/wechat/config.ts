/**
 * The WeChat Pay adapter's configuration: the merchant's credentials in WeChat's "platform public key"
 * mode (微信支付公钥模式: the platform public key and its PUB_KEY_ID_... instead of downloaded platform
 * certificates), the API base URL, and the call limits. parseWechatConfig validates an unknown value (a
 * decrypted channel_configs row, say) and wraps the two secrets so they never print.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Secret } from '../../shared/secret.js';

export const defaultWechatBaseUrl = 'https://api.mch.weixin.qq.com';

export const WechatConfigSchema = Type.Object(
  {
    /** WeChat Pay's API origin; the simulator's URL in tests. */
    baseUrl: Type.String({ pattern: '^https?://[^\\s?#]+$', default: defaultWechatBaseUrl }),
    /** 商户号: the merchant id, digits. */
    mchid: Type.String({ pattern: '^[0-9]{6,32}$' }),
    /** The AppID (公众号/小程序/移动应用) bound to the merchant; JSAPI payers' openids belong to it. */
    appid: Type.String({ pattern: '^[0-9A-Za-z_]{6,32}$' }),
    /** 商户API证书序列号: the serial number of the merchant API certificate whose key signs requests. */
    merchantSerialNo: Type.String({ pattern: '^[0-9A-Fa-f]{8,64}$' }),
    /** 商户API私钥 (apiclient_key.pem), PKCS#8 or PKCS#1 PEM. A secret. */
    merchantPrivateKeyPem: Type.String({ minLength: 1 }),
    /** 微信支付公钥ID, such as PUB_KEY_ID_0114232134912410000000000000XXXX. */
    platformPublicKeyId: Type.String({ pattern: '^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$' }),
    /** 微信支付公钥 (pub_key.pem), SPKI PEM. */
    platformPublicKeyPem: Type.String({ minLength: 1 }),
    /** APIv3密钥: 32 characters, decrypts callbacks. A secret. */
    apiV3Key: Type.String({ minLength: 32, maxLength: 32 }),
    /** The most any one call may take, connecting and reading the answer included. */
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
    /** Connections to WeChat Pay at most, for this adapter alone. */
    maxConnections: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
  },
  { additionalProperties: false },
);
export type WechatConfigInput = Static<typeof WechatConfigSchema>;

export { Secret } from '../../shared/secret.js';

export interface WechatConfig {
  readonly baseUrl: string;
  readonly mchid: string;
  readonly appid: string;
  readonly merchantSerialNo: string;
  readonly merchantPrivateKey: Secret;
  readonly platformPublicKeyId: string;
  readonly platformPublicKeyPem: string;
  readonly apiV3Key: Secret;
  readonly timeoutMs: number;
  readonly maxConnections: number;
}

export class WechatConfigError extends Error {
  constructor(readonly field: string, problem: string) {
    super(`wechat channel config: ${field} ${problem}`);
    this.name = 'WechatConfigError';
  }
}

const checker = TypeCompiler.Compile(WechatConfigSchema);
const defaults = { baseUrl: defaultWechatBaseUrl, timeoutMs: 10_000, maxConnections: 32 };

/**
 * Validates a configuration and returns it typed, with the private key and the APIv3 key wrapped.
 * Throws WechatConfigError naming the first bad field; the message never repeats a value.
 */
export function parseWechatConfig(value: unknown): WechatConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WechatConfigError('(root)', 'must be an object');
  const input: Record<string, unknown> = { ...defaults, ...value };
  const error = checker.Errors(input).First();
  if (error) {
    const field = error.path.replace(/^\//, '').split('/')[0] || '(root)';
    throw new WechatConfigError(field, `is invalid: ${error.message}`);
  }
  const checked = input as WechatConfigInput;
  const privateKey = parseKey('merchantPrivateKeyPem', () => createPrivateKey(checked.merchantPrivateKeyPem));
  requireRsa2048('merchantPrivateKeyPem', privateKey);
  // createPublicKey would quietly derive a public key from a pasted private key; refuse that mistake.
  if (/PRIVATE KEY/.test(checked.platformPublicKeyPem)) throw new WechatConfigError('platformPublicKeyPem', 'must be a public key, not a private one');
  const publicKey = parseKey('platformPublicKeyPem', () => createPublicKey(checked.platformPublicKeyPem));
  requireRsa2048('platformPublicKeyPem', publicKey);
  if (Buffer.byteLength(checked.apiV3Key, 'utf8') !== 32) throw new WechatConfigError('apiV3Key', 'must be 32 bytes');
  return {
    baseUrl: checked.baseUrl.replace(/\/+$/, ''),
    mchid: checked.mchid,
    appid: checked.appid,
    merchantSerialNo: checked.merchantSerialNo,
    merchantPrivateKey: new Secret(checked.merchantPrivateKeyPem),
    platformPublicKeyId: checked.platformPublicKeyId,
    platformPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    apiV3Key: new Secret(checked.apiV3Key),
    timeoutMs: checked.timeoutMs,
    maxConnections: checked.maxConnections,
  };
}

function parseKey(field: string, parse: () => KeyObject): KeyObject {
  try {
    return parse();
  } catch {
    // The parser's own message may quote the input, so it is not passed on.
    throw new WechatConfigError(field, 'is not a readable PEM key');
  }
}

function requireRsa2048(field: string, key: KeyObject): void {
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new WechatConfigError(field, 'must be an RSA key of at least 2048 bits');
  }
}
