/**
 * Users (用户) and their accounts: WALLET (余额, in a currency), COIN (virtual coins an app defines in
 * coin_units) and CREDIT (a credit line with a limit); merchants' settlement accounts as accounts too.
 *
 * Every user account is two single-shard ledger accounts, available and frozen, both bounded at zero by the
 * database (post_journal refuses a posting that would take them below). The account's status (NORMAL,
 * FROZEN: no debits, BLACKLISTED: nothing) is the status of its available ledger account, enforced in the
 * same place. A hold is a posting from available to frozen, so every hold is double-entry.
 *
 * Money moves only by ledger postings inside a database transaction. To debit a user account: read it with
 * forUpdate (this locks its balance rows until commit), check it, then post in the same transaction:
 *
 *   await withTransaction(context.pool, async (client) => {
 *     const user = await findOrCreateUser(client, app.app_id, 'shop-user-42');
 *     const wallet = await requireUserAccount(context, client, user, 'WALLET', 'CNY', { forUpdate: true });
 *     assertCanDebit(wallet, 1999n);   // ACCOUNT.FROZEN, ACCOUNT.BLACKLISTED, ACCOUNT.BALANCE_NOT_ENOUGH ...
 *     await context.ledger.post(client, {
 *       kind: 'BALANCE_PAYMENT', reference: attemptNo, currency: wallet.currency,
 *       entries: [
 *         { account: wallet.available, side: 'DEBIT', amountMinor: 1999n },
 *         { account: merchantPending(app.merchant_id, 'CNY'), side: 'CREDIT', amountMinor: 1999n },
 *       ],
 *     });
 *   });
 *
 * Should a check be skipped, post_journal still refuses the posting and ledger.post throws the same business
 * error (TongbaoError), which rolls the transaction back. A coin account's currency is coinCurrency(app, unit),
 * counted in whole coins: format and parse its amounts with formatUnits and parseUnits.
 */
export {
  accountCurrency,
  assertCanCredit,
  assertCanDebit,
  debitable,
  findOrCreateUser,
  lockUserAccounts,
  requireUser,
  requireUserAccount,
  userAccount,
  withBalances,
  type UserAccount,
  type UserAccountOptions,
} from './users.js';
export { accountJobHandlers } from './jobs.js';
export { setCreditLimit } from './operations.js';
export { accountMethods } from './methods.js';
export { accountAdminRoutes } from './routes.js';
export { notifyRecharge, postRecharge, rechargeFields } from './recharge.js';
export { creditLimitEntries, holdEntries, releaseEntries } from './postings.js';
export { lockMerchantAvailable, merchantAccounts, type MerchantAccountBalance } from './merchant-accounts.js';
export { coinsFor, formatUnits, maskIdNumber, maskName, parseUnits, validIdNumber } from './units.js';
export {
  findCoinUnit,
  findUser,
  findUserAccountByNo,
  findUserById,
  listUserAccounts,
  type AccountStatus,
  type AccountType,
  type CoinUnitRow,
  type IdType,
  type UserAccountRow,
  type UserRow,
} from './repository.js';
export {
  appCoinIssued,
  appCoinReserve,
  coinCurrency,
  isCoinCurrency,
  merchantPending,
  merchantWithdrawing,
  userAvailable,
  userCreditLine,
  userFrozen,
} from '../ledger/index.js';
