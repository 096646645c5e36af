/** The benchmark's result as data (written to .bench/last.json) and as a short plain-text report. */
import type { ActivityReport } from './activity.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { CpuReport } from './cpu.js';
import type { LoadResult } from './messages.js';
import type { PgbenchResult } from './pgbench.js';
import type { ServerWork } from './server-stats.js';
import type { StatementReport } from './statements.js';
import type { AccountShards } from './tongbao-queries.js';

export interface BenchReport {
  readonly finishedAt: string;
  readonly environment: { readonly node: string; readonly cores: number; readonly platform: string };
  readonly database: { readonly url: string; readonly embedded: boolean; readonly version: string };
  readonly tongbao: { readonly dbPoolSize: number; readonly workerConcurrency: number; readonly logLevel: string };
  readonly load: { readonly clients: number; readonly warmupSeconds: number; readonly measureSeconds: number; readonly generator: string };
  readonly payments: LoadResult & { readonly perSecondRate: number };
  readonly cpu: CpuReport & {
    readonly loadGeneratorCores: number;
    readonly tongbaoEventLoopUtilization: number;
    /** How late timers ran on Tongbao's main thread: the wait every I/O callback also sees. */
    readonly tongbaoEventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
    readonly msPerPayment: { readonly tongbao: number; readonly loadGenerator: number; readonly postgres: number | null };
  };
  readonly databaseWork: ServerWork & {
    readonly perPayment: { readonly statements: number; readonly commits: number; readonly rowsWritten: number; readonly walBytes: number };
    readonly walSyncsPerSecond: number | null;
    readonly statements: StatementReport;
  };
  readonly hotAccounts: ActivityReport & { readonly accounts: readonly AccountShards[] };
  readonly notifications: {
    readonly enqueuedInWindow: number;
    readonly deliveredInWindow: number;
    readonly pendingAtWindowEnd: number;
    readonly byStatusAfterDrain: Record<string, number>;
    readonly drainSeconds: number;
    readonly failedDeliveryAttempts: number;
    readonly receivedBySink: number;
    readonly paidTrades: number;
  };
  readonly ledger: { readonly ok: boolean; readonly accounts: number; readonly transactions: number };
  readonly pgbench: PgbenchResult;
  /** payments/s divided by pgbench tps; null when pgbench was skipped. */
  readonly ratioToPgbench: number | null;
  readonly profile: (ProfileSummary & { readonly file: string }) | null;
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

export function formatReport(report: BenchReport): string {
  const { payments, cpu, databaseWork, hotAccounts, notifications, ledger, pgbench } = report;
  const lines: string[] = [];
  const say = (line = '') => lines.push(line);
  say(`Tongbao payment benchmark  (${report.finishedAt}, Node ${report.environment.node}, ${report.environment.cores} cores)`);
  say(`Database   PostgreSQL ${report.database.version}, ${report.database.embedded ? 'embedded (nothing answered at DATABASE_URL)' : report.database.url}; fresh scratch databases, dropped afterwards`);
  say(`Load       ${report.load.generator}`);
  say(`           ${report.load.clients} clients, ${report.load.warmupSeconds} s warm-up, ${report.load.measureSeconds} s measured; Tongbao api+worker+sandbox bank in one process (pool ${report.tongbao.dbPoolSize}, worker concurrency ${report.tongbao.workerConcurrency}, LOG_LEVEL ${report.tongbao.logLevel})`);
  say();
  say('Payments   tongbao.trade.pay creating and paying a new order per call (sandbox channel, notify_url set)');
  say(`  throughput   ${fixed(payments.perSecondRate)} payments/s  (${payments.paymentsInWindow} in ${fixed(payments.windowSeconds, 2)} s)`);
  say(`  latency      p50 ${fixed(payments.latency.p50Ms)} ms   p90 ${fixed(payments.latency.p90Ms)} ms   p99 ${fixed(payments.latency.p99Ms)} ms   max ${fixed(payments.latency.maxMs)} ms`);
  say(`  errors       ${payments.errorsTotal} of ${payments.requestsTotal} responses checked (${payments.errorsInWindow} in the window); every answer must be code 10000 and TRADE_SUCCESS`);
  for (const sample of payments.errorSamples) say(`               ${sample.count} x ${sample.description}`);
  say(`  per second   ${payments.perSecond.join(' ')}`);
  say();
  say(`CPU        cores busy on average, of ${cpu.cores}`);
  say(`  Tongbao process   ${fixed(cpu.tongbaoProcessCores, 2)}  ${fixed(cpu.msPerPayment.tongbao, 2)} ms CPU per payment; main event loop busy ${percent(cpu.tongbaoEventLoopUtilization)}, delay p50 ${fixed(cpu.tongbaoEventLoopDelayMs.p50)} ms p99 ${fixed(cpu.tongbaoEventLoopDelayMs.p99)} ms`);
  if (cpu.mainThreadOnCpu !== null && cpu.mainThreadWaitingForCpu !== null) {
    say(`    main thread     on a CPU ${percent(cpu.mainThreadOnCpu)} of the window, ready but waiting for a CPU ${percent(cpu.mainThreadWaitingForCpu)}`);
  }
  say(`  load generator    ${fixed(cpu.loadGeneratorCores, 2)}  ${fixed(cpu.msPerPayment.loadGenerator, 2)} ms CPU per payment`);
  say(`  PostgreSQL        ${cpu.postgresCores === null ? 'n/a' : fixed(cpu.postgresCores, 2)}  ${cpu.msPerPayment.postgres === null ? '' : `${fixed(cpu.msPerPayment.postgres, 2)} ms CPU per payment`}`);
  if (cpu.machineBusyCores !== null) {
    const others = cpu.machineBusyCores - cpu.tongbaoProcessCores - cpu.loadGeneratorCores - (cpu.postgresCores ?? 0);
    say(`  whole machine     ${fixed(cpu.machineBusyCores, 2)}  (other processes ${fixed(Math.max(0, others), 2)}; hypervisor steal ${fixed(cpu.stealCores ?? 0, 2)})`);
    if (others > 0.25) say(`  note: other processes used ${fixed(others, 2)} cores during the window; the figures above are depressed by them`);
  }
  say();
  say('Database work');
  say(`  per payment  ${fixed(databaseWork.perPayment.statements)} statements, ${fixed(databaseWork.perPayment.commits)} commits, ${fixed(databaseWork.perPayment.rowsWritten)} rows written, ${fixed(databaseWork.perPayment.walBytes / 1024)} kB WAL`);
  say(`  WAL flushes  ${databaseWork.walSyncsPerSecond === null ? 'n/a' : `${fixed(databaseWork.walSyncsPerSecond)}/s`}; pool waits ${databaseWork.statements.poolWaits.count}, mean ${fixed(databaseWork.statements.poolWaits.count === 0 ? 0 : databaseWork.statements.poolWaits.totalMs / databaseWork.statements.poolWaits.count, 2)} ms, max ${fixed(databaseWork.statements.poolWaits.maxMs)} ms`);
  say('  most frequent statements (calls per payment, mean ms as the application saw it):');
  for (const statement of databaseWork.statements.statements.slice(0, 10)) {
    say(`    ${fixed(statement.calls / Math.max(1, payments.paymentsInWindow), 2).padStart(5)}  ${fixed(statement.meanMs, 2).padStart(6)} ms  ${statement.statement}`);
  }
  say();
  say('Hot accounts');
  const hold = databaseWork.statements.ledgerLockHold;
  say(`  shard locks  held from post_journal's answer to the end of COMMIT: mean ${fixed(hold.meanMs)} ms, p99 ${fixed(hold.p99Ms)} ms, ${fixed(hold.meanStatementsAfter)} statements after it (${hold.postings} postings)`);
  say(`  lock waits   ${percent(hotAccounts.lockWaitShare)} of busy backend samples waited on a lock (${hotAccounts.meanLockWaitingBackends} of ${hotAccounts.meanActiveBackends} active backends on average; ${hotAccounts.samples} samples of pg_stat_activity every ${hotAccounts.intervalMs} ms)`);
  say(`  waits        ${hotAccounts.waitEvents.map((event) => `${event.event} ${event.meanBackends}`).join(', ') || 'none sampled'}; idle in transaction ${hotAccounts.meanIdleInTransactionBackends}`);
  for (const statement of hotAccounts.lockWaitStatements) say(`  lock-waiting in (${percent(statement.share)}): ${statement.statement}`);
  for (const account of hotAccounts.accounts) say(`  ${account.code}: ${account.shardCount} balance shard${account.shardCount === 1 ? '' : 's'} (${account.shardsUsed} used)`);
  say();
  say('Notifications');
  say(`  in window    ${notifications.enqueuedInWindow} enqueued, ${notifications.deliveredInWindow} delivered; ${notifications.pendingAtWindowEnd} pending at the window's end`);
  say(`  after drain  ${Object.entries(notifications.byStatusAfterDrain).map(([status, count]) => `${status} ${count}`).join(', ')} (drained in ${fixed(notifications.drainSeconds)} s); sink received ${notifications.receivedBySink}; failed attempts ${notifications.failedDeliveryAttempts}; paid trades ${notifications.paidTrades}`);
  say();
  say(`Ledger check ${ledger.ok ? 'ok' : 'FAILED'} (${ledger.accounts} accounts, ${ledger.transactions} transactions)`);
  say();
  if (pgbench.status === 'ok') {
    say(`PostgreSQL baseline  pgbench TPC-B (-s ${pgbench.scale} -c ${pgbench.clients} -j ${pgbench.threads} -T ${pgbench.seconds} -M prepared): ${fixed(pgbench.tps)} tps, latency ${pgbench.latencyAverageMs ?? '?'} ms`);
    say(`Ratio      payments/s / pgbench tps = ${fixed(report.ratioToPgbench ?? 0, 3)}`);
  } else {
    say(`PostgreSQL baseline  skipped: ${pgbench.reason}`);
  }
  if (report.profile) {
    say();
    say(`CPU profile of the Tongbao process (${report.profile.file}), self time by area:`);
    for (const figure of report.profile.selfByArea.slice(0, 12)) say(`  ${percent(figure.share).padStart(6)}  ${figure.name}`);
    say('  inclusive time by src/ function:');
    for (const figure of report.profile.inclusiveBySrcFunction.slice(0, 12)) say(`  ${percent(figure.share).padStart(6)}  ${figure.name}`);
    say('  self time by function:');
    for (const figure of report.profile.selfByFunction.slice(0, 12)) say(`  ${percent(figure.share).padStart(6)}  ${figure.name}`);
  }
  return `${lines.join('\n')}\n`;
}
