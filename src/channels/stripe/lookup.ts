/**
 * Finding Stripe objects by Tongbao's numbers. Stripe has no lookup by a caller's reference: PaymentIntents
 * can be searched by metadata, but search is eventually consistent (Stripe documents a delay of up to a
 * minute, longer during incidents), so an empty search is confirmed by scanning the strongly consistent list
 * of recent objects before anyone is told NOT_FOUND. Refunds have no search at all and are found by the scan
 * alone. Scans are bounded by the configured look-back and page count; past that the answer is UNKNOWN.
 */
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema, Static } from '@sinclair/typebox';
import type Stripe from 'stripe';
import { now } from '../../clock.js';
import type { StripeChannelClient } from './client.js';
import type { StripeConfig } from './config.js';
import { checkers, metadataClause, type CallFailure, type PaymentIntentWire, type RefundWire } from './protocol.js';

export type Lookup<T> = { readonly ok: true; readonly found: readonly T[] } | { readonly ok: false; readonly reason: string };

export interface MetadataMatch {
  readonly key: string;
  readonly value: string;
}

const pageSize = 100;

export function failureReason(failure: CallFailure): string {
  return failure.kind === 'unknown' ? failure.reason : `Stripe rejected the call: HTTP ${failure.httpStatus} ${failure.code}`;
}

function matchesAny(metadata: Readonly<Record<string, string>>, matches: readonly MetadataMatch[]): boolean {
  return matches.some((match) => metadata[match.key] === match.value);
}

/** Validates every item of a page; one unreadable item makes the whole answer untrusted. */
function readPage<S extends TSchema>(data: unknown, checker: TypeCheck<S>): Static<S>[] | null {
  if (!Array.isArray(data)) return null;
  return data.every((item) => checker.Check(item)) ? (data as Static<S>[]) : null;
}

async function scan<S extends TSchema>(
  client: StripeChannelClient,
  config: StripeConfig,
  checker: TypeCheck<S>,
  listPage: (stripe: Stripe, createdGte: number, startingAfter: string | undefined) => Promise<{ data: unknown; has_more: boolean }>,
  matches: (item: Static<S>) => boolean,
): Promise<Lookup<Static<S>>> {
  const createdGte = Math.floor(now().getTime() / 1000) - config.lookbackHours * 3600;
  let startingAfter: string | undefined;
  for (let page = 0; page < config.maxLookupPages; page += 1) {
    const answer = await client.call((stripe) => listPage(stripe, createdGte, startingAfter));
    if (!answer.ok) return { ok: false, reason: failureReason(answer.failure) };
    const items = readPage(answer.value.data, checker);
    if (!items) return { ok: false, reason: 'Stripe answered the list with an unreadable page' };
    const found = items.filter(matches);
    // Tongbao's numbers are idempotency keys, so one object carries each; stop at the page that has it.
    if (found.length > 0 || !answer.value.has_more || items.length === 0) return { ok: true, found };
    startingAfter = (items[items.length - 1] as { id: string }).id;
  }
  return { ok: false, reason: `nothing found in the newest ${config.maxLookupPages * pageSize} objects; the lookup stopped there` };
}

/** PaymentIntents whose metadata carries any of the given numbers. */
export async function findIntents(client: StripeChannelClient, config: StripeConfig, matches: readonly MetadataMatch[]): Promise<Lookup<PaymentIntentWire>> {
  const query = matches.map((match) => metadataClause(match.key, match.value)).join(' OR ');
  const searched = await client.call((stripe) => stripe.paymentIntents.search({ query, limit: 10 }));
  if (!searched.ok) return { ok: false, reason: failureReason(searched.failure) };
  const intents = readPage(searched.value.data, checkers.paymentIntent);
  if (!intents) return { ok: false, reason: 'Stripe answered the search with an unreadable PaymentIntent' };
  // Search results are checked too: only an exact metadata match counts.
  const found = intents.filter((intent) => matchesAny(intent.metadata, matches));
  if (found.length > 0) return { ok: true, found };
  return scan(
    client,
    config,
    checkers.paymentIntent,
    (stripe, gte, startingAfter) => stripe.paymentIntents.list({ created: { gte }, limit: pageSize, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
    (intent) => matchesAny(intent.metadata, matches),
  );
}

/** The PaymentIntent of one attempt, none, or why that cannot be said. Two intents for one attempt is UNKNOWN. */
export async function findIntent(
  client: StripeChannelClient,
  config: StripeConfig,
  matches: readonly MetadataMatch[],
): Promise<{ ok: true; intent: PaymentIntentWire | null } | { ok: false; reason: string }> {
  const lookup = await findIntents(client, config, matches);
  if (!lookup.ok) return lookup;
  if (lookup.found.length > 1) return { ok: false, reason: `${lookup.found.length} PaymentIntents carry ${matches.map((match) => match.value).join('/')}` };
  return { ok: true, intent: lookup.found[0] ?? null };
}

/** The refund carrying Tongbao's refund number, by scanning recent refunds (Stripe cannot search refunds). */
export async function findRefund(
  client: StripeChannelClient,
  config: StripeConfig,
  match: MetadataMatch,
): Promise<{ ok: true; refund: RefundWire | null } | { ok: false; reason: string }> {
  const lookup = await scan(
    client,
    config,
    checkers.refund,
    (stripe, gte, startingAfter) => stripe.refunds.list({ created: { gte }, limit: pageSize, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
    (refund) => refund.metadata[match.key] === match.value,
  );
  if (!lookup.ok) return lookup;
  if (lookup.found.length > 1) return { ok: false, reason: `${lookup.found.length} refunds carry ${match.value}` };
  return { ok: true, refund: lookup.found[0] ?? null };
}
