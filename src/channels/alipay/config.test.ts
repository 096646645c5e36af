import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateRsaKeyPair } from '../../shared/crypto.js';
import { createAlipayAdapter } from './adapter.js';
import { parseAlipayConfig } from './config.js';

const appKeys = generateRsaKeyPair();
const alipayKeys = generateRsaKeyPair();
const appId = '2021000122600001';

describe('alipay configuration', () => {
  const valid = { appId, appPrivateKeyPem: appKeys.privateKeyPem, alipayPublicKeyPem: alipayKeys.publicKeyPem, timeoutMs: 5000 };

  it('fills defaults and accepts bare base64 keys as Alipay\'s key tool prints them', () => {
    const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const config = parseAlipayConfig({ ...valid, appPrivateKeyPem: bare(appKeys.privateKeyPem), alipayPublicKeyPem: bare(alipayKeys.publicKeyPem) });
    expect(config).toMatchObject({ appId, gatewayUrl: 'https://openapi.alipay.com/gateway.do', timeoutMs: 5000, maxConnections: 32, pagePayAction: 'FORM' });
    expect(config.appPrivateKey.reveal()).toContain('BEGIN PRIVATE KEY');
  });

  it('names every bad field without printing its value', () => {
    expect(() => parseAlipayConfig({ ...valid, appId: 'abc', timeoutMs: 5 })).toThrow(/appId.*timeoutMs|timeoutMs.*appId/);
    expect(() => parseAlipayConfig({ ...valid, appPrivateKeyPem: 'not a key' })).toThrow('appPrivateKeyPem: not an RSA private key');
    expect(() => parseAlipayConfig({ ...valid, alipayPublicKeyPem: appKeys.privateKeyPem })).toThrow('alipayPublicKeyPem');
    expect(() => parseAlipayConfig({ ...valid, extra: 1 })).toThrow('invalid alipay configuration');
    expect(() => parseAlipayConfig(null)).toThrow('invalid alipay configuration');
    try {
      parseAlipayConfig({ ...valid, appPrivateKeyPem: `${appKeys.privateKeyPem.slice(0, 200)}` });
    } catch (error) {
      expect(String(error)).not.toContain(appKeys.privateKeyPem.slice(40, 80));
    }
  });

  it('never shows the private key in JSON, inspect or the adapter', async () => {
    const config = parseAlipayConfig(valid);
    const keyBody = appKeys.privateKeyPem.split('\n')[1]!;
    const adapter = createAlipayAdapter(config);
    try {
      const printed = [
        JSON.stringify(config),
        inspect(config, { depth: 5 }),
        JSON.stringify(adapter, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
        inspect(adapter, { depth: 5 }),
      ];
      for (const text of printed) expect(text).not.toContain(keyBody);
      expect(JSON.stringify(config)).toContain('"appPrivateKey":"[redacted]"');
    } finally {
      await adapter.dispose();
    }
  });
});
