import { sign as cryptoSign, createCipheriv, createDecipheriv, createHmac, hkdfSync, createPrivateKey, createPublicKey, createSign, createVerify, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Sign types the gateway accepts. RSA2 = SHA256withRSA; HMAC-SHA256 uses a shared secret. */
export type SignType = 'RSA2' | 'HMAC-SHA256';
export const signTypes: readonly SignType[] = ['RSA2', 'HMAC-SHA256'];

/**
 * The Alipay string to sign: every parameter but `sign` (and, for notifications, `sign_type`), with a
 * non-empty value, sorted by key byte-wise, joined as k=v&k=v with values exactly as received.
 */
export function signContent(params: Readonly<Record<string, string>>, exclude: readonly string[] = ['sign']): string {
  return Object.keys(params)
    .filter((key) => !exclude.includes(key) && params[key] !== undefined && params[key] !== '')
    .sort(compareBytes)
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// Parsing a PEM costs more than the signature itself, so parsed keys are cached by their text.
const keyCache = new Map<string, KeyObject>();
const keyCacheLimit = 10_000;

function cachedKey(pem: string, kind: 'private' | 'public'): KeyObject {
  const cacheKey = `${kind}:${pem}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
    if (keyCache.size >= keyCacheLimit) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

export function rsaSign(content: string, privateKeyPem: string): string {
  return createSign('RSA-SHA256').update(content, 'utf8').sign(cachedKey(privateKeyPem, 'private'), 'base64');
}

/**
 * The same signature as rsaSign, computed on libuv's thread pool: the event loop goes on serving
 * requests while the other core signs. The platform signs every response and notification this way.
 */
export function rsaSignAsync(content: string, privateKeyPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', Buffer.from(content, 'utf8'), cachedKey(privateKeyPem, 'private'), (error, signature) => {
      if (error) reject(error);
      else resolve(signature.toString('base64'));
    });
  });
}

export function rsaVerify(content: string, signature: string, publicKeyPem: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(content, 'utf8').verify(cachedKey(publicKeyPem, 'public'), signature, 'base64');
  } catch {
    return false;
  }
}

export function hmacSign(content: string, secret: string): string {
  return createHmac('sha256', secret).update(content, 'utf8').digest('base64');
}

export function hmacVerify(content: string, signature: string, secret: string): boolean {
  const expected = Buffer.from(hmacSign(content, secret), 'base64');
  const given = Buffer.from(signature, 'base64');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface RsaKeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

export function generateRsaKeyPair(): RsaKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * Accepts a public key as PEM or as Alipay's bare base64 SPKI and returns PEM,
 * or null when it is not an RSA public key of at least 2048 bits.
 */
export function normalizeRsaPublicKey(text: string): string | null {
  const trimmed = text.trim();
  const pem = trimmed.startsWith('-----BEGIN')
    ? trimmed
    : `-----BEGIN PUBLIC KEY-----\n${trimmed.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PUBLIC KEY-----`;
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return null;
    return key.export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    return null;
  }
}

/** AES-256-GCM box for secrets at rest (private keys, shared secrets), keyed by the master key. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(masterKeyBase64: string) {
    this.key = Buffer.from(masterKeyBase64, 'base64');
    if (this.key.length !== 32) throw new Error('the master key must be 32 bytes in base64');
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }

  /**
   * A key of its own for one purpose (such as card tokens), derived from the master key with HKDF-SHA256, so
   * the master key itself is used for nothing but sealing and a derived key reveals nothing about it.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `tongbao:${purpose}`, 32));
  }

  // Secrets never print, even when a holder object is logged by accident.
  toJSON(): string {
    return '[SecretBox]';
  }
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
