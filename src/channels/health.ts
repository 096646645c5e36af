/**
 * A channel's recent health: the last calls (bounded) with their outcome and latency, read over a sliding
 * time window. Routing reads it to prefer channels that answer, and operators read it in the admin API.
 */
export type CallOutcome =
  /** The channel answered and the money moved, or the answer was otherwise final and good. */
  | 'ok'
  /** The channel answered with a business refusal (a decline): it is up, the payer was refused. */
  | 'declined'
  /** No usable answer: timeout, network error, 5xx, bad signature, or refused by the bulkhead or breaker. */
  | 'error';

interface Sample {
  atMs: number;
  outcome: CallOutcome;
  latencyMs: number;
}

export interface HealthFigures {
  readonly calls: number;
  /** Share of calls that got a usable answer (ok or declined); 1 when there were no calls. */
  readonly availability: number;
  /** Share of calls that were ok; 1 when there were no calls. */
  readonly successRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export class HealthWindow {
  private readonly samples: Sample[] = [];
  private next = 0;

  constructor(private readonly windowMs: number, private readonly capacity = 2000) {}

  record(outcome: CallOutcome, latencyMs: number, atMs = Date.now()): void {
    const sample = { atMs, outcome, latencyMs };
    if (this.samples.length < this.capacity) this.samples.push(sample);
    else this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
  }

  figures(atMs = Date.now()): HealthFigures {
    const recent = this.samples.filter((sample) => atMs - sample.atMs <= this.windowMs);
    if (recent.length === 0) return { calls: 0, availability: 1, successRate: 1, p50Ms: null, p99Ms: null };
    const latencies = recent.map((sample) => sample.latencyMs).sort((a, b) => a - b);
    const count = (outcome: CallOutcome) => recent.filter((sample) => sample.outcome === outcome).length;
    return {
      calls: recent.length,
      availability: 1 - count('error') / recent.length,
      successRate: count('ok') / recent.length,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], fraction: number): number {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1]!;
}
