/**
 * The Stripe adapter's configuration: a TypeBox schema of what an operator writes (API key, webhook signing
 * secret, API base URL, limits) and `parseStripeConfig`, which validates an unknown value into the typed
 * configuration. Secrets come out wrapped in `StripeSecret`, which never prints: not in logs, not in
 * `JSON.stringify`, not in `util.inspect`, and not in the error messages of this parser.
 *
 * Example:
 *   const config = parseStripeConfig({ secretKey: 'sk_test_...', webhookSecret: 'whsec_...', timeoutMs: 10_000 });
 */
import { inspect } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Secret as StripeSecret } from '../../shared/secret.js';

export { Secret as StripeSecret } from '../../shared/secret.js';

export const StripeConfigSchema = Type.Object(
  {
    /** A secret or restricted API key: sk_live_..., sk_test_..., rk_live_... or rk_test_.... */
    secretKey: Type.String({ pattern: '^(sk|rk)_(live|test)_[A-Za-z0-9]{8,}$' }),
    /** The signing secret of the webhook endpoint Tongbao's notify URL is registered as (whsec_...). */
    webhookSecret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/=_-]{8,}$' }),
    /** Where the API is; https://api.stripe.com unless pointed at a simulator. */
    apiBaseUrl: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+/?$' })),
    /** The most any one API call may take, connecting and reading the answer included. */
    timeoutMs: Type.Integer({ minimum: 1, maximum: 120_000 }),
    /** Connections to Stripe at most (this channel's own pool); defaults to 16. */
    maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /** How old a webhook's signed timestamp may be; defaults to and may not exceed Stripe's 300 seconds. */
    webhookToleranceSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
    /**
     * How far back a lookup by Tongbao's number scans the (strongly consistent) lists when search finds nothing,
     * and how far back refunds are scanned; defaults to 7 days.
     */
    lookbackHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 400 })),
    /** The most list pages (100 objects each) one lookup reads before answering UNKNOWN; defaults to 20. */
    maxLookupPages: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type StripeConfigInput = Static<typeof StripeConfigSchema>;

export interface StripeConfig {
  readonly secretKey: StripeSecret;
  readonly webhookSecret: StripeSecret;
  readonly api: { readonly protocol: 'http' | 'https'; readonly host: string; readonly port: number };
  readonly timeoutMs: number;
  readonly maxConnections: number;
  readonly webhookToleranceSeconds: number;
  readonly lookbackHours: number;
  readonly maxLookupPages: number;
}

export const stripeConfigDefaults = {
  apiBaseUrl: 'https://api.stripe.com',
  maxConnections: 16,
  webhookToleranceSeconds: 300,
  lookbackHours: 7 * 24,
  maxLookupPages: 20,
} as const;

const checker = TypeCompiler.Compile(StripeConfigSchema);
const secretFields = new Set(['secretKey', 'webhookSecret']);

/**
 * Validates an unknown value (parsed JSON, environment) into the adapter's configuration. Throws an Error
 * naming the first bad field; a secret's value is never part of the message.
 */
export function parseStripeConfig(input: unknown): StripeConfig {
  if (!checker.Check(input)) {
    const first = checker.Errors(input).First();
    const field = first ? first.path.replace(/^\//, '').replace(/\//g, '.') || '(root)' : '(root)';
    const detail = first && !secretFields.has(field) ? `: ${first.message}` : ': missing or not in the expected form';
    throw new Error(`invalid Stripe configuration, field ${field}${detail}`);
  }
  const base = new URL(input.apiBaseUrl ?? stripeConfigDefaults.apiBaseUrl);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return {
    secretKey: new StripeSecret(input.secretKey),
    webhookSecret: new StripeSecret(input.webhookSecret),
    api: { protocol, host: base.hostname.replace(/^\[|\]$/g, ''), port: base.port ? Number(base.port) : protocol === 'http' ? 80 : 443 },
    timeoutMs: input.timeoutMs,
    maxConnections: input.maxConnections ?? stripeConfigDefaults.maxConnections,
    webhookToleranceSeconds: input.webhookToleranceSeconds ?? stripeConfigDefaults.webhookToleranceSeconds,
    lookbackHours: input.lookbackHours ?? stripeConfigDefaults.lookbackHours,
    maxLookupPages: input.maxLookupPages ?? stripeConfigDefaults.maxLookupPages,
  };
}
