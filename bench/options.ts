/** The benchmark's settings, from flags first, then environment variables, then defaults; each with its bounds. */
import { defaultDatabaseUrl } from './database.js';

export interface BenchOptions {
  readonly clients: number;
  readonly measureSeconds: number;
  readonly warmupSeconds: number;
  readonly databaseUrl: string;
  readonly pgbench: boolean;
  readonly profile: boolean;
}

export const usage = `npm run bench [-- options]

  --clients N      concurrent clients (env BENCH_CLIENTS, default 32)
  --seconds N      measured seconds, also pgbench's -T (env BENCH_SECONDS, default 15)
  --warmup N       warm-up seconds before measuring (env BENCH_WARMUP_SECONDS, default 3)
  --no-pgbench     skip the pgbench baseline (env BENCH_PGBENCH=off)
  --profile        CPU-profile the Tongbao process during the window (env BENCH_PROFILE=1)

  DATABASE_URL     PostgreSQL server to create scratch databases on
                   (default ${defaultDatabaseUrl}; an embedded PostgreSQL when nothing answers there)
  TONGBAO_DB_POOL_SIZE, TONGBAO_WORKER_CONCURRENCY, TONGBAO_WORKER_POLL_INTERVAL_MS,
  TONGBAO_CHANNEL_TIMEOUT_MS, TONGBAO_NOTIFY_TIMEOUT_MS are passed to Tongbao when set.
`;

export class OptionsError extends Error {}

function integer(name: string, text: string | undefined, fallback: number, minimum: number, maximum: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new OptionsError(`${name} must be a whole number from ${minimum} to ${maximum}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--help' || argument === '-h') return 'help';
    if (argument === '--no-pgbench' || argument === '--profile') {
      switches.add(argument);
      continue;
    }
    const [name, inline] = argument.split('=', 2) as [string, string | undefined];
    if (!['--clients', '--seconds', '--warmup'].includes(name)) throw new OptionsError(`unknown option ${argument}\n\n${usage}`);
    const value = inline ?? argv[++index];
    if (value === undefined) throw new OptionsError(`${name} needs a value`);
    flags.set(name, value);
  }
  return {
    clients: integer('--clients / BENCH_CLIENTS', flags.get('--clients') ?? env.BENCH_CLIENTS, 32, 1, 256),
    measureSeconds: integer('--seconds / BENCH_SECONDS', flags.get('--seconds') ?? env.BENCH_SECONDS, 15, 1, 3600),
    warmupSeconds: integer('--warmup / BENCH_WARMUP_SECONDS', flags.get('--warmup') ?? env.BENCH_WARMUP_SECONDS, 3, 0, 600),
    databaseUrl: env.DATABASE_URL || defaultDatabaseUrl,
    pgbench: !switches.has('--no-pgbench') && env.BENCH_PGBENCH !== 'off',
    profile: switches.has('--profile') || env.BENCH_PROFILE === '1',
  };
}

/** Tongbao settings the caller may tune for a run; everything else is fixed by the benchmark. */
export const passedThroughSettings = [
  'TONGBAO_DB_POOL_SIZE', 'TONGBAO_WORKER_CONCURRENCY', 'TONGBAO_WORKER_POLL_INTERVAL_MS', 'TONGBAO_CHANNEL_TIMEOUT_MS', 'TONGBAO_NOTIFY_TIMEOUT_MS',
] as const;
