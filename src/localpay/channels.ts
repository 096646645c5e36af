/**
 * The three local channels and how each moves money, inside the caller's transaction. Every local payment
 * passes through the channel's own clearing account, as a channel payment does: collecting debits the payer
 * and credits channel:<name>:clearing, and the trade's PAYMENT posting then debits that clearing account to
 * pay the merchant. A refund does the reverse. So a local channel's clearing balance is always zero once a
 * transaction commits, and the merchant side of the books is the same whatever channel paid.
 *
 * - balance: the user's WALLET in the trade's currency.
 * - coin: the user's COIN account, at the unit's rule (coins_per_unit for one major unit). The coins go back
 *   to the app (appCoinIssued) and the money that backed them leaves the app's coin reserve for the clearing
 *   account, so both currencies stay balanced. An amount that needs part of a coin is refused.
 * - credit: the user's CREDIT account (what remains of the limit), and a bill for what is now owed.
 */
import type { Context } from '../context.js';
import type { Client, Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import {
  appCoinIssued, appCoinReserve, assertCanDebit, coinsFor, findCoinUnit, findUserAccountByNo, listUserAccounts, userAccount, withBalances,
  type AccountType, type UserAccount, type UserRow,
} from '../account/index.js';
import { channelClearing } from '../ledger/index.js';
import { formatAmount } from '../shared/money.js';
import { openBill, refundToCredit } from './credit.js';
import * as repository from './repository.js';
import type { LocalPaymentRow } from './repository.js';

export const localChannelNames = ['balance', 'coin', 'credit'] as const;
export type LocalChannelName = (typeof localChannelNames)[number];

export function isLocalChannel(name: string | null | undefined): name is LocalChannelName {
  return localChannelNames.includes(name as LocalChannelName);
}

const accountTypes: Record<LocalChannelName, AccountType> = { balance: 'WALLET', coin: 'COIN', credit: 'CREDIT' };

/** What a local payment takes from the payer, worked out before the transaction (coins per the unit's rule). */
export interface LocalCharge {
  readonly channel: LocalChannelName;
  readonly user: UserRow;
  /** The account's currency key: the trade currency, or the coin unit's code. */
  readonly currencyOrUnit: string;
  /** Minor units of the trade currency, or coins. */
  readonly units: bigint;
  readonly coinsPerUnit: bigint | null;
}

/**
 * The charge of `amountMinor` in `currency` through `channel`. For coins the unit must be priced in the
 * trade's currency and the amount must buy whole coins.
 */
export async function chargeFor(client: Queryable, channel: LocalChannelName, user: UserRow, amountMinor: bigint, currency: string, coinUnit: string | undefined): Promise<LocalCharge> {
  if (channel !== 'coin') {
    if (coinUnit !== undefined) fail(errors.invalidParameter, 'coin_unit is only for channel coin');
    return { channel, user, currencyOrUnit: currency, units: amountMinor, coinsPerUnit: null };
  }
  if (coinUnit === undefined) fail(errors.missingParameter, 'coin_unit is required for channel coin');
  const unit = await findCoinUnit(client, user.app_id, coinUnit);
  if (!unit) fail(errors.coinUnitNotExist, `app ${user.app_id} has no coin unit ${coinUnit}`);
  if (unit.currency !== currency) fail(errors.accountCurrencyMismatch, `coin unit ${unit.code} is priced in ${unit.currency}, the order in ${currency}`);
  const coins = coinsFor(amountMinor, currency, unit.coins_per_unit);
  if (coins === null) fail(errors.coinFraction, `${formatAmount(amountMinor, currency)} ${currency} at ${unit.coins_per_unit} ${unit.code} per unit needs part of a coin`);
  return { channel, user, currencyOrUnit: unit.code, units: coins, coinsPerUnit: unit.coins_per_unit };
}

/** The payer's account, locked; a precise refusal when the user has none of this kind (or none in this currency). */
async function payerAccount(context: Context, client: Client, charge: LocalCharge): Promise<UserAccount> {
  const type = accountTypes[charge.channel];
  const account = await userAccount(context, client, charge.user, type, charge.currencyOrUnit, { forUpdate: true });
  if (account) return account;
  const others = (await listUserAccounts(client, charge.user.user_id)).filter((row) => row.type === type);
  if (others.length > 0 && type !== 'COIN') {
    fail(errors.accountCurrencyMismatch, `user ${charge.user.user_id} has ${type} accounts in ${others.map((row) => row.currency).join(', ')}, not ${charge.currencyOrUnit}`);
  }
  return fail(errors.accountNotExist, `user ${charge.user.user_id} has no ${type} account in ${charge.currencyOrUnit}`);
}

interface TradeRef {
  readonly trade_no: string;
  readonly app_id: string;
  readonly currency: string;
}

/**
 * Debits the payer for a local attempt (the trade row is locked by the caller) and records which account
 * paid: assertCanDebit gives the precise refusal (frozen, blacklisted, not enough balance, over the limit).
 */
export async function collect(
  context: Context, client: Client, charge: LocalCharge, trade: TradeRef, attempt: { attempt_no: string; amount_minor: bigint }, authorizedBy: LocalPaymentRow['authorized_by'],
): Promise<string> {
  const account = await payerAccount(context, client, charge);
  assertCanDebit(account, charge.units);
  const clearing = channelClearing(charge.channel, trade.currency);
  const description = `${charge.channel} payment of trade ${trade.trade_no}`;
  await context.ledger.post(client, {
    kind: 'LOCAL_COLLECT', reference: attempt.attempt_no, currency: trade.currency, description,
    entries: [
      charge.channel === 'coin'
        ? { account: appCoinReserve(trade.app_id, trade.currency), side: 'DEBIT', amountMinor: attempt.amount_minor }
        : { account: account.available, side: 'DEBIT', amountMinor: attempt.amount_minor },
      { account: clearing, side: 'CREDIT', amountMinor: attempt.amount_minor },
    ],
  });
  if (charge.channel === 'coin') {
    // After the reserve posting, as a coin recharge posts them: the same order keeps their shard locks from crossing.
    await context.ledger.post(client, {
      kind: 'COIN_SPEND', reference: attempt.attempt_no, currency: account.currency, description,
      entries: [
        { account: account.available, side: 'DEBIT', amountMinor: charge.units },
        { account: appCoinIssued(trade.app_id, account.coinUnit!), side: 'CREDIT', amountMinor: charge.units },
      ],
    });
  }
  await repository.insertLocalPayment(client, {
    attempt_no: attempt.attempt_no, trade_no: trade.trade_no, channel: charge.channel, user_id: charge.user.user_id, account_no: account.accountNo,
    units: charge.units, coins_per_unit: charge.coinsPerUnit, authorized_by: authorizedBy,
  });
  if (charge.channel === 'credit') await openBill(context, client, { ...trade, amount_minor: attempt.amount_minor }, account);
  return attempt.attempt_no;
}

/**
 * Gives a refund of a local payment back to the account that paid, in the transaction that writes the
 * refund (the trade row locked by the caller). It finishes an operation the account already allowed, so a
 * frozen or blacklisted account still gets its money back (a completion posting).
 */
export async function refundToPayer(context: Context, client: Client, trade: TradeRef, refund: { refund_no: string; attempt_no: string; amount_minor: bigint }): Promise<void> {
  const payment = await repository.findLocalPayment(client, refund.attempt_no);
  if (!payment) throw new Error(`attempt ${refund.attempt_no} is not a local payment`);
  const row = await findUserAccountByNo(client, payment.account_no);
  if (!row) throw new Error(`account ${payment.account_no} of local payment ${payment.attempt_no} is missing`);
  // Nothing is checked on money coming back, so nothing is locked here (the credit refund locks what it checks).
  const account = await withBalances(client, row, false);
  const clearing = { account: channelClearing(payment.channel, trade.currency), side: 'DEBIT' as const, amountMinor: refund.amount_minor };
  const description = `refund ${refund.refund_no} of trade ${trade.trade_no}`;
  if (payment.channel === 'credit') {
    await refundToCredit(context, client, trade, account, refund, clearing);
    return;
  }
  if (payment.channel === 'balance') {
    await context.ledger.post(client, {
      kind: 'LOCAL_REFUND', reference: refund.refund_no, currency: trade.currency, description, completion: true,
      entries: [clearing, { account: account.available, side: 'CREDIT', amountMinor: refund.amount_minor }],
    });
    return;
  }
  const coins = coinsFor(refund.amount_minor, trade.currency, payment.coins_per_unit!);
  if (coins === null) fail(errors.coinFraction, `a refund of ${formatAmount(refund.amount_minor, trade.currency)} ${trade.currency} at ${payment.coins_per_unit} coins per unit needs part of a coin`);
  await context.ledger.post(client, {
    kind: 'LOCAL_REFUND', reference: refund.refund_no, currency: trade.currency, description,
    entries: [clearing, { account: appCoinReserve(trade.app_id, trade.currency), side: 'CREDIT', amountMinor: refund.amount_minor }],
  });
  await context.ledger.post(client, {
    kind: 'COIN_REFUND', reference: refund.refund_no, currency: account.currency, description, completion: true,
    entries: [
      { account: appCoinIssued(trade.app_id, account.coinUnit!), side: 'DEBIT', amountMinor: coins },
      { account: account.available, side: 'CREDIT', amountMinor: coins },
    ],
  });
}
