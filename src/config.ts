import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import path from 'node:path';

/** The longest a pre-authorization hold may last, whether by default or asked per request. */
export const maxPreauthHoldDays = 365;

// Every setting Tongbao reads from the environment, with its default and its bounds.
// Values are validated once at start; each bad value gets its own message.
const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TONGBAO_DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  TONGBAO_TRUST_PROXY: Type.Boolean({ default: false }),
  TONGBAO_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  TONGBAO_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 24 })),
  TONGBAO_MASTER_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' })),
  TONGBAO_TIMEZONE: Type.String({ minLength: 1, default: 'Asia/Shanghai' }),
  TONGBAO_TIMESTAMP_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 86400, default: 300 }),
  TONGBAO_DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  TONGBAO_WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  TONGBAO_EMBEDDED_PG_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 54329 }),
  /** Local time (TONGBAO_TIMEZONE) ending the business day: a trade may be cancelled until the first cut-off after its payment. */
  TONGBAO_CANCEL_CUTOFF: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '23:00' }),
  /** Days after payment during which a trade can be refunded, unless the merchant sets its own. */
  TONGBAO_REFUND_WINDOW_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  /** The most one user may withdraw from one wallet per business day, in major units of the wallet's currency. */
  TONGBAO_WITHDRAW_DAILY_LIMIT: Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,3})?$', default: '50000.00' }),
  /** Wrong pay passwords in a row before the password is locked, and for how long (default 3 hours). */
  TONGBAO_PAY_PASSWORD_MAX_TRIES: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  TONGBAO_PAY_PASSWORD_LOCK_SECONDS: Type.Integer({ minimum: 1, maximum: 31622400, default: 10800 }),
  /** scrypt's cost (N, a power of two) for new pay-password hashes; each hash keeps its own parameters. */
  TONGBAO_PAY_PASSWORD_SCRYPT_COST: Type.Integer({ minimum: 1024, maximum: 1048576, default: 16384 }),
  /** Days from a credit bill's statement date (the payment's business day) to its due date, for every app. */
  TONGBAO_CREDIT_DUE_DAYS: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
  /** The most one merchant may withdraw from its settlement account in one currency per business day, in major units. */
  TONGBAO_MERCHANT_WITHDRAW_DAILY_LIMIT: Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,3})?$', default: '1000000.00' }),
  TONGBAO_TEST_CLOCK: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'off' }),
  TONGBAO_SANDBOX: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  TONGBAO_SANDBOX_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
  TONGBAO_SANDBOX_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  TONGBAO_CHANNEL_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120000, default: 10000 }),
  TONGBAO_CHANNEL_MAX_CONCURRENT: Type.Integer({ minimum: 1, maximum: 10000, default: 64 }),
  TONGBAO_CHANNEL_MAX_QUEUED: Type.Integer({ minimum: 0, maximum: 100000, default: 64 }),
  TONGBAO_BREAKER_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  TONGBAO_BREAKER_HALF_OPEN_MS: Type.Integer({ minimum: 100, maximum: 3600000, default: 30000 }),
  TONGBAO_CHANNEL_HEALTH_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 86400, default: 300 }),
  TONGBAO_NOTIFY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60000, default: 5000 }),
  TONGBAO_NOTIFY_RETRY_SECONDS: Type.String({ pattern: '^\\d+(\\.\\d+)?(,\\d+(\\.\\d+)?){0,19}$', default: '10,30,60,300,900,1800,3600,7200,21600,54000' }),
  TONGBAO_COMPENSATION_RETRY_SECONDS: Type.String({ pattern: '^\\d+(\\.\\d+)?(,\\d+(\\.\\d+)?){0,29}$', default: '10,30,60,300,900,1800,3600,7200,21600,43200,86400' }),
  /** The default time an escrow payment waits for the buyer's confirmation before it settles by itself (10 days). */
  TONGBAO_ESCROW_CONFIRM_SECONDS: Type.Integer({ minimum: 1, maximum: 31622400, default: 864000 }),
  // Decimals allowed, so tests can hold for seconds: 0.0001 days is 8.64 s.
  TONGBAO_PREAUTH_HOLD_DAYS: Type.Number({ exclusiveMinimum: 0, maximum: maxPreauthHoldDays, default: 30 }),
  TONGBAO_WORKER_POLL_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60000, default: 1000 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), { default: 'info' }),
});

export type Config = Static<typeof ConfigSchema> & {
  dataDir: string;
  /** Delays before each retry of a merchant notification, in seconds; after the last, it expires. */
  notifyRetrySeconds: number[];
  /** Widening delays of compensation queries for pending channel results, in seconds; past the last, operators are alerted. */
  compensationRetrySeconds: number[];
  /** How long a pre-authorization hold lasts when the request names no expire_time, in seconds. */
  preauthHoldSeconds: number;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(ConfigSchema);

/** Reads and validates the configuration; throws ConfigError listing every bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(ConfigSchema.properties);
  const input: Record<string, unknown> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map((error) => {
      const key = error.instancePath.replace(/^\//, '');
      const given = key in input ? ` (got ${JSON.stringify(env[key])})` : '';
      return `${key}: ${error.message ?? 'is invalid'}${given}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const config = input as Static<typeof ConfigSchema>;
  if (!isValidTimeZone(config.TONGBAO_TIMEZONE)) {
    throw new ConfigError([`TONGBAO_TIMEZONE: not a known IANA time zone (got ${JSON.stringify(config.TONGBAO_TIMEZONE)})`]);
  }
  if (config.NODE_ENV === 'production') {
    const problems = (['TONGBAO_ADMIN_TOKEN', 'TONGBAO_MASTER_KEY'] as const).filter((key) => !config[key]).map((key) => `${key}: required when NODE_ENV=production`);
    // A clock operators can move would let anyone with the admin token expire orders and settle escrow early.
    if (config.TONGBAO_TEST_CLOCK === 'on') problems.push('TONGBAO_TEST_CLOCK: must be off when NODE_ENV=production');
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return {
    ...config,
    dataDir: path.resolve(config.TONGBAO_DATA_DIR),
    notifyRetrySeconds: config.TONGBAO_NOTIFY_RETRY_SECONDS.split(',').map(Number),
    compensationRetrySeconds: config.TONGBAO_COMPENSATION_RETRY_SECONDS.split(',').map(Number),
    preauthHoldSeconds: config.TONGBAO_PREAUTH_HOLD_DAYS * 86_400,
  };
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
