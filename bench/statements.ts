/**
 * Counts every SQL statement the Tongbao process sends, and how long each took from the application's side,
 * by wrapping pg.Client#query (the API server, the job worker and the ledger all go through it). It also times
 * how long callers waited for a pooled connection. A poor man's pg_stat_statements, with no server setting
 * needed; the times include event-loop delay, so they overstate what the server spent.
 */
import pg from 'pg';

const statementKeyLength = 90;
const maxListed = 15;

export interface StatementFigure {
  readonly statement: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly meanMs: number;
}

export interface LedgerLockHold {
  /** Ledger postings (select post_journal) whose transaction committed or rolled back in the window. */
  readonly postings: number;
  /** From post_journal's answer to the end of its COMMIT: how long the balance shard rows stay locked. */
  readonly meanMs: number;
  readonly p99Ms: number;
  /** Statements the transaction still ran after post_journal, COMMIT included, on average. */
  readonly meanStatementsAfter: number;
}

export interface StatementReport {
  readonly calls: number;
  readonly ledgerLockHold: LedgerLockHold;
  readonly statements: readonly StatementFigure[];
  readonly poolWaits: { readonly count: number; readonly totalMs: number; readonly maxMs: number };
}

export interface StatementProbe {
  /** Starts counting from zero. */
  start(): void;
  stop(): StatementReport;
}

type AnyFunction = (...args: unknown[]) => unknown;

// The benchmark's own monitoring connections are not Tongbao's work.
const excludedClients = new WeakSet<object>();

export function excludeFromCounts(client: pg.Client): void {
  excludedClients.add(client);
}

function statementKey(config: unknown): string | null {
  const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text.replace(/\s+/g, ' ').trim().slice(0, statementKeyLength) : null;
}

/** Calls `done` when the call finishes, whichever of the callback or promise styles the caller used. */
function timed(original: AnyFunction, self: unknown, args: unknown[], done: () => void): unknown {
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    args[args.length - 1] = function (this: unknown, ...callbackArgs: unknown[]) {
      done();
      return (last as AnyFunction).apply(this, callbackArgs);
    };
    return original.apply(self, args);
  }
  const result = original.apply(self, args);
  if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
  return result;
}

export function instrumentPg(): StatementProbe {
  let recording = false;
  const figures = new Map<string, { calls: number; totalMs: number }>();
  let calls = 0;
  let poolWaitCount = 0;
  let poolWaitTotalMs = 0;
  let poolWaitMaxMs = 0;
  // Per connection: when its open transaction sent post_journal, and how many statements followed.
  const postingOpen = new WeakMap<object, { sentMs: number; statementsAfter: number }>();
  const holdsMs: number[] = [];
  let statementsAfterTotal = 0;

  const clientPrototype = pg.Client.prototype as unknown as { query: AnyFunction };
  const originalQuery = clientPrototype.query;
  clientPrototype.query = function (this: unknown, ...args: unknown[]) {
    const key = recording && !excludedClients.has(this as object) ? statementKey(args[0]) : null;
    if (key === null) return originalQuery.apply(this, args);
    calls += 1;
    const started = performance.now();
    const connection = this as object;
    const open = postingOpen.get(connection);
    if (open) open.statementsAfter += 1;
    const isPosting = key.startsWith('select post_journal(');
    const endsTransaction = key === 'COMMIT' || key === 'ROLLBACK';
    return timed(originalQuery, this, args, () => {
      const finished = performance.now();
      const figure = figures.get(key) ?? { calls: 0, totalMs: 0 };
      figure.calls += 1;
      figure.totalMs += finished - started;
      figures.set(key, figure);
      // The shard rows are locked once post_journal has run, until the transaction ends.
      if (isPosting) postingOpen.set(connection, { sentMs: finished, statementsAfter: 0 });
      const posting = postingOpen.get(connection);
      if (endsTransaction && posting) {
        postingOpen.delete(connection);
        holdsMs.push(finished - posting.sentMs);
        statementsAfterTotal += posting.statementsAfter;
      }
    });
  };

  const poolPrototype = pg.Pool.prototype as unknown as { connect: AnyFunction };
  const originalConnect = poolPrototype.connect;
  poolPrototype.connect = function (this: unknown, ...args: unknown[]) {
    if (!recording) return originalConnect.apply(this, args);
    const started = performance.now();
    return timed(originalConnect, this, args, () => {
      const waitedMs = performance.now() - started;
      poolWaitCount += 1;
      poolWaitTotalMs += waitedMs;
      poolWaitMaxMs = Math.max(poolWaitMaxMs, waitedMs);
    });
  };

  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    start() {
      figures.clear();
      calls = 0;
      poolWaitCount = 0;
      poolWaitTotalMs = 0;
      poolWaitMaxMs = 0;
      holdsMs.length = 0;
      statementsAfterTotal = 0;
      recording = true;
    },
    stop() {
      recording = false;
      const statements = [...figures]
        .map(([statement, figure]) => ({ statement, calls: figure.calls, totalMs: round(figure.totalMs), meanMs: round(figure.totalMs / figure.calls) }))
        .sort((a, b) => b.calls - a.calls || b.totalMs - a.totalMs)
        .slice(0, maxListed);
      const sorted = [...holdsMs].sort((a, b) => a - b);
      const ledgerLockHold = {
        postings: sorted.length,
        meanMs: sorted.length === 0 ? 0 : round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
        p99Ms: sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!),
        meanStatementsAfter: sorted.length === 0 ? 0 : round(statementsAfterTotal / sorted.length),
      };
      return { calls, ledgerLockHold, statements, poolWaits: { count: poolWaitCount, totalMs: round(poolWaitTotalMs), maxMs: round(poolWaitMaxMs) } };
    },
  };
}
