/**
 * Per-channel isolation (the seeds' 接口管理): one slow channel must not stall payments through the others.
 * Every adapter is wrapped in its own bulkhead (a cap on calls in flight, with a short queue) and its own
 * circuit breaker (cockatiel), and its calls are measured into a health window and Prometheus metrics.
 * Each adapter also keeps its own HTTP connection pool and hard timeout, so it cannot exhaust a shared one.
 *
 * What a refused call answers is chosen so that nothing is assumed: a pay refused before it reached the
 * channel is FAILED (nothing was charged, so the payment may fail over to another channel); every other
 * refused call is UNKNOWN, so the compensation queries simply try again later.
 *
 * Breaker state and health are per process: each Tongbao process learns a channel's health from its own calls.
 */
import { BrokenCircuitError, BulkheadRejectedError, bulkhead, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, wrap } from 'cockatiel';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import { HealthWindow, type CallOutcome, type HealthFigures } from './health.js';
import type { ChannelMetrics } from './metrics.js';
import type { ChannelAdapter, ChannelAgreements, ChannelPayouts, ChannelPreauth } from './types.js';

export interface GuardSettings {
  /** Calls in flight at once to this channel; more wait in the queue. */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot; past it, calls are refused at once. */
  readonly maxQueued: number;
  /** Consecutive calls without a usable answer that open the breaker. */
  readonly breakerFailures: number;
  /** How long an open breaker refuses calls before letting one through to test the channel. */
  readonly halfOpenAfterMs: number;
  /** The span the health figures cover. */
  readonly healthWindowMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface ChannelHealthReport extends HealthFigures {
  readonly channel: string;
  readonly state: BreakerState;
  readonly inFlight: number;
  readonly queued: number;
}

export type GuardedChannel = ChannelAdapter & {
  health(): ChannelHealthReport;
  /** Whether the breaker would let a call through now (closed, half-open, or open long enough to try one). */
  available(): boolean;
  /** Operators take the channel out of service (calls refused as when the breaker is open) until released. */
  isolate(): void;
  release(): void;
  dispose?: () => Promise<void>;
};

const stateNames: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** A result without a usable answer: what trips the breaker. Declines do not: the channel answered. */
function outcomeOf(result: unknown): CallOutcome {
  const status = typeof result === 'object' && result !== null && 'status' in result ? (result as { status: string }).status : null;
  if (status === 'UNKNOWN') return 'error';
  if (status === 'FAILED') return 'declined';
  return 'ok';
}

export function guardChannel(adapter: ChannelAdapter & { dispose?: () => Promise<void> }, settings: GuardSettings, metrics: ChannelMetrics, log: Logger): GuardedChannel {
  const name = adapter.name;
  const limiter = bulkhead(settings.maxConcurrent, settings.maxQueued);
  const breaker = circuitBreaker(
    handleWhen((error) => !(error instanceof BulkheadRejectedError)).orWhenResult((result) => outcomeOf(result) === 'error'),
    { halfOpenAfter: settings.halfOpenAfterMs, breaker: new ConsecutiveBreaker(settings.breakerFailures) },
  );
  // The breaker outside the bulkhead: an open breaker refuses without taking a slot, and a full bulkhead
  // (busy, not broken) does not count against the channel.
  const policy = wrap(breaker, limiter);
  const window = new HealthWindow(settings.healthWindowMs);
  // cockatiel moves an open breaker to half-open lazily, on the next call; routing must know that a call
  // would now be let through, so the time it opened is kept.
  let openedAtMs = 0;
  breaker.onBreak(() => { openedAtMs = performance.now(); });
  breaker.onStateChange((state) => {
    metrics.breakerState(name, state);
    const level = state === CircuitState.Closed ? 'info' : 'warn';
    log[level]({ channel: name, state: stateNames[state] }, 'channel circuit breaker changed state');
  });
  metrics.breakerState(name, CircuitState.Closed);

  async function run<T>(operation: string, call: () => Promise<T>, refused: (reason: string) => T): Promise<T> {
    const started = performance.now();
    const observe = (outcome: CallOutcome) => {
      const latencyMs = performance.now() - started;
      window.record(outcome, latencyMs);
      metrics.call(name, operation, outcome, latencyMs);
    };
    try {
      const result = await policy.execute(call);
      observe(outcomeOf(result));
      return result;
    } catch (error) {
      // A refusal never reached the channel: counted apart, not as the channel's latency.
      if (error instanceof BrokenCircuitError) {
        metrics.refused(name, operation, 'breaker');
        return refused(`channel ${name} is unavailable (circuit breaker ${stateNames[breaker.state]})`);
      }
      if (error instanceof BulkheadRejectedError) {
        metrics.refused(name, operation, 'bulkhead');
        return refused(`channel ${name} is busy (${settings.maxConcurrent} calls in flight, ${settings.maxQueued} waiting)`);
      }
      observe('error');
      throw error;
    }
  }

  const unknown = (reason: string) => ({ status: 'UNKNOWN', reason }) as const;
  const notSent = (code: string) => (reason: string) => ({ status: 'FAILED', code, message: reason }) as const;

  const preauth: ChannelPreauth | undefined = adapter.preauth && {
    freeze: (request) => run('preauth.freeze', () => adapter.preauth!.freeze(request), notSent('CHANNEL_UNAVAILABLE')),
    unfreeze: (request) => run('preauth.unfreeze', () => adapter.preauth!.unfreeze(request), unknown),
    complete: (request) => run('preauth.complete', () => adapter.preauth!.complete(request), unknown),
    completeCancel: (request) => run('preauth.complete_cancel', () => adapter.preauth!.completeCancel(request), unknown),
    query: (operationNo) => run('preauth.query', () => adapter.preauth!.query(operationNo), unknown),
  };
  const payouts: ChannelPayouts | undefined = adapter.payouts && {
    payout: (request) => run('payout', () => adapter.payouts!.payout(request), notSent('CHANNEL_UNAVAILABLE')),
    query: (payoutNo) => run('payout.query', () => adapter.payouts!.query(payoutNo), unknown),
  };
  // A sign refused here never reached the bank, so it failed cleanly; the other steps are asked again.
  const agreements: ChannelAgreements | undefined = adapter.agreements && {
    sign: (request) => run('agreement.sign', () => adapter.agreements!.sign(request), notSent('CHANNEL_UNAVAILABLE')),
    confirm: (request) => run('agreement.confirm', () => adapter.agreements!.confirm(request), unknown),
    terminate: (request) => run('agreement.terminate', () => adapter.agreements!.terminate(request), unknown),
    query: (agreementNo) => run('agreement.query', () => adapter.agreements!.query(agreementNo), unknown),
  };
  const cancel = adapter.cancel?.bind(adapter);
  let isolation: { dispose(): void } | null = null;

  return {
    name,
    capabilities: adapter.capabilities,
    pay: (request) => run('pay', () => adapter.pay(request), notSent('CHANNEL_UNAVAILABLE')),
    query: (request) => run('query', () => adapter.query(request), unknown),
    refund: (request) => run('refund', () => adapter.refund(request), unknown),
    queryRefund: (request) => run('refund.query', () => adapter.queryRefund(request), unknown),
    close: (attemptNo) => run('close', () => adapter.close(attemptNo), unknown),
    ...(cancel ? { cancel: (request: Parameters<typeof cancel>[0]) => run('cancel', () => cancel(request), unknown) } : {}),
    ...(preauth ? { preauth } : {}),
    ...(payouts ? { payouts } : {}),
    ...(agreements ? { agreements } : {}),
    verifyNotification: (request) => adapter.verifyNotification(request),
    acknowledge: (accepted) => adapter.acknowledge(accepted),
    downloadStatement: (date) => run('statement', () => adapter.downloadStatement(date), (reason) => { throw new Error(reason); }),
    health: () => ({
      channel: name,
      state: stateNames[breaker.state],
      inFlight: settings.maxConcurrent - limiter.executionSlots,
      queued: settings.maxQueued - limiter.queueSlots,
      ...window.figures(),
    }),
    available: () => {
      const state = breaker.state;
      if (state === CircuitState.Open) return performance.now() - openedAtMs >= settings.halfOpenAfterMs;
      return state === CircuitState.Closed || state === CircuitState.HalfOpen;
    },
    isolate: () => { isolation ??= breaker.isolate(); },
    release: () => { isolation?.dispose(); isolation = null; },
    ...(adapter.dispose ? { dispose: adapter.dispose } : {}),
  };
}
