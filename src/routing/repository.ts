import type { Queryable } from '../db/pool.js';
import { defaultRoutingWeights, type RoutingWeights } from './rank.js';

export interface ChannelRouteRow {
  route_id: bigint;
  channel: string;
  merchant_id: string | null;
  app_id: string | null;
  enabled: boolean;
  products: string[] | null;
  fee_rate_basis_points: number;
  fee_fixed_minor: bigint;
  single_limit_minor: bigint | null;
  daily_limit_minor: bigint | null;
  weight: number;
  updated_at: Date;
}

/** A route row's settings for one scope, as an operator gives them. */
export type ChannelRouteInput = Omit<ChannelRouteRow, 'route_id' | 'updated_at'>;

export async function listRoutes(client: Queryable, filter: { channel?: string | undefined; merchantId?: string | undefined }): Promise<ChannelRouteRow[]> {
  const { rows } = await client.query<ChannelRouteRow>(
    `select * from channel_routes
     where ($1::text is null or channel = $1) and ($2::text is null or merchant_id = $2)
     order by channel, merchant_id nulls first, app_id nulls first`,
    [filter.channel ?? null, filter.merchantId ?? null],
  );
  return rows;
}

/** The rows that can apply to one app: the platform's, its merchant's and its own. */
export async function routesForApp(client: Queryable, merchantId: string, appId: string): Promise<ChannelRouteRow[]> {
  const { rows } = await client.query<ChannelRouteRow>(
    `select * from channel_routes
     where (merchant_id is null and app_id is null) or (merchant_id = $1 and app_id is null) or app_id = $2`,
    [merchantId, appId],
  );
  return rows;
}

/** Creates the row of this scope or replaces its settings. */
export async function upsertRoute(client: Queryable, input: ChannelRouteInput): Promise<ChannelRouteRow> {
  const { rows } = await client.query<ChannelRouteRow>(
    `insert into channel_routes (channel, merchant_id, app_id, enabled, products, fee_rate_basis_points, fee_fixed_minor, single_limit_minor, daily_limit_minor, weight)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (channel, coalesce(merchant_id, ''), coalesce(app_id, '')) do update set
       enabled = excluded.enabled, products = excluded.products, fee_rate_basis_points = excluded.fee_rate_basis_points,
       fee_fixed_minor = excluded.fee_fixed_minor, single_limit_minor = excluded.single_limit_minor,
       daily_limit_minor = excluded.daily_limit_minor, weight = excluded.weight, updated_at = now()
     returning *`,
    [input.channel, input.merchant_id, input.app_id, input.enabled, input.products, input.fee_rate_basis_points,
      input.fee_fixed_minor, input.single_limit_minor, input.daily_limit_minor, input.weight],
  );
  return rows[0]!;
}

export async function deleteRoute(client: Queryable, routeId: bigint): Promise<boolean> {
  const { rowCount } = await client.query('delete from channel_routes where route_id = $1', [routeId]);
  return rowCount === 1;
}

/**
 * What a merchant's (or one app's) payments through a channel amount to since `since`, in one currency: the
 * attempts that succeeded or may still succeed, as a daily limit counts them.
 */
export async function amountSince(client: Queryable, scope: { channel: string; currency: string; merchantId: string; appId: string | null; since: Date }): Promise<bigint> {
  const { rows } = await client.query<{ total: bigint }>(
    `select coalesce(sum(a.amount_minor), 0)::bigint as total
     from pay_attempts a join trades t on t.trade_no = a.trade_no
     where a.channel = $1 and a.currency = $2 and a.created_at >= $3 and a.status <> 'FAILED'
       and t.merchant_id = $4 and ($5::text is null or t.app_id = $5)`,
    [scope.channel, scope.currency, scope.since, scope.merchantId, scope.appId],
  );
  return rows[0]!.total;
}

/**
 * Serializes the attempts that count against one daily limit until the end of the caller's transaction, so
 * two payments cannot both see room for one. Only taken when a daily limit is set.
 */
export async function lockDailyLimit(client: Queryable, key: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`channel-daily-limit:${key}`]);
}

const weightsKey = 'routing.weights';

export async function readWeights(client: Queryable): Promise<RoutingWeights> {
  const { rows } = await client.query<{ value: string }>('select value from settings where key = $1', [weightsKey]);
  return rows[0] ? { ...defaultRoutingWeights, ...(JSON.parse(rows[0].value) as Partial<RoutingWeights>) } : defaultRoutingWeights;
}

export async function writeWeights(client: Queryable, weights: RoutingWeights): Promise<void> {
  await client.query(
    `insert into settings (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [weightsKey, JSON.stringify(weights)],
  );
}
