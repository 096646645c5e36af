import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { WechatConfigInput } from '../../../src/channels/wechat/index.js';

/**
 * Both sides' credentials for one simulated merchant, generated per test run (nothing is committed):
 * the merchant API key pair and certificate serial, the platform key pair and its PUB_KEY_ID_, the APIv3 key.
 */
export interface WechatCredentials {
  readonly mchid: string;
  readonly appid: string;
  readonly merchantSerialNo: string;
  readonly merchantPrivateKeyPem: string;
  readonly merchantPublicKeyPem: string;
  readonly platformPublicKeyId: string;
  readonly platformPublicKeyPem: string;
  readonly platformPrivateKeyPem: string;
  readonly apiV3Key: string;
}

export interface RsaPemPair {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

export function generateRsaPair(): RsaPemPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** 32 printable characters, as the merchant platform asks the APIv3 key to be. */
export function generateApiV3Key(): string {
  return randomBytes(24).toString('base64').replace(/[+/]/g, 'x');
}

export function generateWechatCredentials(): WechatCredentials {
  const merchant = generateRsaPair();
  const platform = generateRsaPair();
  return {
    mchid: `19${randomDigits(8)}`,
    appid: `wx${randomBytes(8).toString('hex')}`,
    merchantSerialNo: randomBytes(20).toString('hex').toUpperCase(),
    merchantPrivateKeyPem: merchant.privateKeyPem,
    merchantPublicKeyPem: merchant.publicKeyPem,
    platformPublicKeyId: `PUB_KEY_ID_0114${randomDigits(28)}`,
    platformPublicKeyPem: platform.publicKeyPem,
    platformPrivateKeyPem: platform.privateKeyPem,
    apiV3Key: generateApiV3Key(),
  };
}

/** The adapter configuration that matches these credentials and a simulator at baseUrl. */
export function adapterConfigInput(credentials: WechatCredentials, baseUrl: string, overrides: Partial<WechatConfigInput> = {}): WechatConfigInput {
  return {
    baseUrl,
    mchid: credentials.mchid,
    appid: credentials.appid,
    merchantSerialNo: credentials.merchantSerialNo,
    merchantPrivateKeyPem: credentials.merchantPrivateKeyPem,
    platformPublicKeyId: credentials.platformPublicKeyId,
    platformPublicKeyPem: credentials.platformPublicKeyPem,
    apiV3Key: credentials.apiV3Key,
    timeoutMs: 1000,
    maxConnections: 8,
    ...overrides,
  };
}

export function randomDigits(count: number): string {
  return Array.from(randomBytes(count), (byte) => String(byte % 10)).join('');
}
