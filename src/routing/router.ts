/**
 * The router (支付路由) at work: turns what the operator stored (channel_routes, the weights) and what this
 * process sees of each channel (capabilities, breaker, health) into candidates for rank.ts, for one payment of
 * one merchant's app. Used when a pay names no channel, to check a channel a caller named, and by
 * tongbao.trade.channels.query.
 */
import { now } from '../clock.js';
import type { GuardedChannel } from '../channels/guard.js';
import type { Context } from '../context.js';
import type { Queryable } from '../db/pool.js';
import { startOfDay } from '../shared/time.js';
import { channelFee, defaultRoutingWeights, rankChannels, type ChannelRouteSettings, type RankedChannel, type RouteCandidate, type RouteRequest } from './rank.js';
import * as repository from './repository.js';
import type { ChannelRouteRow } from './repository.js';

export interface RouteScope {
  readonly merchantId: string;
  readonly appId: string;
}

/** The settings that apply to one channel for one app, and where they come from. */
export interface EffectiveRoute extends ChannelRouteSettings {
  /** null: every product the channel has. */
  readonly products: readonly string[] | null;
  readonly source: 'app' | 'merchant' | 'platform' | 'default';
  /** What a daily limit counts over: the app for an app's row, otherwise the merchant. */
  readonly limitAppId: string | null;
}

const defaults = { enabled: true, products: null, feeRateBasisPoints: 0, feeFixedMinor: 0n, singleLimitMinor: null, dailyLimitMinor: null, weight: 50 } as const;

/** The most specific row for this channel wins: the app's, then the merchant's, then the platform's. */
export function effectiveRoute(rows: readonly ChannelRouteRow[], channel: string, scope: RouteScope): EffectiveRoute {
  const mine = rows.filter((row) => row.channel === channel);
  const app = mine.find((row) => row.app_id === scope.appId);
  const merchant = mine.find((row) => row.app_id === null && row.merchant_id === scope.merchantId);
  const platform = mine.find((row) => row.app_id === null && row.merchant_id === null);
  const row = app ?? merchant ?? platform;
  if (!row) return { ...defaults, source: 'default', limitAppId: null };
  return {
    enabled: row.enabled,
    products: row.products,
    feeRateBasisPoints: row.fee_rate_basis_points,
    feeFixedMinor: row.fee_fixed_minor,
    singleLimitMinor: row.single_limit_minor,
    dailyLimitMinor: row.daily_limit_minor,
    weight: row.weight,
    source: app ? 'app' : merchant ? 'merchant' : 'platform',
    limitAppId: app ? scope.appId : null,
  };
}

/** The key the daily limit of this channel, scope and currency is counted and serialized under. */
function dailyLimitScope(zone: string, channel: string, currency: string, scope: RouteScope, route: EffectiveRoute) {
  return { channel, currency, merchantId: scope.merchantId, appId: route.limitAppId, since: startOfDay(now(), zone) };
}

/**
 * The hard check of a daily limit, inside the transaction that writes the attempt: the count is serialized per
 * channel, scope and currency, so parallel payments cannot together pass a limit each fits under alone.
 * Returns the amount already used today, or null when there is no daily limit.
 */
export async function reserveDailyLimit(context: Context, client: Queryable, channel: string, currency: string, scope: RouteScope, route: EffectiveRoute): Promise<bigint | null> {
  if (route.dailyLimitMinor === null) return null;
  const limitScope = dailyLimitScope(context.config.TONGBAO_TIMEZONE, channel, currency, scope, route);
  await repository.lockDailyLimit(client, `${channel}|${currency}|${scope.merchantId}|${route.limitAppId ?? ''}`);
  return repository.amountSince(client, limitScope);
}

export interface RoutedChannel {
  readonly channel: GuardedChannel;
  readonly route: EffectiveRoute;
  readonly feeMinor: bigint;
}

export interface RoutePlan {
  /** Every channel this merchant may use, best first, with the reasons for its place. */
  readonly ranked: readonly RankedChannel[];
  /** The eligible ones, in order: the first is tried first, the next ones on a failover. */
  readonly choices: readonly RoutedChannel[];
}

async function candidateFor(context: Context, channel: GuardedChannel, route: EffectiveRoute, request: RouteRequest, scope: RouteScope): Promise<RouteCandidate> {
  const own = context.channels.info(channel.name)?.merchantId ?? null;
  const capabilities = {
    ...channel.capabilities,
    products: route.products === null ? channel.capabilities.products : channel.capabilities.products.filter((product) => route.products!.includes(product)),
    // A merchant's own account collects straight to the merchant: the platform cannot hold that money.
    escrow: channel.capabilities.escrow && own === null,
  };
  const usedTodayMinor = route.dailyLimitMinor === null
    ? 0n
    : await repository.amountSince(context.pool, dailyLimitScope(context.config.TONGBAO_TIMEZONE, channel.name, request.currency, scope, route));
  return { channel: channel.name, capabilities, available: channel.available(), health: channel.health(), settings: route, usedTodayMinor };
}

/**
 * Ranks the channels this merchant may use for the payment; with `only`, just that one (a caller named it).
 * The routes and weights are read at every call, so an operator's change applies to the next payment.
 */
export async function planRoute(context: Context, scope: RouteScope, request: RouteRequest, only?: string): Promise<RoutePlan> {
  // One named channel is checked, not ranked against others: its score does not matter, so the weights are not read.
  const [rows, weights] = await Promise.all([
    repository.routesForApp(context.pool, scope.merchantId, scope.appId),
    only === undefined ? repository.readWeights(context.pool) : defaultRoutingWeights,
  ]);
  const names = only === undefined ? context.channels.names() : [only];
  const channels = names.map((name) => context.channels.usableBy(name, scope.merchantId)).filter((channel): channel is GuardedChannel => channel !== undefined);
  const routes = new Map(channels.map((channel) => [channel.name, effectiveRoute(rows, channel.name, scope)]));
  const candidates = await Promise.all(channels.map((channel) => candidateFor(context, channel, routes.get(channel.name)!, request, scope)));
  const ranked = rankChannels(request, candidates, weights);
  const byName = new Map(channels.map((channel) => [channel.name, channel]));
  const choices = ranked.filter((row) => row.eligible).map((row) => ({
    channel: byName.get(row.channel)!, route: routes.get(row.channel)!, feeMinor: channelFee(request.amountMinor, routes.get(row.channel)!),
  }));
  return { ranked, choices };
}
