import { randomInt } from 'node:crypto';
import { isUniqueViolation, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { generateRsaKeyPair, normalizeRsaPublicKey, randomSecret, rsaSignAsync, type SecretBox, type SignType } from '../shared/crypto.js';
import * as repository from './repository.js';

export interface PlatformKey {
  readonly keyId: number;
  readonly publicKeyPem: string;
  /** RSA2 signature of the content, computed off the event loop. */
  sign(content: string): Promise<string>;
}

/** Loads the platform signing key, generating and storing it (sealed) on first start. */
export async function loadPlatformKey(client: Queryable, secrets: SecretBox): Promise<PlatformKey> {
  let row = await repository.findActivePlatformKey(client);
  if (!row) {
    const pair = generateRsaKeyPair();
    // Two processes starting at once may both generate; the unique index keeps the first.
    await repository.insertPlatformKey(client, pair.publicKeyPem, secrets.seal(pair.privateKeyPem));
    row = await repository.findActivePlatformKey(client);
  }
  const privateKeyPem = secrets.open(row!.private_key_sealed);
  return {
    keyId: row!.key_id,
    publicKeyPem: row!.public_key_pem,
    sign: (content) => rsaSignAsync(content, privateKeyPem),
    // Never serialize the private key, even by accident.
    toJSON: () => ({ keyId: row!.key_id, publicKeyPem: row!.public_key_pem }),
  } as PlatformKey;
}

function randomDigits(length: number): string {
  let digits = '';
  while (digits.length < length) digits += randomInt(0, 10).toString();
  return digits;
}

async function withFreshId<T>(prefix: string, digits: number, insert: (id: string) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await insert(prefix + randomDigits(digits));
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

export async function createMerchant(client: Queryable, name: string): Promise<repository.MerchantRow> {
  const merchant = await withFreshId('2088', 12, (merchantId) => repository.insertMerchant(client, merchantId, name));
  await recordEvent(client, 'merchant', merchant.merchant_id, 'merchant.created', { name });
  return merchant;
}

export interface CreateAppInput {
  merchantId: string;
  name: string;
  signType?: SignType;
  /** The app's RSA public key (PEM or bare base64); when absent for RSA2, a key pair is generated. */
  publicKey?: string;
  notifyUrl?: string | null;
  allowedMethods?: string[] | null;
  ipAllowlist?: string[] | null;
  maxAmountMinor?: bigint;
}

/** Credentials shown once at creation or rotation; Tongbao keeps only the public key or the sealed secret. */
export interface IssuedCredentials {
  app_private_key?: string;
  app_public_key?: string;
  app_secret?: string;
}

export interface KeyMaterial {
  publicKeyPem: string | null;
  secretSealed: string | null;
  issued: IssuedCredentials;
}

export function issueKeyMaterial(signType: SignType, publicKey: string | undefined, secrets: SecretBox): KeyMaterial {
  if (signType === 'HMAC-SHA256') {
    if (publicKey !== undefined) fail(errors.adminInvalidInput, 'public_key cannot be given for sign_type HMAC-SHA256; a secret is generated');
    const secret = randomSecret(32);
    return { publicKeyPem: null, secretSealed: secrets.seal(secret), issued: { app_secret: secret } };
  }
  if (publicKey !== undefined) {
    // Node derives a public key from a private one, so a private key pasted here by mistake would be
    // accepted silently; refuse it, so the merchant learns the key left their hands.
    if (/PRIVATE KEY/.test(publicKey)) fail(errors.adminInvalidInput, 'public_key is a private key; it was not stored; send only the public key, and replace this key pair since it was shared');
    const pem = normalizeRsaPublicKey(publicKey);
    if (!pem) fail(errors.adminInvalidInput, 'public_key must be an RSA public key of at least 2048 bits, in PEM or base64');
    return { publicKeyPem: pem, secretSealed: null, issued: { app_public_key: pem } };
  }
  const pair = generateRsaKeyPair();
  return { publicKeyPem: pair.publicKeyPem, secretSealed: null, issued: { app_private_key: pair.privateKeyPem, app_public_key: pair.publicKeyPem } };
}

export async function createApp(client: Queryable, secrets: SecretBox, input: CreateAppInput): Promise<{ app: repository.AppRow; issued: IssuedCredentials }> {
  const merchant = await repository.findMerchant(client, input.merchantId);
  if (!merchant) fail(errors.notFound, `merchant ${input.merchantId} does not exist`);
  const signType = input.signType ?? 'RSA2';
  const keys = issueKeyMaterial(signType, input.publicKey, secrets);
  const app = await withFreshId('2026', 12, (appId) =>
    repository.insertApp(client, {
      appId,
      merchantId: input.merchantId,
      name: input.name,
      signType,
      publicKeyPem: keys.publicKeyPem,
      secretSealed: keys.secretSealed,
      notifyUrl: input.notifyUrl ?? null,
      allowedMethods: input.allowedMethods ?? null,
      ipAllowlist: input.ipAllowlist ?? null,
      maxAmountMinor: input.maxAmountMinor ?? 100_000_000n,
    }),
  );
  await recordEvent(client, 'app', app.app_id, 'app.created', { merchant_id: app.merchant_id, sign_type: signType });
  return { app, issued: keys.issued };
}

export async function rotateAppKey(client: Queryable, secrets: SecretBox, appId: string, signType: SignType | undefined, publicKey: string | undefined) {
  const existing = await repository.findApp(client, appId);
  if (!existing) fail(errors.notFound, `app ${appId} does not exist`);
  const newSignType = signType ?? existing.sign_type;
  const keys = issueKeyMaterial(newSignType, publicKey, secrets);
  const app = await repository.updateAppKey(client, appId, newSignType, keys.publicKeyPem, keys.secretSealed);
  await recordEvent(client, 'app', appId, 'app.key_rotated', { sign_type: newSignType });
  return { app: app!, issued: keys.issued };
}

/** Changes the given settings (absent ones stay as they are) and records which changed. */
export async function updateAppSettings(client: Queryable, appId: string, settings: repository.AppSettings): Promise<repository.AppRow> {
  const updated = await repository.updateAppSettings(client, appId, settings);
  if (!updated) fail(errors.notFound, `app ${appId} does not exist`);
  const changes = Object.fromEntries(Object.entries({
    notify_url: settings.notifyUrl, allowed_methods: settings.allowedMethods, ip_allowlist: settings.ipAllowlist, max_amount_minor: settings.maxAmountMinor,
  }).filter(([, value]) => value !== undefined));
  if (Object.keys(changes).length > 0) await recordEvent(client, 'app', appId, 'app.updated', changes);
  return updated;
}

/** Changes the merchant's settings (absent ones stay as they are) and records the change. */
export async function updateMerchantSettings(client: Queryable, merchantId: string, settings: repository.MerchantSettings): Promise<repository.MerchantRow> {
  const updated = await repository.updateMerchantSettings(client, merchantId, settings);
  if (!updated) fail(errors.notFound, `merchant ${merchantId} does not exist`);
  const changes = Object.fromEntries(Object.entries({
    escrow_confirm_seconds: settings.escrowConfirmSeconds, refund_window_days: settings.refundWindowDays,
  }).filter(([, value]) => value !== undefined));
  if (Object.keys(changes).length > 0) await recordEvent(client, 'merchant', merchantId, 'merchant.updated', changes);
  return updated;
}

export async function setMerchantStatus(client: Queryable, merchantId: string, to: repository.PartyStatus) {
  const from = to === 'FROZEN' ? 'NORMAL' : 'FROZEN';
  const updated = await repository.updateMerchantStatus(client, merchantId, from, to);
  if (updated) {
    await recordEvent(client, 'merchant', merchantId, to === 'FROZEN' ? 'merchant.frozen' : 'merchant.unfrozen', {});
    return updated;
  }
  const current = await repository.findMerchant(client, merchantId);
  if (!current) fail(errors.notFound, `merchant ${merchantId} does not exist`);
  return current; // already in the asked state: the call is idempotent
}

export async function setAppStatus(client: Queryable, appId: string, to: repository.PartyStatus) {
  const from = to === 'FROZEN' ? 'NORMAL' : 'FROZEN';
  const updated = await repository.updateAppStatus(client, appId, from, to);
  if (updated) {
    await recordEvent(client, 'app', appId, to === 'FROZEN' ? 'app.frozen' : 'app.unfrozen', {});
    return updated;
  }
  const current = await repository.findApp(client, appId);
  if (!current) fail(errors.notFound, `app ${appId} does not exist`);
  return current;
}

/** The app as the admin API shows it: never the sealed secret. */
export function presentApp(app: repository.AppRow) {
  return {
    app_id: app.app_id,
    merchant_id: app.merchant_id,
    name: app.name,
    sign_type: app.sign_type,
    app_public_key: app.public_key_pem,
    notify_url: app.notify_url,
    allowed_methods: app.allowed_methods,
    ip_allowlist: app.ip_allowlist,
    max_amount_minor: app.max_amount_minor.toString(),
    status: app.status,
    created_at: app.created_at.toISOString(),
    updated_at: app.updated_at.toISOString(),
  };
}

export function presentMerchant(merchant: repository.MerchantRow) {
  return {
    merchant_id: merchant.merchant_id,
    name: merchant.name,
    status: merchant.status,
    escrow_confirm_seconds: merchant.escrow_confirm_seconds,
    refund_window_days: merchant.refund_window_days,
    created_at: merchant.created_at.toISOString(),
    updated_at: merchant.updated_at.toISOString(),
  };
}
