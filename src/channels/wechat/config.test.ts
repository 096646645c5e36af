import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseWechatConfig, Secret, WechatConfigError } from './config.js';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchantPrivateKeyPem = merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const platformPublicKeyPem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const apiV3Key = 'k9BfJp3Qx7Lm2Rt8Vw4Yz6Ac1Ed5Gh0J';

const valid = {
  mchid: '1900000109',
  appid: 'wxd678efh567hg6787',
  merchantSerialNo: '3775B6A45ACD588826D15E583A95F5DD00000000',
  merchantPrivateKeyPem,
  platformPublicKeyId: 'PUB_KEY_ID_0114232134912410000000000000',
  platformPublicKeyPem,
  apiV3Key,
};

function problemWith(input: Record<string, unknown>): WechatConfigError {
  try {
    parseWechatConfig(input);
  } catch (error) {
    if (error instanceof WechatConfigError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('wechat config', () => {
  it('fills defaults and wraps the secrets', () => {
    const config = parseWechatConfig(valid);
    expect(config).toMatchObject({ baseUrl: 'https://api.mch.weixin.qq.com', timeoutMs: 10_000, maxConnections: 32, mchid: valid.mchid });
    expect(config.merchantPrivateKey).toBeInstanceOf(Secret);
    expect(config.merchantPrivateKey.reveal()).toBe(merchantPrivateKeyPem);
    expect(config.apiV3Key.reveal()).toBe(apiV3Key);
  });

  it('never prints a secret', () => {
    const config = parseWechatConfig(valid);
    const secretText = merchantPrivateKeyPem.split('\n')[1]!;
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 5 }), String(config.apiV3Key), `${config.merchantPrivateKey}`]) {
      expect(printed).not.toContain(secretText);
      expect(printed).not.toContain(apiV3Key);
    }
  });

  it('names the bad field and does not repeat its value', () => {
    expect(problemWith({ ...valid, mchid: 'abc' }).field).toBe('mchid');
    expect(problemWith({ ...valid, appid: undefined }).field).toBe('appid');
    expect(problemWith({ ...valid, platformPublicKeyId: '7132D72A03E93CDDF8C03BBD1F37EEDF' }).field).toBe('platformPublicKeyId');
    expect(problemWith({ ...valid, timeoutMs: 0 }).field).toBe('timeoutMs');
    expect(problemWith({ ...valid, baseUrl: 'ftp://example.com' }).field).toBe('baseUrl');
    expect(problemWith({ ...valid, surprise: true }).message).toContain('surprise');
    const badKey = problemWith({ ...valid, merchantPrivateKeyPem: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----' });
    expect(badKey.field).toBe('merchantPrivateKeyPem');
    expect(badKey.message).not.toContain('not a key');
    const shortKey = problemWith({ ...valid, apiV3Key: 'short' });
    expect(shortKey.field).toBe('apiV3Key');
    expect(shortKey.message).not.toContain('short');
  });

  it('refuses a private key pasted as the platform public key, and small or non-RSA keys', () => {
    expect(problemWith({ ...valid, platformPublicKeyPem: merchantPrivateKeyPem }).field).toBe('platformPublicKeyPem');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(problemWith({ ...valid, merchantPrivateKeyPem: small }).field).toBe('merchantPrivateKeyPem');
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(problemWith({ ...valid, platformPublicKeyPem: ed }).field).toBe('platformPublicKeyPem');
    expect(() => parseWechatConfig(null)).toThrow(WechatConfigError);
  });
});
