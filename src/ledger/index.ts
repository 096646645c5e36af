import { randomInt } from 'node:crypto';
import type { Queryable } from '../db/pool.js';
import { errors, fail, type ErrorDefinition } from '../errors.js';
import type { AccountSpec, NormalSide } from './accounts.js';
import * as repository from './repository.js';

export * from './accounts.js';
export { accountBalance, lockBalances, setAccountStatus, type AccountRow, type LockedBalance } from './repository.js';

export interface Entry {
  readonly account: AccountSpec;
  readonly side: NormalSide;
  readonly amountMinor: bigint;
}

export interface Posting {
  /** What moved money (PAYMENT, REFUND, ...); with `reference`, the idempotency key of the posting. */
  readonly kind: string;
  readonly reference: string;
  readonly currency: string;
  readonly description?: string;
  readonly entries: readonly Entry[];
  /**
   * True for a posting that finishes an operation accepted while the accounts allowed it, such as a failed
   * withdrawal's hold going back to the user: account status (FROZEN, BLACKLISTED) does not stop it. Minimum
   * balances still apply.
   */
  readonly completion?: boolean;
}

/**
 * Checks the invariants of a posting before it reaches the database: at least two entries,
 * positive integer amounts, one currency matching every account, and debits equal to credits.
 */
export function assertBalanced(posting: Posting): void {
  if (posting.entries.length < 2) throw new Error(`posting ${posting.kind}/${posting.reference} needs at least two entries`);
  let difference = 0n;
  for (const entry of posting.entries) {
    if (typeof entry.amountMinor !== 'bigint' || entry.amountMinor <= 0n) {
      throw new Error(`posting ${posting.kind}/${posting.reference} has a non-positive amount on ${entry.account.code}`);
    }
    if (entry.account.currency !== posting.currency) {
      throw new Error(`posting ${posting.kind}/${posting.reference} in ${posting.currency} touches ${entry.account.code}`);
    }
    difference += entry.side === 'DEBIT' ? entry.amountMinor : -entry.amountMinor;
  }
  if (difference !== 0n) throw new Error(`posting ${posting.kind}/${posting.reference} is unbalanced by ${difference}`);
}

export interface Ledger {
  /**
   * Posts a balanced journal transaction inside the caller's database transaction.
   * Returns false when this (kind, reference) was already posted: retries never move money twice.
   * Hot accounts are spread over shards chosen at random, so concurrent postings rarely share a row lock.
   */
  post(client: Queryable, posting: Posting): Promise<boolean>;
  /** The account's row (created with its balance shards if missing, inside the caller's transaction). */
  account(client: Queryable, spec: AccountSpec): Promise<repository.AccountRow>;
}

/**
 * What post_journal raises when a posting would break an account's rule, by SQLSTATE, and the business
 * error it becomes: the transaction rolls back and the caller answers with a precise code. A credit
 * account's available balance is what remains of its limit, so going below zero there is over the limit.
 */
const accountRuleErrors: Record<string, (kind: string) => ErrorDefinition> = {
  TB001: (kind) => (kind.startsWith('USER_CREDIT') ? errors.creditLimitExceeded : errors.balanceNotEnough),
  TB002: () => errors.accountFrozen,
  TB003: () => errors.accountBlacklisted,
};

function mapAccountRuleError(error: unknown): never {
  const pgError = error as { code?: string; detail?: string; message?: string };
  const definition = pgError.code === undefined ? undefined : accountRuleErrors[pgError.code];
  if (!definition) throw error;
  fail(definition(pgError.detail ?? ''), pgError.message);
}

export function createLedger(): Ledger {
  // Account ids and shard counts never change once created, so they are cached. An account is created
  // inside the caller's transaction (taking a second connection there could exhaust the pool), and cached
  // only once it was found committed: a rolled-back transaction must not leave a cached id for an account
  // that does not exist.
  const accountCache = new Map<string, repository.AccountRow>();

  async function resolveAccount(client: Queryable, spec: AccountSpec): Promise<repository.AccountRow> {
    const cached = accountCache.get(spec.code);
    if (cached) return cached;
    const row = await repository.ensureAccount(client, spec);
    if (!row.inserted) accountCache.set(spec.code, row);
    return row;
  }

  return {
    async post(client, posting) {
      assertBalanced(posting);
      const accountIds: bigint[] = [];
      const shards: number[] = [];
      for (const entry of posting.entries) {
        const account = await resolveAccount(client, entry.account);
        accountIds.push(account.account_id);
        shards.push(account.shard_count > 1 ? randomInt(account.shard_count) : 0);
      }
      const transactionId = await repository.postJournal(
        client,
        { kind: posting.kind, reference: posting.reference, currency: posting.currency, description: posting.description ?? null },
        { accountIds, sides: posting.entries.map((entry) => entry.side), amounts: posting.entries.map((entry) => entry.amountMinor), shards },
        posting.completion ?? false,
      ).catch(mapAccountRuleError);
      return transactionId !== null;
    },
    account: resolveAccount,
  };
}

export interface LedgerCheckReport {
  ok: boolean;
  accounts: bigint;
  transactions: bigint;
  trialBalance: repository.TrialBalanceRow[];
  unbalancedTransactions: { transaction_id: bigint; difference: bigint }[];
  balanceMismatches: { code: string; stored: bigint; from_entries: bigint }[];
}

/** Verifies the whole book: debits equal credits per currency, each transaction balances, each stored balance equals its entries. */
export async function checkLedger(client: Queryable): Promise<LedgerCheckReport> {
  const [counts, trial, unbalanced, mismatches] = await Promise.all([
    repository.countAccountsAndTransactions(client),
    repository.trialBalance(client),
    repository.unbalancedTransactions(client),
    repository.balanceMismatches(client),
  ]);
  const ok = trial.every((row) => row.debits === row.credits) && unbalanced.length === 0 && mismatches.length === 0;
  return { ok, ...counts, trialBalance: trial, unbalancedTransactions: unbalanced, balanceMismatches: mismatches };
}
