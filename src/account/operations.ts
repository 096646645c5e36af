/**
 * Operator actions on users and accounts (admin API), each in one transaction with its audit record:
 * status changes, freezing and releasing an amount (a disputed sum), real-name information, coin units and
 * credit limits.
 */
import type { Context } from '../context.js';
import { withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { setAccountStatus } from '../ledger/index.js';
import { isSupportedCurrency } from '../shared/money.js';
import { creditLimitEntries, holdEntries, releaseEntries } from './postings.js';
import * as repository from './repository.js';
import type { AccountStatus, IdType, UserRow } from './repository.js';
import { maskIdNumber, maskName, parseUnits, validIdNumber } from './units.js';
import { assertCanDebit, withBalances, type UserAccount } from './users.js';

async function lockedAccount(client: Client, accountNo: string): Promise<UserAccount> {
  const row = await repository.findUserAccountByNo(client, accountNo);
  if (!row) fail(errors.notFound, `no account ${accountNo}`);
  return withBalances(client, row, true);
}

function amountOf(account: UserAccount, value: string): bigint {
  const parsed = parseUnits(value, account.currency);
  if (!parsed.ok) fail(errors.adminInvalidInput, `amount ${parsed.reason}`);
  return parsed.amountMinor;
}

/** One account's status; the database enforces it on every posting from now on. */
export async function setStatus(context: Context, accountNo: string, status: AccountStatus, reason: string): Promise<UserAccount> {
  return withTransaction(context.pool, async (client) => {
    const account = await lockedAccount(client, accountNo);
    await setAccountStatus(client, account.availableAccountId, status);
    await repository.insertAudit(client, { subjectType: 'ACCOUNT', subjectId: accountNo, action: `STATUS_${status}`, reason, detail: { from: account.status } });
    await recordEvent(client, 'account', accountNo, 'account.status_changed', { from: account.status, to: status, reason });
    return { ...account, status };
  });
}

/** A user's status: applied to every account of the user, and the status new accounts start with. */
export async function setUserStatus(context: Context, userId: string, status: AccountStatus, reason: string): Promise<UserRow> {
  return withTransaction(context.pool, async (client) => {
    const user = await repository.updateUserStatus(client, userId, status);
    if (!user) fail(errors.notFound, `no user ${userId}`);
    for (const row of await repository.listUserAccounts(client, userId)) {
      await withBalances(client, row, true);
      await setAccountStatus(client, row.available_account_id, status);
    }
    await repository.insertAudit(client, { subjectType: 'USER', subjectId: userId, action: `STATUS_${status}`, reason });
    return user;
  });
}

/**
 * Freezes (available -> frozen) or releases (frozen -> available) an amount, such as a disputed sum. The
 * posting's reference is the audit record's id, so every movement is tied to its reason.
 */
export async function freezeAmount(context: Context, accountNo: string, direction: 'FREEZE' | 'UNFREEZE', value: string, reason: string): Promise<UserAccount> {
  return withTransaction(context.pool, async (client) => {
    const account = await lockedAccount(client, accountNo);
    const amountMinor = amountOf(account, value);
    if (direction === 'FREEZE') assertCanDebit(account, amountMinor);
    else if (account.frozenMinor < amountMinor) fail(errors.balanceNotEnough, `account ${accountNo} has only ${account.frozenMinor} frozen (minor units)`);
    const { rows } = await client.query<{ audit_id: bigint }>(
      'insert into account_audit (subject_type, subject_id, action, reason, detail) values ($1, $2, $3, $4, $5) returning audit_id',
      ['ACCOUNT', accountNo, `AMOUNT_${direction}`, reason, JSON.stringify({ amount_minor: amountMinor.toString() })],
    );
    await context.ledger.post(client, {
      kind: `ACCOUNT_${direction}`, reference: rows[0]!.audit_id.toString(), currency: account.currency, description: reason,
      entries: direction === 'FREEZE' ? holdEntries(account, amountMinor) : releaseEntries(account, amountMinor),
    });
    const delta = direction === 'FREEZE' ? amountMinor : -amountMinor;
    return { ...account, availableMinor: account.availableMinor - delta, frozenMinor: account.frozenMinor + delta };
  });
}

/** Sets a credit limit; lowering it below what is used is refused (the available part would go negative). */
export async function setCreditLimit(context: Context, accountNo: string, value: string, reason: string): Promise<UserAccount> {
  return withTransaction(context.pool, async (client) => {
    const account = await lockedAccount(client, accountNo);
    if (account.type !== 'CREDIT') fail(errors.adminConflict, `account ${accountNo} is not a CREDIT account`);
    const parsed = value === '0' ? { ok: true as const, amountMinor: 0n } : parseUnits(value, account.currency);
    if (!parsed.ok) fail(errors.adminInvalidInput, `credit_limit ${parsed.reason}`);
    const delta = parsed.amountMinor - account.creditLimitMinor!;
    if (account.availableMinor + delta < 0n) fail(errors.creditLimitExceeded, `account ${accountNo} uses more than the new limit`);
    await repository.setCreditLimit(client, accountNo, parsed.amountMinor);
    const { rows } = await client.query<{ audit_id: bigint }>(
      "insert into account_audit (subject_type, subject_id, action, reason, detail) values ('ACCOUNT', $1, 'CREDIT_LIMIT', $2, $3) returning audit_id",
      [accountNo, reason, JSON.stringify({ from_minor: account.creditLimitMinor!.toString(), to_minor: parsed.amountMinor.toString() })],
    );
    const entries = creditLimitEntries(account, delta);
    if (entries.length > 0) await context.ledger.post(client, { kind: 'CREDIT_LIMIT', reference: rows[0]!.audit_id.toString(), currency: account.currency, entries });
    return { ...account, creditLimitMinor: parsed.amountMinor, availableMinor: account.availableMinor + delta };
  });
}

export interface RealNameInput {
  real_name: string;
  id_type: IdType;
  id_number: string;
}

/** Seals and stores real-name information (unverified until an operator verifies it). */
export async function setRealName(context: Context, subject: 'USER' | 'MERCHANT', id: string, input: RealNameInput, reason: string): Promise<UserRow | Record<string, unknown>> {
  if (subject === 'USER' && input.id_type === 'BUSINESS_LICENSE') fail(errors.adminInvalidInput, 'a user has no business license');
  if (!validIdNumber(input.id_type, input.id_number)) fail(errors.adminInvalidInput, `id_number is not a valid ${input.id_type}`);
  const sealed = {
    realNameSealed: context.secrets.seal(input.real_name), realNameMasked: maskName(input.real_name), idType: input.id_type,
    idNumberSealed: context.secrets.seal(input.id_number), idNumberMasked: maskIdNumber(input.id_number),
  };
  return withTransaction(context.pool, async (client) => {
    const row = subject === 'USER'
      ? await repository.setUserRealName(client, id, sealed)
      : (await client.query(
        `update merchants set real_name_sealed = $2, real_name_masked = $3, id_type = $4, id_number_sealed = $5, id_number_masked = $6, verified_at = null, updated_at = now()
         where merchant_id = $1 returning merchant_id, real_name_masked, id_type, id_number_masked, verified_at`,
        [id, sealed.realNameSealed, sealed.realNameMasked, sealed.idType, sealed.idNumberSealed, sealed.idNumberMasked])).rows[0];
    if (!row) fail(errors.notFound, `no ${subject.toLowerCase()} ${id}`);
    await repository.insertAudit(client, { subjectType: subject, subjectId: id, action: 'REAL_NAME_SET', reason, detail: { id_type: input.id_type, id_number: sealed.idNumberMasked } });
    return row;
  });
}

export async function verifyRealName(context: Context, subject: 'USER' | 'MERCHANT', id: string, reason: string): Promise<UserRow | Record<string, unknown>> {
  return withTransaction(context.pool, async (client) => {
    const row = subject === 'USER'
      ? await repository.verifyUserRealName(client, id)
      : (await client.query(
        `update merchants set verified_at = now(), updated_at = now() where merchant_id = $1 and real_name_sealed is not null and verified_at is null
         returning merchant_id, real_name_masked, id_type, id_number_masked, verified_at`, [id])).rows[0];
    if (!row) fail(errors.adminConflict, `${subject.toLowerCase()} ${id} does not exist, has no real-name information, or is verified already`);
    await repository.insertAudit(client, { subjectType: subject, subjectId: id, action: 'REAL_NAME_VERIFIED', reason });
    return row;
  });
}

export async function defineCoinUnit(context: Context, appId: string, input: { code: string; name: string; currency: string; coins_per_unit: number }) {
  if (!isSupportedCurrency(input.currency)) fail(errors.adminInvalidInput, `currency ${input.currency} is not supported`);
  const unit = await repository.upsertCoinUnit(context.pool, { appId, code: input.code, name: input.name, currency: input.currency, coinsPerUnit: BigInt(input.coins_per_unit) })
    .catch((error: { code?: string }) => (error.code === '23503' ? fail(errors.notFound, `no app ${appId}`) : Promise.reject(error)));
  return unit ?? fail(errors.adminConflict, `coin unit ${input.code} is bought with another currency; its currency never changes`);
}
