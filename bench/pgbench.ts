/**
 * The PostgreSQL baseline: pgbench's built-in TPC-B-like script on a scratch database of the same server,
 * with as many clients as the payment run. It says what this machine's PostgreSQL does with short write
 * transactions, so the payment rate can be read as a multiple of it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createScratchDatabase } from './database.js';

const run = promisify(execFile);
const scale = 10;
/** pgbench -i -s 10 loads a million rows; generous, but bounded. */
const initTimeoutMs = 10 * 60_000;

export type PgbenchResult =
  | {
    readonly status: 'ok';
    readonly version: string;
    readonly scale: number;
    readonly clients: number;
    readonly threads: number;
    readonly seconds: number;
    readonly tps: number;
    readonly latencyAverageMs: number | null;
    readonly transactions: number | null;
  }
  | { readonly status: 'skipped'; readonly reason: string };

async function pgbenchVersion(): Promise<string | null> {
  try {
    const { stdout } = await run('pgbench', ['--version']);
    return stdout.trim();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null;
    throw error;
  }
}

function numberAfter(pattern: RegExp, text: string): number | null {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : null;
}

export async function runPgbench(adminUrl: string, clients: number, seconds: number): Promise<PgbenchResult> {
  const version = await pgbenchVersion();
  if (!version) return { status: 'skipped', reason: 'pgbench is not installed (not found on PATH)' };
  const threads = Math.min(2, clients);
  const database = await createScratchDatabase(adminUrl, 'tongbao_pgbench');
  try {
    // pgbench reads its connection string as the database name, as every libpq client does.
    await run('pgbench', ['-i', '-s', String(scale), '-q', database.url], { timeout: initTimeoutMs, maxBuffer: 16 * 1024 * 1024 });
    const { stdout } = await run('pgbench', ['-c', String(clients), '-j', String(threads), '-T', String(seconds), '-M', 'prepared', database.url], {
      timeout: (seconds + 120) * 1000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tps = numberAfter(/tps = ([\d.]+) \(without initial connection time\)/, stdout) ?? numberAfter(/tps = ([\d.]+)/, stdout);
    if (tps === null) throw new Error(`could not read tps from pgbench's output:\n${stdout}`);
    return {
      status: 'ok',
      version,
      scale,
      clients,
      threads,
      seconds,
      tps,
      latencyAverageMs: numberAfter(/latency average = ([\d.]+) ms/, stdout),
      transactions: numberAfter(/number of transactions actually processed: (\d+)/, stdout),
    };
  } finally {
    await database.drop();
  }
}
