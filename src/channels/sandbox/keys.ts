import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface SandboxCredentials {
  readonly mchId: string;
  readonly merchantPrivateKeyPem: string;
  readonly merchantPublicKeyPem: string;
  readonly bankPrivateKeyPem: string;
  readonly bankPublicKeyPem: string;
}

export interface Ed25519KeyPair {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A fresh merchant id plus both key pairs: the merchant's (Tongbao signs requests, the bank verifies) and the
 * bank's (the bank signs answers and callbacks, Tongbao verifies).
 */
export function generateSandboxCredentials(): SandboxCredentials {
  const merchant = generateEd25519KeyPair();
  const bank = generateEd25519KeyPair();
  return {
    mchId: `sbx_${randomBytes(6).toString('hex')}`,
    merchantPrivateKeyPem: merchant.privateKeyPem,
    merchantPublicKeyPem: merchant.publicKeyPem,
    bankPrivateKeyPem: bank.privateKeyPem,
    bankPublicKeyPem: bank.publicKeyPem,
  };
}
