import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { guardChannel, type GuardSettings } from './guard.js';
import { queryOf } from '../../test/helpers/channel-requests.js';
import { ChannelMetrics } from './metrics.js';
import type { ChannelAdapter, ChannelPayRequest, ChannelPayResult } from './types.js';

type Behaviour = 'succeed' | 'decline' | 'unknown' | 'hang' | 'throw';

/** An adapter whose every call behaves as told; counts the calls that reached it. */
function fakeAdapter(name: string) {
  const state = { behaviour: 'succeed' as Behaviour, reached: 0, release: [] as Array<() => void> };
  const answer = async (): Promise<ChannelPayResult> => {
    state.reached++;
    switch (state.behaviour) {
      case 'succeed': return { status: 'SUCCEEDED', channelTradeNo: 'C1', amountMinor: 100n, currency: 'CNY', paidAt: new Date() };
      case 'decline': return { status: 'FAILED', code: 'CARD_DECLINED', message: 'no' };
      case 'unknown': return { status: 'UNKNOWN', reason: 'timeout' };
      case 'throw': throw new Error('adapter bug');
      case 'hang': return new Promise((resolve) => state.release.push(() => resolve({ status: 'UNKNOWN', reason: 'timeout' })));
    }
  };
  const adapter: ChannelAdapter = {
    name,
    capabilities: { products: ['X'], currencies: ['CNY'], resultMode: 'sync', refund: true, partialRefund: true, close: true, cancel: false, preauth: false, payout: false, statement: false, escrow: false, maxAmountMinor: null },
    pay: answer, query: answer,
    refund: async () => ({ status: 'UNKNOWN', reason: 'n/a' }), queryRefund: async () => ({ status: 'NOT_FOUND' }),
    close: async () => ({ status: 'CLOSED' }),
    verifyNotification: () => ({ ok: false, reason: 'n/a' }), acknowledge: () => ({ statusCode: 200, contentType: 'text/plain', body: 'ok' }),
    downloadStatement: async () => '',
  };
  return { adapter, state };
}

const settings: GuardSettings = { maxConcurrent: 2, maxQueued: 1, breakerFailures: 3, halfOpenAfterMs: 200, healthWindowMs: 60_000 };
const request = { attemptNo: 'A1', tradeNo: 'T1', amountMinor: 100n, currency: 'CNY', subject: 's', expiresAt: new Date(), notifyUrl: 'http://x' } satisfies ChannelPayRequest;
const log = createLogger('silent');

describe('guarded channel', () => {
  it('opens after consecutive unusable answers, refuses pay as not charged, and closes after a good call once half-open', async () => {
    const { adapter, state } = fakeAdapter('flaky');
    const channel = guardChannel(adapter, settings, new ChannelMetrics(), log);
    state.behaviour = 'decline';
    for (let i = 0; i < 5; i++) expect((await channel.pay(request)).status).toBe('FAILED');
    expect(channel.health().state).toBe('closed'); // declines are answers: the channel is up
    state.behaviour = 'unknown';
    for (let i = 0; i < 3; i++) expect((await channel.pay(request)).status).toBe('UNKNOWN');
    expect(channel.health().state).toBe('open');
    expect(channel.available()).toBe(false);
    const reached = state.reached;
    expect(await channel.pay(request)).toMatchObject({ status: 'FAILED', code: 'CHANNEL_UNAVAILABLE' });
    expect(await channel.query(queryOf(request))).toMatchObject({ status: 'UNKNOWN' });
    expect(state.reached).toBe(reached);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(channel.available()).toBe(true); // a call would now be let through to test the channel
    state.behaviour = 'succeed';
    expect((await channel.pay(request)).status).toBe('SUCCEEDED');
    expect(channel.health().state).toBe('closed');
    expect(channel.health()).toMatchObject({ calls: 9 });
  });

  it('counts a thrown adapter error as a failure and still throws it', async () => {
    const { adapter, state } = fakeAdapter('buggy');
    const channel = guardChannel(adapter, settings, new ChannelMetrics(), log);
    state.behaviour = 'throw';
    for (let i = 0; i < 3; i++) await expect(channel.pay(request)).rejects.toThrow('adapter bug');
    expect(channel.health().state).toBe('open');
  });

  it('caps calls in flight: past the slots and the queue a call is refused at once, and other channels are untouched', async () => {
    const slow = fakeAdapter('slow');
    const fast = fakeAdapter('fast');
    const metrics = new ChannelMetrics();
    const slowChannel = guardChannel(slow.adapter, settings, metrics, log);
    const fastChannel = guardChannel(fast.adapter, settings, metrics, log);
    slow.state.behaviour = 'hang';
    const hanging = [slowChannel.pay(request), slowChannel.pay(request), slowChannel.pay(request)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(slowChannel.health()).toMatchObject({ inFlight: 2, queued: 1 });
    expect(await slowChannel.pay(request)).toMatchObject({ status: 'FAILED', code: 'CHANNEL_UNAVAILABLE', message: expect.stringMatching(/busy/) });
    expect((await fastChannel.pay(request)).status).toBe('SUCCEEDED');
    for (const release of slow.state.release.splice(0)) release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const release of slow.state.release.splice(0)) release();
    expect((await Promise.all(hanging)).map((result) => result.status)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tongbao_channel_refused_total\{channel="slow",operation="pay",by="bulkhead"\} 1/);
    expect(text).toMatch(/tongbao_channel_calls_total\{channel="fast",operation="pay",outcome="ok"\} 1/);
  });

  it('stays refused while an operator isolates it', async () => {
    const { adapter } = fakeAdapter('isolated');
    const channel = guardChannel(adapter, settings, new ChannelMetrics(), log);
    channel.isolate();
    expect(channel.health().state).toBe('isolated');
    expect((await channel.pay(request)).status).toBe('FAILED');
    channel.release();
    expect((await channel.pay(request)).status).toBe('SUCCEEDED');
  });
});
