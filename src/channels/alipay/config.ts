/**
 * The Alipay adapter's configuration: a TypeBox schema of what an operator writes, and a parser that turns an
 * unknown value into the typed configuration or throws one message naming every bad field. Key material is
 * checked here (an RSA key of at least 2048 bits) so a wrong paste fails at start, not at the first payment,
 * and the app private key is wrapped so that neither logs nor JSON.stringify can print it.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { normalizeRsaPublicKey } from '../../shared/crypto.js';
import { Secret } from '../../shared/secret.js';

export const defaultGatewayUrl = 'https://openapi.alipay.com/gateway.do';

export const AlipayConfigSchema = Type.Object({
  /** The open-platform app id (16 digits), sent as app_id on every call and checked on every notification. */
  appId: Type.String({ pattern: '^[0-9]{16}$' }),
  /** The app's RSA private key: PEM (PKCS#8 or PKCS#1) or the bare base64 Alipay's key tool prints. */
  appPrivateKeyPem: Type.String({ minLength: 1 }),
  /** Alipay's public key (PEM or bare base64 SPKI), for answers and notifications. */
  alipayPublicKeyPem: Type.String({ minLength: 1 }),
  /** The OpenAPI gateway: https://openapi.alipay.com/gateway.do in production, the simulator's /gateway.do in tests. */
  gatewayUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  /** The most any one call may take, connecting and reading the answer included. */
  timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
  /** Connections to Alipay at most, in this adapter's own pool. */
  maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  /** How ALIPAY_PAGE hands the payer to the cashier: an auto-submitted POST form (Alipay's advice) or a GET redirect. */
  pagePayAction: Type.Optional(Type.Union([Type.Literal('FORM'), Type.Literal('REDIRECT')])),
}, { additionalProperties: false });

export type AlipayConfigInput = Static<typeof AlipayConfigSchema>;

export { Secret } from '../../shared/secret.js';

export interface AlipayConfig {
  readonly appId: string;
  /** PKCS#8 PEM, whatever form was configured. */
  readonly appPrivateKey: Secret;
  /** SPKI PEM. */
  readonly alipayPublicKeyPem: string;
  readonly gatewayUrl: string;
  readonly timeoutMs: number;
  readonly maxConnections: number;
  readonly pagePayAction: 'FORM' | 'REDIRECT';
}

export class AlipayConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid alipay configuration: ${problems.join('; ')}`);
    this.name = 'AlipayConfigError';
  }
}

/** Validates an unknown value (parsed JSON, a settings row) into the adapter's configuration. */
export function parseAlipayConfig(input: unknown): AlipayConfig {
  // Messages name the field and the rule only: a value may be a key, and error messages end up in logs.
  const problems = [...Value.Errors(AlipayConfigSchema, input)].map((error) => `${error.path.replace(/^\//, '') || '(config)'}: ${error.message}`);
  if (problems.length > 0) throw new AlipayConfigError(problems);
  const value = input as AlipayConfigInput;
  const privateKey = readPrivateKey(value.appPrivateKeyPem);
  if (!privateKey) problems.push('appPrivateKeyPem: not an RSA private key of at least 2048 bits');
  // A private key would pass as a public one (Node derives the public half), and is never what belongs here.
  const publicKeyPem = /PRIVATE KEY/.test(value.alipayPublicKeyPem) ? null : normalizeRsaPublicKey(value.alipayPublicKeyPem);
  if (!publicKeyPem) problems.push('alipayPublicKeyPem: not an RSA public key of at least 2048 bits');
  if (!privateKey || !publicKeyPem) throw new AlipayConfigError(problems);
  return {
    appId: value.appId,
    appPrivateKey: new Secret(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    alipayPublicKeyPem: publicKeyPem,
    gatewayUrl: value.gatewayUrl ?? defaultGatewayUrl,
    timeoutMs: value.timeoutMs,
    maxConnections: value.maxConnections ?? 32,
    pagePayAction: value.pagePayAction ?? 'FORM',
  };
}

function readPrivateKey(text: string): KeyObject | null {
  const trimmed = text.trim();
  const candidates: Array<() => KeyObject> = trimmed.startsWith('-----BEGIN')
    ? [() => createPrivateKey(trimmed)]
    : [
      () => createPrivateKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs8' }),
      () => createPrivateKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs1' }),
    ];
  for (const candidate of candidates) {
    try {
      const key = candidate();
      if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return key;
    } catch {
      // Try the next form; the caller reports the field when none fits.
    }
  }
  return null;
}
