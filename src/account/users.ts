/**
 * Users and their accounts as other domains use them, inside the caller's database transaction. See the
 * example in index.ts.
 */
import type { Context } from '../context.js';
import type { Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { coinCurrency, lockBalances, userAvailable, userCreditLine, userFrozen, type AccountSpec } from '../ledger/index.js';
import { isSupportedCurrency } from '../shared/money.js';
import * as repository from './repository.js';
import type { AccountStatus, AccountType, CoinUnitRow, UserAccountRow, UserRow } from './repository.js';

/** A user account: its record, the ledger accounts it posts to, and its balances when they were read. */
export interface UserAccount {
  readonly accountNo: string;
  readonly userId: string;
  readonly appId: string;
  readonly type: AccountType;
  /** The ledger currency: an ISO 4217 code, or C:<app_id>:<unit> for coins. */
  readonly currency: string;
  readonly coinUnit: string | null;
  readonly status: AccountStatus;
  /** Spendable money (for CREDIT: what remains of the limit). */
  readonly available: AccountSpec;
  /** Held money: disputed sums frozen by operators, withdrawals at the channel. */
  readonly frozen: AccountSpec;
  /** CREDIT only: the line whose balance is the limit. */
  readonly creditLine: AccountSpec | null;
  readonly availableAccountId: bigint;
  readonly frozenAccountId: bigint;
  readonly creditLimitMinor: bigint | null;
  readonly availableMinor: bigint;
  readonly frozenMinor: bigint;
  /** True when the balances were read under the rows' locks (forUpdate), so checks on them hold until commit. */
  readonly locked: boolean;
}

export interface UserAccountOptions {
  /** Create the account (and its ledger accounts) when the user has none of this type and currency. */
  readonly create?: boolean;
  /** Lock the account's balance rows and read the balances under the lock; needed before assertCanDebit. */
  readonly forUpdate?: boolean;
}

/** The user of an app with this out_user_id, created on first use; safe under parallel calls. */
export async function findOrCreateUser(client: Queryable, appId: string, outUserId: string): Promise<UserRow> {
  const inserted = await repository.insertUser(client, appId, outUserId);
  if (inserted) return inserted;
  const existing = await repository.findUser(client, appId, { outUserId });
  // A parallel insert that has not committed yet is invisible here; the unique key made ours wait for it.
  return existing ?? fail(errors.systemError, `user ${outUserId} is being created by another request; retry`);
}

/** The user by Tongbao's user_id or the app's out_user_id (at least one), or a USER_NOT_EXIST refusal. */
export async function requireUser(client: Queryable, appId: string, lookup: { user_id?: string | undefined; out_user_id?: string | undefined }): Promise<UserRow> {
  if (lookup.user_id === undefined && lookup.out_user_id === undefined) fail(errors.missingParameter, 'user_id or out_user_id is required');
  const user = await repository.findUser(client, appId, { userId: lookup.user_id, outUserId: lookup.out_user_id });
  return user ?? fail(errors.userNotExist, `no user ${lookup.user_id ?? lookup.out_user_id} in app ${appId}`);
}

/**
 * The ledger currency of an account: an ISO 4217 code for WALLET and CREDIT, the coin unit's code for COIN.
 * Refuses an unsupported currency or an undefined coin unit precisely.
 */
export async function accountCurrency(client: Queryable, appId: string, type: AccountType, currencyOrUnit: string): Promise<{ currency: string; coinUnit: CoinUnitRow | null }> {
  if (type === 'COIN') {
    const unit = await repository.findCoinUnit(client, appId, currencyOrUnit);
    if (!unit) fail(errors.coinUnitNotExist, `app ${appId} has no coin unit ${currencyOrUnit}`);
    return { currency: coinCurrency(appId, unit.code), coinUnit: unit };
  }
  if (!isSupportedCurrency(currencyOrUnit)) fail(errors.currencyNotSupported, `currency ${currencyOrUnit} is not supported`);
  return { currency: currencyOrUnit, coinUnit: null };
}

function specsOf(row: Pick<UserAccountRow, 'user_id' | 'type' | 'currency'>) {
  return {
    available: userAvailable(row.user_id, row.type, row.currency),
    frozen: userFrozen(row.user_id, row.type, row.currency),
    creditLine: row.type === 'CREDIT' ? userCreditLine(row.user_id, row.currency) : null,
  };
}

/** Reads the balances of an account row, locking them first when asked. */
export async function withBalances(client: Queryable, row: UserAccountRow, forUpdate: boolean): Promise<UserAccount> {
  const ids = [row.available_account_id, row.frozen_account_id];
  const balances = forUpdate ? await lockBalances(client, ids) : await readBalances(client, ids);
  const available = balances.get(row.available_account_id);
  return {
    accountNo: row.account_no,
    userId: row.user_id,
    appId: row.app_id,
    type: row.type,
    currency: row.currency,
    coinUnit: row.coin_unit,
    // Read again with the balance: under the lock, a status change made meanwhile is seen.
    status: available?.status ?? row.status,
    ...specsOf(row),
    availableAccountId: row.available_account_id,
    frozenAccountId: row.frozen_account_id,
    creditLimitMinor: row.credit_limit_minor,
    availableMinor: available?.balance_minor ?? 0n,
    frozenMinor: balances.get(row.frozen_account_id)?.balance_minor ?? 0n,
    locked: forUpdate,
  };
}

async function readBalances(client: Queryable, accountIds: readonly bigint[]) {
  const { rows } = await client.query<{ account_id: bigint; balance_minor: bigint; status: AccountStatus }>(
    `select b.account_id, sum(b.balance_minor)::bigint as balance_minor, a.status from ledger_balances b join ledger_accounts a using (account_id)
     where b.account_id = any($1::bigint[]) group by b.account_id, a.status`,
    [accountIds],
  );
  return new Map(rows.map((row) => [row.account_id, row]));
}

/**
 * A user's account of a type in a currency (or coin unit): undefined when it does not exist and `create` is
 * not set. New accounts start with the user's status. With `forUpdate`, the balance rows are locked for the
 * rest of the caller's transaction and the balances read under the lock.
 */
export async function userAccount(
  context: Pick<Context, 'ledger'>,
  client: Queryable,
  user: UserRow,
  type: AccountType,
  currencyOrUnit: string,
  options: UserAccountOptions = {},
): Promise<UserAccount | undefined> {
  const { currency, coinUnit } = await accountCurrency(client, user.app_id, type, currencyOrUnit);
  let row = await repository.findUserAccount(client, user.user_id, type, currency);
  if (!row && options.create) {
    const specs = specsOf({ user_id: user.user_id, type, currency });
    const available = await context.ledger.account(client, specs.available);
    const frozen = await context.ledger.account(client, specs.frozen);
    if (specs.creditLine) await context.ledger.account(client, specs.creditLine);
    const created = await repository.insertUserAccount(client, {
      userId: user.user_id, appId: user.app_id, type, currency, coinUnit: coinUnit?.code ?? null, availableAccountId: available.account_id, frozenAccountId: frozen.account_id,
    });
    if (created && user.status !== 'NORMAL') await client.query('update ledger_accounts set status = $2 where account_id = $1', [available.account_id, user.status]);
    row = await repository.findUserAccount(client, user.user_id, type, currency);
  }
  return row ? withBalances(client, row, options.forUpdate ?? false) : undefined;
}

/** Like userAccount without `create`, but refuses with ACCOUNT.NOT_EXIST when there is none. */
export async function requireUserAccount(
  context: Pick<Context, 'ledger'>, client: Queryable, user: UserRow, type: AccountType, currencyOrUnit: string, options: { forUpdate?: boolean } = {},
): Promise<UserAccount> {
  const account = await userAccount(context, client, user, type, currencyOrUnit, options);
  return account ?? fail(errors.accountNotExist, `user ${user.user_id} has no ${type} account in ${currencyOrUnit}`);
}

/**
 * Locks several accounts' balance rows in one statement, in account_id order (the order post_journal takes),
 * so two transfers between the same accounts in opposite directions never deadlock. Returns them in the
 * order given, with balances read under the locks.
 */
export async function lockUserAccounts(client: Queryable, accounts: readonly UserAccount[]): Promise<UserAccount[]> {
  const ids = accounts.flatMap((account) => [account.availableAccountId, account.frozenAccountId]);
  const balances = await lockBalances(client, ids);
  return accounts.map((account) => {
    const available = balances.get(account.availableAccountId);
    return {
      ...account,
      status: available?.status ?? account.status,
      availableMinor: available?.balance_minor ?? 0n,
      frozenMinor: balances.get(account.frozenAccountId)?.balance_minor ?? 0n,
      locked: true,
    };
  });
}

/**
 * Refuses a debit of `amountMinor` from the account's available balance with the precise reason:
 * ACCOUNT.BLACKLISTED, ACCOUNT.FROZEN, then ACCOUNT.BALANCE_NOT_ENOUGH (ACCOUNT.CREDIT_LIMIT_EXCEEDED for
 * CREDIT). The account must have been read with forUpdate in this transaction, else the check could be stale;
 * post_journal enforces the same rules again as the database's backstop.
 */
export function assertCanDebit(account: UserAccount, amountMinor: bigint): void {
  if (!account.locked) throw new Error(`assertCanDebit needs account ${account.accountNo} read with forUpdate`);
  if (account.status === 'BLACKLISTED') fail(errors.accountBlacklisted, `account ${account.accountNo} is blacklisted`);
  if (account.status === 'FROZEN') fail(errors.accountFrozen, `account ${account.accountNo} is frozen`);
  if (account.availableMinor < amountMinor) {
    fail(account.type === 'CREDIT' ? errors.creditLimitExceeded : errors.balanceNotEnough,
      `account ${account.accountNo} has ${account.availableMinor} available (minor units), ${amountMinor} asked`);
  }
}

/** Refuses money into a blacklisted account (a frozen one may still receive). */
export function assertCanCredit(account: UserAccount): void {
  if (account.status === 'BLACKLISTED') fail(errors.accountBlacklisted, `account ${account.accountNo} is blacklisted`);
}

/** Whether a debit would pass assertCanDebit, as a value: for callers that choose among accounts. */
export function debitable(account: UserAccount, amountMinor: bigint): boolean {
  return account.status === 'NORMAL' && account.availableMinor >= amountMinor;
}
