import type { Queryable } from '../db/pool.js';

export type PartyStatus = 'NORMAL' | 'FROZEN';

export interface MerchantRow {
  merchant_id: string;
  name: string;
  status: PartyStatus;
  /** The merchant's escrow confirm period; null means the platform default (TONGBAO_ESCROW_CONFIRM_SECONDS). */
  escrow_confirm_seconds: number | null;
  refund_window_days: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface AppRow {
  app_id: string;
  merchant_id: string;
  name: string;
  sign_type: 'RSA2' | 'HMAC-SHA256';
  public_key_pem: string | null;
  secret_sealed: string | null;
  notify_url: string | null;
  allowed_methods: string[] | null;
  ip_allowlist: string[] | null;
  max_amount_minor: bigint;
  status: PartyStatus;
  created_at: Date;
  updated_at: Date;
}

export interface GatewayAppRow extends AppRow {
  merchant_status: PartyStatus;
  ip_allowed: boolean;
}

export async function insertMerchant(client: Queryable, merchantId: string, name: string): Promise<MerchantRow> {
  const { rows } = await client.query<MerchantRow>('insert into merchants (merchant_id, name) values ($1, $2) returning *', [merchantId, name]);
  return rows[0]!;
}

export async function findMerchant(client: Queryable, merchantId: string): Promise<MerchantRow | undefined> {
  const { rows } = await client.query<MerchantRow>('select * from merchants where merchant_id = $1', [merchantId]);
  return rows[0];
}

/** The merchants among these ids that exist (a profit-sharing split names its receivers by id). */
export async function findMerchants(client: Queryable, merchantIds: readonly string[]): Promise<MerchantRow[]> {
  const { rows } = await client.query<MerchantRow>('select * from merchants where merchant_id = any($1::text[])', [merchantIds]);
  return rows;
}

export interface MerchantSettings {
  escrowConfirmSeconds?: number | null;
  refundWindowDays?: number | null;
}

/** Sets the given settings; an absent one stays as it is, a null one goes back to the platform default. */
export async function updateMerchantSettings(client: Queryable, merchantId: string, settings: MerchantSettings): Promise<MerchantRow | undefined> {
  const { rows } = await client.query<MerchantRow>(
    `update merchants set escrow_confirm_seconds = case when $2 then $3 else escrow_confirm_seconds end,
            refund_window_days = case when $4 then $5 else refund_window_days end, updated_at = now()
     where merchant_id = $1 returning *`,
    [merchantId, settings.escrowConfirmSeconds !== undefined, settings.escrowConfirmSeconds ?? null, settings.refundWindowDays !== undefined, settings.refundWindowDays ?? null],
  );
  return rows[0];
}

export async function listMerchants(client: Queryable, limit: number, offset: number): Promise<MerchantRow[]> {
  const { rows } = await client.query<MerchantRow>('select * from merchants order by created_at, merchant_id limit $1 offset $2', [limit, offset]);
  return rows;
}

export async function countMerchants(client: Queryable): Promise<bigint> {
  const { rows } = await client.query<{ count: bigint }>('select count(*) from merchants');
  return rows[0]!.count;
}

/** Guarded status change: returns the row only when it was in `from`. */
export async function updateMerchantStatus(client: Queryable, merchantId: string, from: PartyStatus, to: PartyStatus): Promise<MerchantRow | undefined> {
  const { rows } = await client.query<MerchantRow>(
    'update merchants set status = $3, updated_at = now() where merchant_id = $1 and status = $2 returning *',
    [merchantId, from, to],
  );
  return rows[0];
}

export interface NewApp {
  appId: string;
  merchantId: string;
  name: string;
  signType: AppRow['sign_type'];
  publicKeyPem: string | null;
  secretSealed: string | null;
  notifyUrl: string | null;
  allowedMethods: string[] | null;
  ipAllowlist: string[] | null;
  maxAmountMinor: bigint;
}

export async function insertApp(client: Queryable, app: NewApp): Promise<AppRow> {
  const { rows } = await client.query<AppRow>(
    `insert into apps (app_id, merchant_id, name, sign_type, public_key_pem, secret_sealed, notify_url, allowed_methods, ip_allowlist, max_amount_minor)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::cidr[], $10) returning *`,
    [app.appId, app.merchantId, app.name, app.signType, app.publicKeyPem, app.secretSealed, app.notifyUrl, app.allowedMethods, app.ipAllowlist, app.maxAmountMinor],
  );
  return rows[0]!;
}

export async function findApp(client: Queryable, appId: string): Promise<AppRow | undefined> {
  const { rows } = await client.query<AppRow>('select * from apps where app_id = $1', [appId]);
  return rows[0];
}

/** The gateway's one lookup per request: the app, its merchant's status, and whether the caller IP is allowed. */
export async function findAppForGateway(client: Queryable, appId: string, callerIp: string): Promise<GatewayAppRow | undefined> {
  const { rows } = await client.query<GatewayAppRow>(
    `select a.*, m.status as merchant_status,
            (a.ip_allowlist is null or cardinality(a.ip_allowlist) = 0 or $2::inet <<= any(a.ip_allowlist)) as ip_allowed
     from apps a join merchants m using (merchant_id) where a.app_id = $1`,
    [appId, callerIp],
  );
  return rows[0];
}

export async function listApps(client: Queryable, merchantId: string | undefined, limit: number, offset: number): Promise<AppRow[]> {
  const { rows } = await client.query<AppRow>(
    'select * from apps where ($1::text is null or merchant_id = $1) order by created_at, app_id limit $2 offset $3',
    [merchantId ?? null, limit, offset],
  );
  return rows;
}

export async function updateAppStatus(client: Queryable, appId: string, from: PartyStatus, to: PartyStatus): Promise<AppRow | undefined> {
  const { rows } = await client.query<AppRow>(
    'update apps set status = $3, updated_at = now() where app_id = $1 and status = $2 returning *',
    [appId, from, to],
  );
  return rows[0];
}

export async function updateAppKey(client: Queryable, appId: string, signType: AppRow['sign_type'], publicKeyPem: string | null, secretSealed: string | null): Promise<AppRow | undefined> {
  const { rows } = await client.query<AppRow>(
    'update apps set sign_type = $2, public_key_pem = $3, secret_sealed = $4, updated_at = now() where app_id = $1 returning *',
    [appId, signType, publicKeyPem, secretSealed],
  );
  return rows[0];
}

export interface AppSettings {
  notifyUrl?: string | null;
  allowedMethods?: string[] | null;
  ipAllowlist?: string[] | null;
  maxAmountMinor?: bigint;
}

export async function updateAppSettings(client: Queryable, appId: string, settings: AppSettings): Promise<AppRow | undefined> {
  const { rows } = await client.query<AppRow>(
    `update apps set
       notify_url = case when $2 then $3 else notify_url end,
       allowed_methods = case when $4 then $5::text[] else allowed_methods end,
       ip_allowlist = case when $6 then $7::cidr[] else ip_allowlist end,
       max_amount_minor = coalesce($8, max_amount_minor),
       updated_at = now()
     where app_id = $1 returning *`,
    [
      appId,
      settings.notifyUrl !== undefined, settings.notifyUrl ?? null,
      settings.allowedMethods !== undefined, settings.allowedMethods ?? null,
      settings.ipAllowlist !== undefined, settings.ipAllowlist ?? null,
      settings.maxAmountMinor ?? null,
    ],
  );
  return rows[0];
}

export interface PlatformKeyRow {
  key_id: number;
  public_key_pem: string;
  private_key_sealed: string;
}

export async function findActivePlatformKey(client: Queryable): Promise<PlatformKeyRow | undefined> {
  const { rows } = await client.query<PlatformKeyRow>('select key_id, public_key_pem, private_key_sealed from platform_keys where active');
  return rows[0];
}

export async function insertPlatformKey(client: Queryable, publicKeyPem: string, privateKeySealed: string): Promise<void> {
  await client.query(
    `insert into platform_keys (sign_type, public_key_pem, private_key_sealed) values ('RSA2', $1, $2)
     on conflict do nothing`,
    [publicKeyPem, privateKeySealed],
  );
}
