/**
 * Prometheus metrics of the channels, in a registry of this Tongbao instance (not prom-client's global
 * one, so several instances in one process keep their own). Served at GET /admin/metrics.
 */
import { CircuitState } from 'cockatiel';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallOutcome } from './health.js';

export class ChannelMetrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: 'tongbao_channel_calls_total', help: 'Calls to payment channels by operation and outcome (ok, declined, error)',
    labelNames: ['channel', 'operation', 'outcome'] as const, registers: [this.registry],
  });
  private readonly durations = new Histogram({
    name: 'tongbao_channel_call_duration_seconds', help: 'Duration of calls to payment channels, refusals excluded',
    labelNames: ['channel', 'operation'] as const, buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'tongbao_channel_refused_total', help: 'Calls refused before reaching a channel, by the circuit breaker or the bulkhead',
    labelNames: ['channel', 'operation', 'by'] as const, registers: [this.registry],
  });
  private readonly breaker = new Gauge({
    name: 'tongbao_channel_circuit_state', help: 'Circuit breaker state per channel: 0 closed, 1 open, 2 half-open, 3 isolated',
    labelNames: ['channel'] as const, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tongbao_' });
  }

  call(channel: string, operation: string, outcome: CallOutcome, latencyMs: number): void {
    this.calls.inc({ channel, operation, outcome });
    this.durations.observe({ channel, operation }, latencyMs / 1000);
  }

  refused(channel: string, operation: string, by: 'breaker' | 'bulkhead'): void {
    this.refusals.inc({ channel, operation, by });
  }

  breakerState(channel: string, state: CircuitState): void {
    this.breaker.set({ channel }, state);
  }
}
