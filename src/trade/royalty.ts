import type { Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { merchantPending, platformFeeIncome, type AccountSpec } from '../ledger/index.js';
import { findMerchants } from '../merchant/index.js';
import { formatAmount, parseAmount } from '../shared/money.js';

/**
 * Profit sharing (分润): a payment or a settlement split among receivers, each another merchant of the
 * platform or the platform's own fee income. The seeds' rule is "money in first, then out, and received ≥
 * shared" (先入后出、收大于等于付): splits are checked against the amount they share before anything is
 * written, and posted in the same journal transaction as the money coming in.
 */

/** As the gateway takes it (biz_content `royalty_parameters`). */
export interface RoyaltyParameter {
  trans_in_type: 'MERCHANT' | 'PLATFORM';
  trans_in?: string | undefined;
  amount: string | number;
}

export type Receiver = { readonly type: 'MERCHANT'; readonly merchantId: string } | { readonly type: 'PLATFORM' };

export interface RoyaltySplit {
  readonly receiver: Receiver;
  readonly amountMinor: bigint;
}

/** At most this many receivers per payment or settlement: each one is an entry of the posting. */
export const maxRoyaltyReceivers = 10;

function receiverKey(receiver: Receiver): string {
  return receiver.type === 'PLATFORM' ? 'PLATFORM' : `MERCHANT:${receiver.merchantId}`;
}

/** Checks the list's shape, receivers and amounts (no database); an absent list is no split. */
export function parseRoyalty(parameters: readonly RoyaltyParameter[] | undefined, currency: string): RoyaltySplit[] {
  if (parameters === undefined) return [];
  if (parameters.length > maxRoyaltyReceivers) {
    fail(errors.royaltyTooManyReceivers, `royalty_parameters has ${parameters.length} receivers; at most ${maxRoyaltyReceivers} are allowed`);
  }
  const seen = new Set<string>();
  return parameters.map((parameter, index) => {
    const field = `royalty_parameters[${index}]`;
    let receiver: Receiver;
    if (parameter.trans_in_type === 'PLATFORM') {
      if (parameter.trans_in !== undefined) fail(errors.invalidParameter, `${field}.trans_in must be absent when trans_in_type is PLATFORM`);
      receiver = { type: 'PLATFORM' };
    } else {
      if (parameter.trans_in === undefined) fail(errors.missingParameter, `${field}.trans_in (the receiving merchant_id) is required when trans_in_type is MERCHANT`);
      receiver = { type: 'MERCHANT', merchantId: parameter.trans_in };
    }
    const key = receiverKey(receiver);
    if (seen.has(key)) fail(errors.royaltyDuplicateReceiver, `${field} names ${key} again; give each receiver once with its total`);
    seen.add(key);
    const parsed = parseAmount(parameter.amount, currency);
    if (!parsed.ok) fail(errors.invalidAmount, `${field}.amount ${parsed.reason}`);
    return { receiver, amountMinor: parsed.amountMinor };
  });
}

export function royaltyTotal(splits: readonly RoyaltySplit[]): bigint {
  return splits.reduce((sum, split) => sum + split.amountMinor, 0n);
}

/** Received ≥ shared: the splits may take all of the amount, never more. */
export function checkRoyaltyFits(splits: readonly RoyaltySplit[], amountMinor: bigint, currency: string, field: string): void {
  const total = royaltyTotal(splits);
  if (total > amountMinor) {
    fail(errors.royaltyAmountExceed, `royalty_parameters add up to ${formatAmount(total, currency)} ${currency}, above ${field} ${formatAmount(amountMinor, currency)}`);
  }
}

/** Every receiving merchant must exist, be NORMAL, and not be the trade's own merchant (it gets the rest anyway). */
export async function checkReceivers(client: Queryable, splits: readonly RoyaltySplit[], ownMerchantId: string): Promise<void> {
  const ids = splits.flatMap((split) => (split.receiver.type === 'MERCHANT' ? [split.receiver.merchantId] : []));
  if (ids.length === 0) return;
  if (ids.includes(ownMerchantId)) fail(errors.royaltyReceiverInvalid, `merchant ${ownMerchantId} is the trade's own merchant; it receives what the splits leave`);
  const found = new Map((await findMerchants(client, ids)).map((merchant) => [merchant.merchant_id, merchant]));
  for (const id of ids) {
    const merchant = found.get(id);
    if (!merchant) fail(errors.royaltyReceiverInvalid, `no merchant ${id}`);
    if (merchant.status !== 'NORMAL') fail(errors.royaltyReceiverInvalid, `merchant ${id} is ${merchant.status}`);
  }
}

/** Same receivers with the same amounts in the same order: an idempotent repeat of a request. */
export function sameSplits(left: readonly RoyaltySplit[], right: readonly RoyaltySplit[]): boolean {
  return left.length === right.length
    && left.every((split, index) => receiverKey(split.receiver) === receiverKey(right[index]!.receiver) && split.amountMinor === right[index]!.amountMinor);
}

/** Where a receiver's share is credited: a merchant's pending account, or the platform's fee income. */
export function receiverAccount(receiver: Receiver, currency: string): AccountSpec {
  return receiver.type === 'PLATFORM' ? platformFeeIncome(currency) : merchantPending(receiver.merchantId, currency);
}

/** The splits as the gateway writes them back: a JSON text, since every response field is a string. */
export function presentRoyalty(splits: readonly RoyaltySplit[], currency: string): string | undefined {
  if (splits.length === 0) return undefined;
  return JSON.stringify(splits.map((split) => ({
    trans_in_type: split.receiver.type,
    ...(split.receiver.type === 'MERCHANT' ? { trans_in: split.receiver.merchantId } : {}),
    amount: formatAmount(split.amountMinor, currency),
  })));
}
