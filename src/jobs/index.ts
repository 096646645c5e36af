import { parseCronItems, run, type Logger as WorkerLogger, type Runner, type Task } from 'graphile-worker';
import { toRealTime } from '../clock.js';
import type { Pool, Queryable } from '../db/pool.js';

/** Every background job and its payload: one registry, so producers and handlers agree on the shape. */
export interface JobPayloads {
  'trade.expire': { trade_no: string };
  'trade.pay.query': { attempt_no: string };
  'refund.query': { refund_no: string };
  /** Settles what an escrow trade still holds once its confirm period has run out (or the buyer confirmed). */
  'trade.escrow.settle': { trade_no: string };
  'notify.deliver': { notify_id: string };
  /** Periodic (cron, every minute): expires overdue orders, re-queries results nobody is waiting for, settles overdue escrow. */
  'trade.sweep': Record<string, unknown>;
  'preauth.query': { operation_no: string };
  'preauth.expire': { auth_no: string };
  /** Periodic (cron, every minute): expires overdue holds and re-queries operations nobody is waiting for. */
  'preauth.sweep': Record<string, unknown>;
  /**
   * Asks the channel about a withdrawal's payout until it is final. `book` says whose withdrawal it is (a
   * user's, in withdrawals, when absent: jobs enqueued before merchants withdrew carry none).
   */
  'fund.withdraw.query': { withdraw_no: string; book?: 'USER' | 'MERCHANT' };
  /** Periodic (cron, every minute): re-queries users' and merchants' withdrawals nobody is querying. */
  'fund.sweep': Record<string, unknown>;
  /** Finishes a withholding debit's reservation once its payment is final: kept when paid, given back when not. */
  'agreement.debit.settle': { agreement_no: string; out_trade_no: string; round: number };
  /** Periodic (cron, every minute): credit bills past their due date become OVERDUE. */
  'credit.sweep': Record<string, unknown>;
}

export type JobName = keyof JobPayloads;

/**
 * The periodic safety nets, run every minute by graphile-worker's cron and at once after a test clock
 * moves: each finds records whose deadline passed or whose follow-up job was lost, and schedules their jobs.
 */
export const sweepJobs = ['trade.sweep', 'preauth.sweep', 'fund.sweep', 'credit.sweep'] as const satisfies readonly JobName[];
export type JobHandler<K extends JobName> = (payload: JobPayloads[K]) => Promise<void>;
export type JobHandlers = { [K in JobName]: JobHandler<K> };

export interface EnqueueOptions {
  /** In business time (clock.ts now()); stored as the wall-clock moment the test clock maps it to. */
  runAt?: Date;
  /** A job with the same key replaces the pending one: at most one scheduled job per key. */
  jobKey?: string;
  maxAttempts?: number;
  /** With jobKey: keep the run time of a job already scheduled under the key instead of moving it. */
  preserveRunAt?: boolean;
}

/**
 * Enqueues a job through graphile-worker's SQL API on the given client, so it commits or rolls back
 * with the caller's transaction: a job exists exactly when the change that caused it does.
 */
export async function enqueue<K extends JobName>(client: Queryable, name: K, payload: JobPayloads[K], options: EnqueueOptions = {}): Promise<void> {
  await client.query(
    'select graphile_worker.add_job($1, $2::json, run_at => $3, job_key => $4, max_attempts => $5, job_key_mode => $6)',
    [name, JSON.stringify(payload), options.runAt ? toRealTime(options.runAt) : null, options.jobKey ?? null, options.maxAttempts ?? 25, options.preserveRunAt ? 'preserve_run_at' : 'replace'],
  );
}

export interface WorkerOptions {
  pool: Pool;
  handlers: JobHandlers;
  concurrency: number;
  pollIntervalMs: number;
  logger: WorkerLogger;
}

/** Runs the job worker. Several worker processes may share one database: graphile-worker locks each job. */
export async function startWorker(options: WorkerOptions): Promise<Runner> {
  const taskList: Record<string, Task> = {};
  for (const [name, handler] of Object.entries(options.handlers)) {
    taskList[name] = async (payload) => {
      await (handler as (payload: unknown) => Promise<void>)(payload);
    };
  }
  return run({
    pgPool: options.pool,
    concurrency: options.concurrency,
    pollInterval: options.pollIntervalMs,
    noHandleSignals: true,
    // graphile-worker's cron runs each scheduled sweep once, whichever worker process takes it.
    parsedCronItems: parseCronItems(sweepJobs.map((task) => ({ task, identifier: task, match: '* * * * *', options: { backfillPeriod: 0, maxAttempts: 1, jobKey: task } }))),
    taskList,
    logger: options.logger,
  });
}
