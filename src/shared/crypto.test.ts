import { describe, expect, it } from 'vitest';
import { generateRsaKeyPair, hmacSign, hmacVerify, normalizeRsaPublicKey, rsaSign, rsaVerify, SecretBox, signContent } from './crypto.js';
import { randomBytes } from 'node:crypto';

describe('signContent', () => {
  it('sorts keys byte-wise, skips sign and empty values, keeps values verbatim', () => {
    expect(signContent({ b: '2', a: '1', sign: 'x', empty: '', Z: 'upper', biz_content: '{"a":"b&c=d"}' }))
      .toBe('Z=upper&a=1&b=2&biz_content={"a":"b&c=d"}');
  });

  it('excludes sign_type when asked, as notifications require', () => {
    expect(signContent({ a: '1', sign_type: 'RSA2', sign: 's' }, ['sign', 'sign_type'])).toBe('a=1');
  });
});

describe('signatures', () => {
  const keys = generateRsaKeyPair();

  it('verifies an RSA2 signature and rejects a tampered content or another key', () => {
    const signature = rsaSign('a=1&b=2', keys.privateKeyPem);
    expect(rsaVerify('a=1&b=2', signature, keys.publicKeyPem)).toBe(true);
    expect(rsaVerify('a=1&b=3', signature, keys.publicKeyPem)).toBe(false);
    expect(rsaVerify('a=1&b=2', signature, generateRsaKeyPair().publicKeyPem)).toBe(false);
    expect(rsaVerify('a=1&b=2', 'not base64 at all', keys.publicKeyPem)).toBe(false);
  });

  it('verifies HMAC-SHA256 in constant time and rejects a wrong secret', () => {
    const signature = hmacSign('a=1', 'secret-1');
    expect(hmacVerify('a=1', signature, 'secret-1')).toBe(true);
    expect(hmacVerify('a=1', signature, 'secret-2')).toBe(false);
    expect(hmacVerify('a=1', '', 'secret-1')).toBe(false);
  });

  it('accepts bare base64 public keys the Alipay way and rejects junk', () => {
    const bare = keys.publicKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    expect(normalizeRsaPublicKey(bare)).toBe(keys.publicKeyPem);
    expect(normalizeRsaPublicKey('hello')).toBeNull();
  });
});

describe('SecretBox', () => {
  it('round-trips and detects tampering', () => {
    const box = new SecretBox(randomBytes(32).toString('base64'));
    const sealed = box.seal('private key text');
    expect(sealed).not.toContain('private');
    expect(box.open(sealed)).toBe('private key text');
    const parts = sealed.split(':');
    parts[3] = Buffer.from('tampered').toString('base64');
    expect(() => box.open(parts.join(':'))).toThrow();
  });
});
