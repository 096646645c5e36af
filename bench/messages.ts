/**
 * What the benchmark's parent process (which runs Tongbao) and its load-generator child say to each other
 * over the fork IPC channel. Both sides import these types, so the shapes cannot drift apart.
 */
export interface LoadPlan {
  readonly gatewayUrl: string;
  readonly appId: string;
  readonly appPrivateKeyPem: string;
  /** The gateway's zone: request timestamps are wall-clock times there. */
  readonly timeZone: string;
  readonly clients: number;
  readonly warmupSeconds: number;
  readonly measureSeconds: number;
  /** Makes out_trade_no unique across runs against the same database. */
  readonly runId: string;
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LoadResult {
  /** Payments answered 10000 / TRADE_SUCCESS that completed inside the measured window. */
  readonly paymentsInWindow: number;
  readonly windowSeconds: number;
  readonly latency: LatencySummary;
  /** Every response is checked, warm-up and drain included. */
  readonly requestsTotal: number;
  readonly errorsTotal: number;
  readonly errorsInWindow: number;
  /** The distinct error descriptions (at most a few) and how often each occurred. */
  readonly errorSamples: readonly { readonly description: string; readonly count: number }[];
  /** Successful payments completed in each second of the measured window. */
  readonly perSecond: readonly number[];
  /** CPU the load generator process used during the window (user + system), in milliseconds. */
  readonly cpuMs: number;
  /** Share of the window the generator's event loop was busy (0..1). */
  readonly eventLoopUtilization: number;
}

export type ToLoadGenerator =
  | { readonly type: 'run'; readonly plan: LoadPlan }
  | { readonly type: 'finish' };

export type FromLoadGenerator =
  | { readonly type: 'sink-ready'; readonly notifyUrl: string }
  | { readonly type: 'measuring' }
  | { readonly type: 'draining' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'finished'; readonly notificationsReceived: number }
  | { readonly type: 'failed'; readonly message: string };
