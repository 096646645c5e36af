/**
 * UnionPay's signMethod 01 for version 5.1.0, both ways, and the checks on the certificate UnionPay signs with.
 *
 * Signing: every field except `signature`, sorted by key, joined as key=value with &; the SHA-256 digest of that
 * string as lowercase hex; that hex string signed with RSA-SHA256 (PKCS#1 v1.5); base64. Answers and callbacks
 * carry the signing certificate itself in `signPubKeyCert`, so a signature proves nothing until the certificate
 * is shown to chain to the configured UnionPay root through the configured intermediate, to be valid now, and to
 * name UnionPay. The official SDKs read the name as the third '@'-separated part of the subject CN
 * (for example `041@Z12@中国银联股份有限公司@00000062`); UnionPay's test environment uses `00040000:SIGN` there.
 * Pure functions: both the adapter and the test simulator use them.
 */
import { createHash, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';

export type Fields = Readonly<Record<string, string>>;

/** The string both sides sign: all fields but `signature`, sorted by key (code unit order, as Java's TreeMap). */
export function signingString(fields: Fields): string {
  return Object.keys(fields)
    .filter((key) => key !== 'signature')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => `${key}=${fields[key]}`)
    .join('&');
}

/** The lowercase hex SHA-256 digest of the signing string: what the RSA signature covers. */
export function signingDigestHex(fields: Fields): string {
  return createHash('sha256').update(signingString(fields), 'utf8').digest('hex');
}

export function signFields(fields: Fields, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(signingDigestHex(fields), 'utf8'), privateKey).toString('base64');
}

/** The fields with their `signature` added. */
export function withSignature(fields: Fields, privateKey: KeyObject): Record<string, string> {
  const { signature: _ignored, ...unsigned } = fields;
  return { ...unsigned, signature: signFields(unsigned, privateKey) };
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

export function verifyFieldsSignature(fields: Fields, publicKey: KeyObject): boolean {
  const signature = fields.signature;
  if (!signature || !base64Pattern.test(signature)) return false;
  try {
    return verify('sha256', Buffer.from(signingDigestHex(fields), 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** UnionPay's trust anchors as configured: its root and the intermediate that issues its signing certificates. */
export interface UnionpayTrust {
  readonly root: X509Certificate;
  readonly intermediate: X509Certificate;
  /** The third '@'-separated part of the signing certificate's CN, such as 中国银联股份有限公司. */
  readonly signerName: string;
}

export type CertificateCheck = { readonly ok: true; readonly publicKey: KeyObject } | { readonly ok: false; readonly reason: string };

/** The subject CN of a certificate as node prints it ("C=CN\nO=...\nCN=..."); null when it has none. */
export function commonNameOf(certificate: X509Certificate): string | null {
  const line = certificate.subject.split('\n').find((part) => part.startsWith('CN='));
  return line === undefined ? null : line.slice(3);
}

/** The signer name the SDKs compare: the CN's third '@'-separated part, or '' when it has fewer. */
export function signerNameOf(commonName: string): string {
  return commonName.split('@')[2] ?? '';
}

function isCurrent(certificate: X509Certificate, nowMs: number): boolean {
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  return Number.isFinite(from) && Number.isFinite(to) && from <= nowMs && nowMs <= to;
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/**
 * Checks a `signPubKeyCert` value: it parses, it and both anchors are valid at `nowMs`, it was issued by the
 * intermediate, the intermediate (a CA) by the root, the root by itself, and its CN names the expected signer.
 */
export function checkSigningCertificate(pem: string, trust: UnionpayTrust, nowMs: number): CertificateCheck {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return { ok: false, reason: 'signPubKeyCert is not a certificate' };
  }
  if (!isCurrent(certificate, nowMs)) return { ok: false, reason: 'the signing certificate is expired or not yet valid' };
  if (!isCurrent(trust.intermediate, nowMs) || !isCurrent(trust.root, nowMs)) return { ok: false, reason: 'a configured UnionPay CA certificate is expired' };
  if (!issuedBy(certificate, trust.intermediate)) return { ok: false, reason: 'the signing certificate was not issued by the configured intermediate' };
  if (!trust.intermediate.ca || !issuedBy(trust.intermediate, trust.root) || !issuedBy(trust.root, trust.root)) {
    return { ok: false, reason: 'the configured intermediate does not chain to the configured root' };
  }
  const commonName = commonNameOf(certificate);
  if (commonName === null || signerNameOf(commonName) !== trust.signerName) {
    return { ok: false, reason: `the signing certificate does not name ${trust.signerName}` };
  }
  return { ok: true, publicKey: certificate.publicKey };
}

export type SignedFieldsCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Verifies a signed answer or callback from UnionPay: certificate first, then the signature over every field. */
export function verifyUnionpaySignature(fields: Fields, trust: UnionpayTrust, nowMs: number): SignedFieldsCheck {
  if (fields.signMethod !== '01') return { ok: false, reason: 'the answer is not signed with signMethod 01' };
  const pem = fields.signPubKeyCert;
  if (!pem) return { ok: false, reason: 'the answer carries no signPubKeyCert' };
  const certificate = checkSigningCertificate(pem, trust, nowMs);
  if (!certificate.ok) return certificate;
  if (!verifyFieldsSignature(fields, certificate.publicKey)) return { ok: false, reason: 'the signature does not verify' };
  return { ok: true };
}
