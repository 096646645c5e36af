import { execFile } from 'node:child_process';
import { createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFreshDatabase } from './helpers/database.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

/**
 * The compiled `tongbao` CLI as an operator runs it: a child process with configuration in its
 * environment, JSON on stdout, a message on stderr and a meaningful exit code.
 */

const cliPath = path.resolve('dist/src/cli.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously, so an in-process Tongbao keeps serving while it runs. */
function run(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    // Only what the CLI needs: no DATABASE_URL or TONGBAO_* leaking in from the test run.
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env };
    execFile(process.execPath, [cliPath, ...args], { env: childEnv, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function runOrFail(args: string[], env: Record<string, string>): Promise<CliResult> {
  return run(args, env).then((result) => {
    expect(result.code, `tongbao ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result;
  });
}

function json(result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

let database: { url: string; drop(): Promise<void> };
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  const build = await new Promise<CliResult>((resolve) => {
    execFile('npm', ['run', 'build'], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
  });
  if (build.code !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  database = await createFreshDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'tongbao-cli-'));
  env = { DATABASE_URL: database.url, TONGBAO_DATA_DIR: dataDir };
});
afterAll(async () => {
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('tongbao CLI', () => {
  it('--help lists every command', async () => {
    const [help, appHelp] = await Promise.all([runOrFail(['--help'], env), runOrFail(['app', 'create', '--help'], env)]);
    for (const command of ['start', 'migrate', 'merchant', 'app', 'ledger', 'demo']) {
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    for (const option of ['--merchant-id', '--name', '--sign-type', '--public-key-file', '--notify-url']) expect(appHelp.stdout).toContain(option);
  });

  it('refuses an unknown command with a non-zero exit', async () => {
    const result = await run(['teleport'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('teleport');
  });

  it('exits 2 naming the setting when the configuration is bad, before touching the database', async () => {
    const result = await run(['migrate'], { ...env, PORT: '99999' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('99999');
    expect(result.stdout).toBe('');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query("select to_regclass('public.trades') as trades");
      expect(rows[0].trades).toBeNull();
    } finally {
      await client.end();
    }
  });

  it('migrate is idempotent', async () => {
    for (let round = 0; round < 2; round++) {
      const result = await runOrFail(['migrate'], env);
      expect(result.stdout).toBe('database is up to date\n');
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query('select count(*)::int as count from schema_migrations');
      expect(rows[0].count).toBeGreaterThan(0);
      expect((await client.query("select to_regclass('public.ledger_balances') as t")).rows[0].t).toBe('ledger_balances');
    } finally {
      await client.end();
    }
  });

  it('ledger check on an empty database exits 0 with ok true', async () => {
    const report = json(await runOrFail(['ledger', 'check'], env));
    expect(report).toMatchObject({ ok: true, transactions: '0', unbalancedTransactions: [], balanceMismatches: [] });
  });

  describe('merchants and apps', () => {
    let merchantId: string;

    it('merchant create prints the merchant', async () => {
      const merchant = json(await runOrFail(['merchant', 'create', '--name', 'CLI 商户'], env));
      expect(merchant).toMatchObject({ name: 'CLI 商户', status: 'NORMAL' });
      expect(merchant.merchant_id).toMatch(/^2088\d{12}$/);
      merchantId = merchant.merchant_id;
    });

    it('merchant create without --name fails and says what is missing', async () => {
      const result = await run(['merchant', 'create'], env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('--name');
    });

    it('app create generates a key pair and prints it once with the platform key', async () => {
      const app = json(await runOrFail(['app', 'create', '--merchant-id', merchantId, '--name', 'CLI app', '--notify-url', 'https://example.com/notify'], env));
      expect(app).toMatchObject({ merchant_id: merchantId, name: 'CLI app', sign_type: 'RSA2', notify_url: 'https://example.com/notify', status: 'NORMAL' });
      expect(app.app_id).toMatch(/^2026\d{12}$/);
      expect(app.app_private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(app.platform_public_key).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      // The printed pair belongs together.
      const signature = createSign('RSA-SHA256').update('probe').sign(app.app_private_key, 'base64');
      expect(createVerify('RSA-SHA256').update('probe').verify(app.app_public_key, signature, 'base64')).toBe(true);
      // The platform key is made once and kept: a second app gets the same one.
      const second = json(await runOrFail(['app', 'create', '--merchant-id', merchantId, '--name', 'CLI app 2'], env));
      expect(second.platform_public_key).toBe(app.platform_public_key);
      expect(second.app_id).not.toBe(app.app_id);
    });

    it('app create --public-key-file takes a PEM or a bare base64 key and prints no private key', async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      const bare = pair.publicKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      await Promise.all(([['key.pem', pair.publicKey], ['key.txt', bare]] as const).map(async ([name, content]) => {
        const file = path.join(dataDir, name);
        writeFileSync(file, content);
        const app = json(await runOrFail(['app', 'create', '--merchant-id', merchantId, '--name', `own key ${name}`, '--public-key-file', file], env));
        expect(app.app_public_key).toBe(pair.publicKey);
        expect(app.app_private_key).toBeUndefined();
      }));
    });

    it('app create with HMAC-SHA256 prints a secret', async () => {
      const app = json(await runOrFail(['app', 'create', '--merchant-id', merchantId, '--name', 'hmac', '--sign-type', 'HMAC-SHA256'], env));
      expect(app.sign_type).toBe('HMAC-SHA256');
      expect(app.app_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(app.app_private_key).toBeUndefined();
    });

    it('app create refuses a junk key file, a missing file, an unknown merchant and a bad sign type', async () => {
      const junk = path.join(dataDir, 'junk.pem');
      writeFileSync(junk, 'not a key');
      const cases: Array<[string[], string]> = [
        [['--public-key-file', junk], 'public_key'],
        [['--public-key-file', path.join(dataDir, 'missing.pem')], 'missing.pem'],
        [['--sign-type', 'MD5'], 'MD5'],
      ];
      const [orphan, ...refused] = await Promise.all([
        run(['app', 'create', '--merchant-id', '2088000000000000', '--name', 'orphan'], env),
        ...cases.map(([extra]) => run(['app', 'create', '--merchant-id', merchantId, '--name', 'refused', ...extra], env)),
      ]);
      refused.forEach((result, index) => {
        expect(result.code, result.stderr).not.toBe(0);
        expect(result.stderr).toContain(cases[index]![1]);
        expect(result.stdout).toBe('');
      });
      expect(orphan.code).toBe(1);
      expect(orphan.stderr).toContain('2088000000000000');
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        expect((await client.query("select count(*)::int as count from apps where name in ('refused', 'orphan')")).rows[0].count).toBe(0);
      } finally {
        await client.end();
      }
    });
  });
});

describe('tongbao demo and ledger check against a running Tongbao', () => {
  let t: TestInstance;
  let instanceEnv: Record<string, string>;
  beforeAll(async () => {
    t = await startTestInstance();
    instanceEnv = { DATABASE_URL: t.databaseUrl, TONGBAO_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'tongbao-cli-')) };
  });
  afterAll(async () => {
    await t?.stop();
    if (instanceEnv) rmSync(instanceEnv.TONGBAO_DATA_DIR!, { recursive: true, force: true });
  });

  it('demo runs every step against the gateway and exits 0', async () => {
    const result = await runOrFail(['demo', '--credentials', path.join(t.dataDir, 'demo-app.json')], {});
    const checks = result.stdout.split('\n').filter((line) => /^\s+[✔✘]/.test(line));
    expect(checks, result.stdout).toHaveLength(6);
    expect(checks.every((line) => line.trim().startsWith('✔')), result.stdout).toBe(true);
    for (const step of ['1. tongbao.trade.create', '2. tongbao.trade.pay', '3. waiting for', '4. tongbao.trade.refund', '5. tongbao.trade.query']) {
      expect(result.stdout).toContain(step);
    }
    expect(result.stdout).toContain('Demo finished: every step checked out.');
    const [trade] = await t.query("select * from trades where out_trade_no like 'demo-%'");
    expect(trade).toMatchObject({ status: 'TRADE_SUCCESS', paid_amount_minor: 8888n, refunded_amount_minor: 1000n });
  });

  it('demo exits 1 and marks the step with ✘ when the gateway does not answer', async () => {
    const credentials = JSON.parse(readFileSync(path.join(t.dataDir, 'demo-app.json'), 'utf8'));
    const file = path.join(instanceEnv.TONGBAO_DATA_DIR!, 'unreachable.json');
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused at once.
    writeFileSync(file, JSON.stringify({ ...credentials, gateway_url: 'http://127.0.0.1:9/gateway.do' }));
    const result = await run(['demo', '--credentials', file], {});
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/^\s+✘ /m);
    expect(result.stdout).toContain('Demo finished with failures.');
  });

  it('demo exits 1 when the credentials file does not exist', async () => {
    const result = await run(['demo', '--credentials', path.join(t.dataDir, 'nope.json')], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nope.json');
  });

  it('ledger check on a used database exits 0, and exits 1 naming the account once a balance is corrupted', async () => {
    const healthy = json(await runOrFail(['ledger', 'check'], instanceEnv));
    expect(healthy).toMatchObject({ ok: true, balanceMismatches: [], unbalancedTransactions: [] });
    expect(Number(healthy.transactions)).toBeGreaterThanOrEqual(2);

    const [account] = await t.query("select account_id, code from ledger_accounts where code like 'merchant:%:pending:CNY'");
    const corrupt = (delta: number) => t.query('update ledger_balances set balance_minor = balance_minor + $2 where account_id = $1 and shard = 0', [account!.account_id, delta]);
    await corrupt(1);
    try {
      const broken = await run(['ledger', 'check'], instanceEnv);
      expect(broken.code, broken.stderr).toBe(1);
      const report = json(broken);
      expect(report.ok).toBe(false);
      expect(report.balanceMismatches).toHaveLength(1);
      expect(report.balanceMismatches[0]).toMatchObject({ code: account!.code });
      expect(BigInt(report.balanceMismatches[0].stored) - BigInt(report.balanceMismatches[0].from_entries)).toBe(1n);
      expect(broken.stdout).toContain(account!.code);
    } finally {
      await corrupt(-1);
    }
    expect(json(await runOrFail(['ledger', 'check'], instanceEnv)).ok).toBe(true);
  });
});
