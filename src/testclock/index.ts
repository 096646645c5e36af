/**
 * The test clock (like Stripe's test clocks): with TONGBAO_TEST_CLOCK=on, operators move business time
 * forward through the admin API, and every time-driven rule follows — order expiry, escrow auto-confirm,
 * refund windows, hold expiry, notification retries and compensation queries.
 *
 * How: the offset from wall time lives in `settings`, so every process on the database agrees. Advancing
 * adds to it, pulls every waiting job's run time earlier by the same amount (jobs are stored in wall time,
 * see clock.ts), queues the sweeps at once, and tells other processes with NOTIFY in the same transaction.
 * The clock only moves forward: business time running backwards would un-expire orders.
 */
import { clockOffsetMs, now, setClockOffsetMs } from '../clock.js';
import type { Config } from '../config.js';
import { listen, type Listener } from '../db/listen.js';
import { withTransaction, type Pool, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { enqueue, sweepJobs } from '../jobs/index.js';
import type { Logger } from '../logger.js';

const offsetKey = 'test_clock.offset_ms';
const notifyChannel = 'tongbao_test_clock';
/** Ten years: far enough for any rule Tongbao has (the longest is a refund window of months). */
const maxAdvanceSeconds = 10 * 366 * 86400;

export interface TestClockState {
  readonly enabled: boolean;
  readonly now: Date;
  readonly offsetSeconds: number;
}

export function testClockState(config: Config): TestClockState {
  return { enabled: config.TONGBAO_TEST_CLOCK === 'on', now: now(), offsetSeconds: clockOffsetMs() / 1000 };
}

async function readOffsetMs(client: Queryable): Promise<number> {
  const { rows } = await client.query<{ value: string }>('select value from settings where key = $1', [offsetKey]);
  return rows[0] ? Number(rows[0].value) : 0;
}

/**
 * Loads the stored offset and keeps following it: one pooled connection LISTENs for advances made by any
 * process. The offset is read after listening starts (and again after a lost connection is replaced), so an
 * advance in between is not missed.
 */
export async function followTestClock(config: Config, pool: Pool, log: Logger): Promise<Listener> {
  if (config.TONGBAO_TEST_CLOCK !== 'on') {
    setClockOffsetMs(0);
    return { close: async () => {} };
  }
  const reread = async () => setClockOffsetMs(await readOffsetMs(pool));
  const listener = await listen(pool, notifyChannel, log, { onPayload: (payload) => setClockOffsetMs(Number(payload)), onReconnect: reread });
  await reread();
  log.warn({ now: now().toISOString() }, 'test clock on: business time is moved by operators through /admin/test-clock');
  return listener;
}

/** Moves business time forward by `seconds`; returns the new state. */
export async function advanceTestClock(config: Config, pool: Pool, seconds: number): Promise<TestClockState> {
  if (config.TONGBAO_TEST_CLOCK !== 'on') fail(errors.adminConflict, 'the test clock is off; start Tongbao with TONGBAO_TEST_CLOCK=on (never in production)');
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds > maxAdvanceSeconds) {
    fail(errors.adminInvalidInput, `the clock moves forward only, by 1 to ${maxAdvanceSeconds} seconds`);
  }
  const deltaMs = seconds * 1000;
  const offsetMs = await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ value: string }>(
      `insert into settings (key, value) values ($1, $2::bigint::text)
       on conflict (key) do update set value = (settings.value::bigint + $2::bigint)::text, updated_at = now()
       returning value`,
      [offsetKey, deltaMs],
    );
    // Jobs wait in wall time: pull each one earlier by the same amount, never before now.
    await client.query(
      `select count(*) from graphile_worker.jobs j,
         lateral graphile_worker.reschedule_jobs(array[j.id], run_at => greatest(now(), j.run_at - make_interval(secs => $1::double precision)))
       where j.locked_at is null and j.run_at > now()`,
      [seconds],
    );
    for (const sweep of sweepJobs) await enqueue(client, sweep, {}, { jobKey: sweep });
    await client.query('select pg_notify($1, $2)', [notifyChannel, rows[0]!.value]);
    return Number(rows[0]!.value);
  });
  setClockOffsetMs(offsetMs);
  return testClockState(config);
}
