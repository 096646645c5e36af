/**
 * Certificates for the UnionPay simulator, generated at test time (nothing is committed): a root, an
 * intermediate and UnionPay's signing certificate, as UnionPay's own chain is laid out; plus, for negative
 * tests, a signing certificate under a different root, an expired one, and one whose CN names someone else.
 * node:crypto cannot create certificates, so @peculiar/x509 (a dev dependency) builds them over WebCrypto.
 * Every leaf shares one key pair, so a test that swaps the certificate proves the chain check, not the
 * signature, is what refuses it.
 */
import { generateKeyPairSync, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const dayMs = 24 * 60 * 60 * 1000;

export interface SignerCredentials {
  readonly certPem: string;
  readonly privateKeyPem: string;
}

export interface UnionpayTestPki {
  readonly signerName: string;
  readonly rootCertPem: string;
  readonly intermediateCertPem: string;
  /** UnionPay's signing certificate: under the root and intermediate above, valid now, naming signerName. */
  readonly signing: SignerCredentials;
  /** Same name, same key, but issued under a root Tongbao does not trust. */
  readonly untrusted: SignerCredentials;
  /** Issued by the right intermediate but expired yesterday. */
  readonly expired: SignerCredentials;
  /** Issued by the right intermediate but naming another organisation. */
  readonly wrongName: SignerCredentials;
  /** The merchant's signing key and the certId (serial number) UnionPay knows it by. */
  readonly merchant: { readonly certId: string; readonly privateKeyPem: string; readonly publicKeyPem: string };
}

function pem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function serial(): string {
  // A positive serial: clear the top bit so the DER integer needs no sign byte.
  const bytes = randomBytes(8);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

async function authority(name: string, issuer?: { cert: x509.X509Certificate; keys: CryptoKeyPair }): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions = [
    new x509.BasicConstraintsExtension(true, issuer ? 0 : 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const window = { notBefore: new Date(Date.now() - 30 * dayMs), notAfter: new Date(Date.now() + 3650 * dayMs) };
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject: name, issuer: issuer.cert.subject, ...window, signingKey: issuer.keys.privateKey, publicKey: keys.publicKey, signingAlgorithm: algorithm, extensions,
    })
    : await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: serial(), name, ...window, keys, signingAlgorithm: algorithm, extensions });
  return { cert, keys };
}

async function leaf(commonName: string, issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair }, keys: CryptoKeyPair, notBefore: Date, notAfter: Date): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `C=CN, O=China UnionPay, OU=00040000, CN=${commonName}`,
    issuer: issuer.cert.subject,
    notBefore,
    notAfter,
    signingKey: issuer.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: algorithm,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
  });
  return cert.toString('pem');
}

export async function generateUnionpayTestPki(signerName = '中国银联股份有限公司'): Promise<UnionpayTestPki> {
  const root = await authority('C=CN, O=Simulated CFCA, CN=Simulated UnionPay Root');
  const intermediate = await authority('C=CN, O=Simulated CFCA, CN=Simulated UnionPay OCA', root);
  const otherRoot = await authority('C=CN, O=Somebody Else, CN=Untrusted Root');
  const otherIntermediate = await authority('C=CN, O=Somebody Else, CN=Untrusted OCA', otherRoot);
  const signerKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const signerKeyPem = pem(signerKeys.privateKey);
  const now = Date.now();
  const valid = [new Date(now - dayMs), new Date(now + 365 * dayMs)] as const;
  const cn = (name: string) => `041@Z12@${name}@00000062`;
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    signerName,
    rootCertPem: root.cert.toString('pem'),
    intermediateCertPem: intermediate.cert.toString('pem'),
    signing: { certPem: await leaf(cn(signerName), intermediate, signerKeys, ...valid), privateKeyPem: signerKeyPem },
    untrusted: { certPem: await leaf(cn(signerName), otherIntermediate, signerKeys, ...valid), privateKeyPem: signerKeyPem },
    expired: { certPem: await leaf(cn(signerName), intermediate, signerKeys, new Date(now - 30 * dayMs), new Date(now - dayMs)), privateKeyPem: signerKeyPem },
    wrongName: { certPem: await leaf(cn('某某支付有限公司'), intermediate, signerKeys, ...valid), privateKeyPem: signerKeyPem },
    merchant: {
      certId: BigInt(`0x${serial()}`).toString(10),
      privateKeyPem: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
  };
}
