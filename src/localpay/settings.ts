/**
 * Password-free payments (小额免密) and the operator actions of local payments: the user's own limit under
 * the app's maximum, the app's maxima, a pay-password reset, and opening a credit account.
 */
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { findUserById, setCreditLimit, userAccount, type UserAccount, type UserRow } from '../account/index.js';
import { formatAmount, isSupportedCurrency, parseAmount } from '../shared/money.js';
import { setPayPassword, verifyPayPassword } from './password.js';
import * as repository from './repository.js';

function amountIn(field: string, value: string | number, currency: string, invalid = errors.invalidAmount): bigint {
  const parsed = parseAmount(value, currency);
  if (!parsed.ok) fail(invalid, `${field} ${parsed.reason}`);
  return parsed.amountMinor;
}

function checkCurrency(currency: string, invalid = errors.currencyNotSupported): void {
  if (!isSupportedCurrency(currency)) fail(invalid, `currency ${currency} is not supported`);
}

/**
 * Enables password-free payments up to `singleLimit` per payment (confirmed with the pay password), or
 * disables them (no password needed to lower one's own exposure). The limit may not exceed the app's maximum.
 */
export async function setNoPassword(
  context: Context, user: UserRow, input: { enabled: boolean; single_limit?: string | number | undefined; currency?: string | undefined; pay_password?: string | undefined },
): Promise<{ currency: string; singleLimitMinor: bigint | null; appMaxSingleMinor: bigint | null; appMaxDailyMinor: bigint | null }> {
  const currency = input.currency ?? 'CNY';
  checkCurrency(currency);
  const limits = await repository.findNoPasswordLimits(context.pool, user.app_id, user.user_id, currency);
  if (!input.enabled) {
    await repository.setUserNoPassword(context.pool, user.user_id, currency, null);
    return { currency, singleLimitMinor: null, appMaxSingleMinor: limits.app_single_minor, appMaxDailyMinor: limits.app_daily_minor };
  }
  if (input.single_limit === undefined) fail(errors.missingParameter, 'single_limit is required to enable password-free payments');
  const singleLimitMinor = amountIn('single_limit', input.single_limit, currency);
  const appMax = limits.app_single_minor ?? 0n;
  if (singleLimitMinor > appMax) {
    fail(errors.noPasswordLimitExceeded, `single_limit ${formatAmount(singleLimitMinor, currency)} is above the app's password-free maximum of ${formatAmount(appMax, currency)} ${currency}`);
  }
  if (input.pay_password === undefined) fail(errors.payPasswordRequired, 'pay_password is required to enable password-free payments');
  await verifyPayPassword(context, user.user_id, input.pay_password);
  await repository.setUserNoPassword(context.pool, user.user_id, currency, singleLimitMinor);
  return { currency, singleLimitMinor, appMaxSingleMinor: limits.app_single_minor, appMaxDailyMinor: limits.app_daily_minor };
}

/** The app's password-free maxima in a currency; lowering them lowers what users enabled above them. */
export async function setAppNoPasswordLimits(context: Context, appId: string, currency: string, maxSingle: string, maxDaily: string) {
  checkCurrency(currency, errors.adminInvalidInput);
  const single = maxSingle === '0' ? 0n : amountIn('max_single', maxSingle, currency, errors.adminInvalidInput);
  const daily = maxDaily === '0' ? 0n : amountIn('max_daily', maxDaily, currency, errors.adminInvalidInput);
  if (single > daily) fail(errors.adminInvalidInput, 'max_single may not be above max_daily');
  return withTransaction(context.pool, (client) => repository.upsertAppNoPasswordLimit(client, appId, currency, single, daily));
}

async function requireUserById(context: Context, userId: string): Promise<UserRow> {
  const user = await findUserById(context.pool, userId);
  return user ?? fail(errors.notFound, `no user ${userId}`);
}

/** An operator's reset: a new password without the old one, the lock cleared, an audit record (never the password). */
export async function resetPayPassword(context: Context, userId: string, password: string, reason: string): Promise<void> {
  await requireUserById(context, userId);
  await setPayPassword(context, userId, password, undefined, true);
  await context.pool.query(
    "insert into account_audit (subject_type, subject_id, action, reason) values ('USER', $1, 'PAY_PASSWORD_RESET', $2)",
    [userId, reason],
  );
}

/** Opens the user's CREDIT account in a currency (if it has none) and sets its limit, audited as a limit change. */
export async function openCreditAccount(context: Context, userId: string, currency: string, creditLimit: string, reason: string): Promise<UserAccount> {
  const user = await requireUserById(context, userId);
  checkCurrency(currency, errors.adminInvalidInput);
  const account = await withTransaction(context.pool, async (client) => (await userAccount(context, client, user, 'CREDIT', currency, { create: true }))!);
  return setCreditLimit(context, account.accountNo, creditLimit, reason);
}
