/**
 * The router's ranking (支付路由), as a pure function: given a payment and the channels that could take it,
 * it filters out those that cannot serve it (capability, currency, product, escrow and pre-authorization
 * support, limits, availability) and scores the rest on the seeds' factors — fee cost, recent success rate,
 * latency, the operator's weight and the payer's own preference — with weights that are data. Every
 * candidate carries the reasons for its place, so the answer explains itself.
 */
import type { HealthFigures } from '../channels/health.js';
import type { ChannelCapabilities } from '../channels/types.js';

export interface RouteRequest {
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly product?: string;
  readonly tradeType: 'INSTANT' | 'ESCROW';
  readonly needsPreauth: boolean;
  /** The channel the payer chose or used successfully before, if any. */
  readonly preferredChannel?: string;
}

/** How the operator set a channel up for this route (fees, limits, weight); absent parts do not restrict. */
export interface ChannelRouteSettings {
  /** false: the operator switched the channel off for this merchant or app. */
  readonly enabled: boolean;
  readonly feeRateBasisPoints: number;
  readonly feeFixedMinor: bigint;
  readonly singleLimitMinor: bigint | null;
  readonly dailyLimitMinor: bigint | null;
  /** 0 to 100: the operator's preference among equals. */
  readonly weight: number;
}

export interface RouteCandidate {
  readonly channel: string;
  readonly capabilities: ChannelCapabilities;
  /** Whether the breaker would let a call through. */
  readonly available: boolean;
  readonly health: HealthFigures;
  readonly settings: ChannelRouteSettings;
  /** What went through this channel today for the same scope, against dailyLimitMinor. */
  readonly usedTodayMinor: bigint;
}

/** The scored factors' weights; each factor is scaled to 0–1 before weighting. */
export interface RoutingWeights {
  readonly fee: number;
  readonly successRate: number;
  readonly latency: number;
  readonly weight: number;
  readonly preference: number;
}

export const defaultRoutingWeights: RoutingWeights = { fee: 30, successRate: 30, latency: 15, weight: 15, preference: 10 };

/** Why a channel cannot serve a payment, as the error a caller naming that channel gets. */
export type RefusalKind = 'NOT_SUPPORTED' | 'LIMIT' | 'UNAVAILABLE';

export interface RankedChannel {
  readonly channel: string;
  readonly eligible: boolean;
  /** The kinds of the reasons an ineligible channel was refused for; empty when eligible. */
  readonly refusals: readonly RefusalKind[];
  /** Why it cannot serve this payment (ineligible), or what its score is made of (eligible). */
  readonly reasons: readonly string[];
  readonly score: number;
  readonly feeMinor: bigint;
}

/** The fee the channel charges for this amount: the rate (rounded up, in the channel's favour) plus the fixed part. */
export function channelFee(amountMinor: bigint, settings: ChannelRouteSettings): bigint {
  const rated = (amountMinor * BigInt(settings.feeRateBasisPoints) + 9_999n) / 10_000n;
  return rated + settings.feeFixedMinor;
}

interface Refusal {
  readonly kind: RefusalKind;
  readonly reason: string;
}

function refusal(request: RouteRequest, candidate: RouteCandidate): Refusal[] {
  const { capabilities, settings } = candidate;
  const refusals: Refusal[] = [];
  const notSupported = (reason: string) => refusals.push({ kind: 'NOT_SUPPORTED', reason });
  if (!settings.enabled) notSupported('switched off for this merchant or app');
  if (!capabilities.currencies.includes(request.currency)) notSupported(`does not take ${request.currency}`);
  if (request.product !== undefined && !capabilities.products.includes(request.product)) notSupported(`has no product ${request.product}`);
  if (request.tradeType === 'ESCROW' && !capabilities.escrow) notSupported('cannot hold escrow (its money does not reach the platform)');
  if (request.needsPreauth && !capabilities.preauth) notSupported('has no pre-authorization');
  if (capabilities.maxAmountMinor !== null && request.amountMinor > capabilities.maxAmountMinor) notSupported(`takes at most ${capabilities.maxAmountMinor} minor units`);
  if (settings.singleLimitMinor !== null && request.amountMinor > settings.singleLimitMinor) {
    refusals.push({ kind: 'LIMIT', reason: `single limit ${settings.singleLimitMinor}` });
  }
  if (settings.dailyLimitMinor !== null && candidate.usedTodayMinor + request.amountMinor > settings.dailyLimitMinor) {
    refusals.push({ kind: 'LIMIT', reason: `daily limit ${settings.dailyLimitMinor} (${candidate.usedTodayMinor} used)` });
  }
  if (!candidate.available) refusals.push({ kind: 'UNAVAILABLE', reason: 'out of service (circuit breaker open or isolated)' });
  return refusals;
}

