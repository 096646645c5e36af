import { describe, expect, it } from 'vitest';
import type { HealthFigures } from '../channels/health.js';
import type { ChannelCapabilities } from '../channels/types.js';
import { channelFee, rankChannels, type RouteCandidate, type RouteRequest } from './rank.js';

const capabilities: ChannelCapabilities & { escrow: boolean } = {
  products: ['CARD'], currencies: ['CNY', 'USD'], resultMode: 'sync', refund: true, partialRefund: true, close: true, cancel: false,
  preauth: false, payout: false, statement: true, maxAmountMinor: null, escrow: true,
};
const healthy: HealthFigures = { calls: 100, availability: 1, successRate: 0.95, p50Ms: 50, p99Ms: 200 };
const settings = { enabled: true, feeRateBasisPoints: 60, feeFixedMinor: 0n, singleLimitMinor: null, dailyLimitMinor: null, weight: 50 };

function candidate(channel: string, overrides: Partial<RouteCandidate> = {}): RouteCandidate {
  return { channel, capabilities, available: true, health: healthy, settings, usedTodayMinor: 0n, ...overrides };
}
const request: RouteRequest = { amountMinor: 10_000n, currency: 'CNY', tradeType: 'INSTANT', needsPreauth: false };

describe('channel ranking', () => {
  it('rounds fees up in the channel\'s favour and adds the fixed part', () => {
    expect(channelFee(10_000n, { ...settings, feeRateBasisPoints: 60 })).toBe(60n);
    expect(channelFee(10_001n, { ...settings, feeRateBasisPoints: 60 })).toBe(61n);
    expect(channelFee(10_000n, { ...settings, feeRateBasisPoints: 0, feeFixedMinor: 30n })).toBe(30n);
  });

  it('prefers the cheaper channel when everything else is equal, and says why', () => {
    const ranked = rankChannels(request, [candidate('dear', { settings: { ...settings, feeRateBasisPoints: 100 } }), candidate('cheap')]);
    expect(ranked.map((row) => row.channel)).toEqual(['cheap', 'dear']);
    expect(ranked[0]!.score).toBeGreaterThan(ranked[1]!.score);
    expect(ranked[0]!.reasons[0]).toMatch(/^fee 60 minor units/);
  });

  it('lets a much better success rate and latency outweigh a small fee difference', () => {
    const flaky: HealthFigures = { calls: 100, availability: 0.6, successRate: 0.4, p50Ms: 900, p99Ms: 5000 };
    const ranked = rankChannels(request, [candidate('cheap-flaky', { health: flaky }), candidate('solid', { settings: { ...settings, feeRateBasisPoints: 70 } })]);
    expect(ranked[0]!.channel).toBe('solid');
  });

  it('never offers a channel that cannot serve the payment, and lists why', () => {
    const ranked = rankChannels({ ...request, tradeType: 'ESCROW', needsPreauth: true, product: 'CARD', currency: 'USD', amountMinor: 50_000n }, [
      candidate('gateway-only', { capabilities: { ...capabilities, escrow: false, preauth: true } }),
      candidate('no-preauth'),
      candidate('down', { available: false, capabilities: { ...capabilities, preauth: true } }),
      candidate('limited', { capabilities: { ...capabilities, preauth: true }, settings: { ...settings, singleLimitMinor: 40_000n } }),
      candidate('spent', { capabilities: { ...capabilities, preauth: true }, settings: { ...settings, dailyLimitMinor: 100_000n }, usedTodayMinor: 60_000n }),
      candidate('yuan-only', { capabilities: { ...capabilities, preauth: true, currencies: ['CNY'] } }),
      candidate('switched-off', { capabilities: { ...capabilities, preauth: true }, settings: { ...settings, enabled: false } }),
      candidate('fits', { capabilities: { ...capabilities, preauth: true } }),
    ]);
    expect(ranked[0]).toMatchObject({ channel: 'fits', eligible: true });
    const why = Object.fromEntries(ranked.slice(1).map((row) => [row.channel, row.reasons.join('; ')]));
    expect(ranked.slice(1).every((row) => !row.eligible && row.score === 0)).toBe(true);
    expect(why['gateway-only']).toMatch(/escrow/);
    expect(why['no-preauth']).toMatch(/pre-authorization/);
    expect(why.down).toMatch(/out of service/);
    expect(why.limited).toMatch(/single limit/);
    expect(why.spent).toMatch(/daily limit/);
    expect(why['yuan-only']).toMatch(/does not take USD/);
    expect(why['switched-off']).toMatch(/switched off/);
    const kinds = Object.fromEntries(ranked.map((row) => [row.channel, row.refusals]));
    expect(kinds).toMatchObject({ fits: [], down: ['UNAVAILABLE'], limited: ['LIMIT'], spent: ['LIMIT'], 'yuan-only': ['NOT_SUPPORTED'], 'gateway-only': ['NOT_SUPPORTED'] });
  });

  it('uses the payer\'s preference and the operator\'s weight to break ties', () => {
    expect(rankChannels({ ...request, preferredChannel: 'b' }, [candidate('a'), candidate('b')])[0]!.channel).toBe('b');
    expect(rankChannels(request, [candidate('a'), candidate('b', { settings: { ...settings, weight: 90 } })])[0]!.channel).toBe('b');
    expect(rankChannels(request, [candidate('b'), candidate('a')]).map((row) => row.channel)).toEqual(['a', 'b']);
  });
});