/** Ranks the candidates: eligible ones by score, best first, then the others with their reasons. */
export function rankChannels(request: RouteRequest, candidates: readonly RouteCandidate[], weights: RoutingWeights = defaultRoutingWeights): RankedChannel[] {
  const fees = new Map(candidates.map((candidate) => [candidate.channel, channelFee(request.amountMinor, candidate.settings)]));
  const eligible = candidates.filter((candidate) => refusal(request, candidate).length === 0);
  const cheapest = eligible.reduce<bigint | null>((low, candidate) => (low === null || fees.get(candidate.channel)! < low ? fees.get(candidate.channel)! : low), null);
  const dearest = eligible.reduce<bigint | null>((high, candidate) => (high === null || fees.get(candidate.channel)! > high ? fees.get(candidate.channel)! : high), null);
  const latencies = eligible.map((candidate) => candidate.health.p50Ms).filter((value): value is number => value !== null);
  const slowest = latencies.length > 0 ? Math.max(...latencies) : 0;

  const ranked = candidates.map((candidate): RankedChannel => {
    const feeMinor = fees.get(candidate.channel)!;
    const refused = refusal(request, candidate);
    if (refused.length > 0) {
      return { channel: candidate.channel, eligible: false, refusals: refused.map((item) => item.kind), reasons: refused.map((item) => item.reason), score: 0, feeMinor };
    }
    // Each factor in 0–1, 1 being best. A channel without recent calls counts as healthy and as fast as the slowest.
    // Fee: how much dearer than the cheapest eligible channel, relative to it (twice the price scores 0).
    const scale = cheapest! > 0n ? cheapest! : dearest!;
    const fee = scale === 0n ? 1 : Math.max(0, 1 - Number(feeMinor - cheapest!) / Number(scale));
    const success = candidate.health.successRate;
    const latency = slowest === 0 || candidate.health.p50Ms === null ? 1 : 1 - candidate.health.p50Ms / slowest / 2;
    const weight = Math.max(0, Math.min(100, candidate.settings.weight)) / 100;
    const preference = request.preferredChannel === candidate.channel ? 1 : 0;
    const parts = {
      fee: fee * weights.fee, success: success * weights.successRate, latency: latency * weights.latency,
      weight: weight * weights.weight, preference: preference * weights.preference,
    };
    const score = Object.values(parts).reduce((sum, part) => sum + part, 0);
    const reasons = [
      `fee ${feeMinor} minor units (${parts.fee.toFixed(1)})`,
      `success rate ${(success * 100).toFixed(0)}% over ${candidate.health.calls} recent calls (${parts.success.toFixed(1)})`,
      `p50 latency ${candidate.health.p50Ms === null ? 'unknown' : `${candidate.health.p50Ms.toFixed(0)} ms`} (${parts.latency.toFixed(1)})`,
      `operator weight ${candidate.settings.weight} (${parts.weight.toFixed(1)})`,
      ...(preference ? [`the payer's preferred channel (${parts.preference.toFixed(1)})`] : []),
    ];
    return { channel: candidate.channel, eligible: true, refusals: [], reasons, score: Math.round(score * 10) / 10, feeMinor };
  });
  return ranked.sort((a, b) => Number(b.eligible) - Number(a.eligible) || b.score - a.score || a.channel.localeCompare(b.channel));
}
