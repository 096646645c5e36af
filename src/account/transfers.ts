/**
 * Transfers inside Tongbao (tongbao.fund.transfer) and payouts into a user's wallet (tongbao.fund.payout): one
 * balanced posting in the transaction that records the order, idempotent on the app's out_biz_no.
 */
import type { Context } from '../context.js';
import { withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { merchantPending, platformFeeIncome, type AccountSpec } from '../ledger/index.js';
import type { AccountType, UserRow } from './repository.js';
import * as repository from './repository.js';
import { formatUnits, parseUnits } from './units.js';
import { assertCanCredit, assertCanDebit, findOrCreateUser, lockUserAccounts, requireUser, userAccount, type UserAccount } from './users.js';

export interface FundTransferRow {
  transfer_no: string;
  app_id: string;
  kind: 'TRANSFER' | 'PAYOUT';
  out_biz_no: string;
  payer_type: 'USER' | 'MERCHANT' | 'PLATFORM';
  payer_account_no: string | null;
  payer_merchant_id: string | null;
  payee_account_no: string;
  currency: string;
  amount_minor: bigint;
  remark: string | null;
  created_at: Date;
}

export interface UserRef {
  user_id?: string | undefined;
  out_user_id?: string | undefined;
}

export type Payer = { type: 'USER'; user: UserRef } | { type: 'MERCHANT'; merchantId: string } | { type: 'PLATFORM' };

export interface MoveInput {
  appId: string;
  kind: 'TRANSFER' | 'PAYOUT';
  outBizNo: string;
  payer: Payer;
  payee: UserRef;
  accountType: AccountType;
  /** The currency (WALLET, CREDIT) or coin unit (COIN). */
  currencyOrUnit: string;
  amount: string | number;
  remark: string | null;
}

/** A user's account in this currency, or the precise reason there is none (another currency, or none at all). */
async function payerAccount(context: Context, client: Client, user: UserRow, type: AccountType, currencyOrUnit: string): Promise<UserAccount> {
  const account = await userAccount(context, client, user, type, currencyOrUnit);
  if (account) return account;
  const others = (await repository.listUserAccounts(client, user.user_id)).filter((row) => row.type === type);
  if (others.length > 0) fail(errors.accountCurrencyMismatch, `user ${user.user_id} has no ${type} account in ${currencyOrUnit}; it has ${others.map((row) => row.coin_unit ?? row.currency).join(', ')}`);
  fail(errors.accountNotExist, `user ${user.user_id} has no ${type} account`);
}

/** Refuses a repeated out_biz_no whose parameters differ; returns the earlier order when they agree. */
function sameOrder(existing: FundTransferRow, expected: Omit<FundTransferRow, 'transfer_no' | 'created_at' | 'remark'>): FundTransferRow {
  const same = existing.payer_type === expected.payer_type && existing.payer_account_no === expected.payer_account_no
    && existing.payer_merchant_id === expected.payer_merchant_id && existing.payee_account_no === expected.payee_account_no
    && existing.currency === expected.currency && existing.amount_minor === expected.amount_minor;
  if (!same) fail(errors.fundOrderConflict, `out_biz_no ${existing.out_biz_no} was already used for ${formatUnits(existing.amount_minor, existing.currency)} to account ${existing.payee_account_no}`);
  return existing;
}

async function findOrder(client: Client | Context['pool'], appId: string, kind: string, outBizNo: string): Promise<FundTransferRow | undefined> {
  const { rows } = await client.query<FundTransferRow>('select * from fund_transfers where app_id = $1 and kind = $2 and out_biz_no = $3', [appId, kind, outBizNo]);
  return rows[0];
}

/** The spec and balance of a merchant or platform payer, locked; its balance must cover the amount. */
async function lockInstitutionPayer(context: Context, client: Client, payer: Payer, currency: string, amountMinor: bigint): Promise<AccountSpec> {
  const spec = payer.type === 'MERCHANT' ? merchantPending(payer.merchantId, currency) : platformFeeIncome(currency);
  const row = await context.ledger.account(client, spec);
  const { rows } = await client.query<{ balance_minor: bigint }>('select balance_minor from ledger_balances where account_id = $1 order by shard for update', [row.account_id]);
  const balance = rows.reduce((sum, shard) => sum + shard.balance_minor, 0n);
  if (balance < amountMinor) fail(errors.balanceNotEnough, `the ${payer.type === 'MERCHANT' ? "merchant's settlement" : "platform's"} account has ${formatUnits(balance, currency)} ${currency}, ${formatUnits(amountMinor, currency)} asked`);
  return spec;
}

/**
 * Moves money from the payer to the payee's account. Checks run under the accounts' row locks (taken in one
 * statement, in account order, so opposite transfers cannot deadlock); post_journal enforces them again.
 * Parallel identical requests: the unique (app_id, kind, out_biz_no) lets one insert; the others read it.
 */
export async function moveFunds(context: Context, input: MoveInput): Promise<FundTransferRow> {
  if (input.payer.type !== 'USER' && input.accountType !== 'WALLET') fail(errors.invalidParameter, 'merchants and the platform pay into WALLET accounts only');
  const payerUser = input.payer.type === 'USER' ? input.payer.user : null;
  if (payerUser && ((payerUser.user_id !== undefined && payerUser.user_id === input.payee.user_id)
    || (payerUser.out_user_id !== undefined && payerUser.out_user_id === input.payee.out_user_id))) {
    fail(errors.transferToSelf, 'payer and payee are the same user');
  }
  const moved = await withTransaction(context.pool, async (client) => {
    const payee = input.payee.user_id !== undefined
      ? await requireUser(client, input.appId, input.payee)
      : await findOrCreateUser(client, input.appId, input.payee.out_user_id ?? fail(errors.missingParameter, 'payee_user_id or payee_out_user_id is required'));
    const payerRow = payerUser ? await requireUser(client, input.appId, payerUser) : null;
    if (payerRow?.user_id === payee.user_id) fail(errors.transferToSelf, `payer and payee are both user ${payee.user_id}`);
    const from = payerRow ? await payerAccount(context, client, payerRow, input.accountType, input.currencyOrUnit) : null;
    const to = (await userAccount(context, client, payee, input.accountType, input.currencyOrUnit, { create: true }))!;
    const parsed = parseUnits(input.amount, to.currency);
    if (!parsed.ok) fail(errors.invalidAmount, `amount ${parsed.reason}`);
    const amountMinor = parsed.amountMinor;

    const earlier = await findOrder(client, input.appId, input.kind, input.outBizNo);
    const expected = {
      app_id: input.appId, kind: input.kind, out_biz_no: input.outBizNo, payer_type: input.payer.type, payer_account_no: from?.accountNo ?? null,
      payer_merchant_id: input.payer.type === 'MERCHANT' ? input.payer.merchantId : null, payee_account_no: to.accountNo, currency: to.currency, amount_minor: amountMinor,
    };
    if (earlier) return sameOrder(earlier, expected);

    const [lockedTo, lockedFrom] = await lockUserAccounts(client, from ? [to, from] : [to]);
    assertCanCredit(lockedTo!);
    let source: AccountSpec;
    if (lockedFrom) {
      assertCanDebit(lockedFrom, amountMinor);
      source = lockedFrom.available;
    } else {
      source = await lockInstitutionPayer(context, client, input.payer, to.currency, amountMinor);
    }
    const { rows } = await client.query<FundTransferRow>(
      `insert into fund_transfers (transfer_no, app_id, kind, out_biz_no, payer_type, payer_account_no, payer_merchant_id, payee_account_no, currency, amount_minor, remark)
       values ('F' || next_business_no(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (app_id, kind, out_biz_no) do nothing returning *`,
      [input.appId, input.kind, input.outBizNo, input.payer.type, expected.payer_account_no, expected.payer_merchant_id, to.accountNo, to.currency, amountMinor, input.remark],
    );
    const order = rows[0];
    if (!order) return { expected };
    await recordEvent(client, 'account', to.accountNo, input.kind === 'TRANSFER' ? 'account.transfer_in' : 'account.payout_in', {
      transfer_no: order.transfer_no, payer_type: order.payer_type, payer_account_no: order.payer_account_no, amount_minor: amountMinor, currency: to.currency,
    });
    await context.ledger.post(client, {
      kind: input.kind, reference: order.transfer_no, currency: to.currency, description: `${input.kind.toLowerCase()} ${input.outBizNo}`,
      entries: [{ account: source, side: 'DEBIT', amountMinor }, { account: lockedTo!.available, side: 'CREDIT', amountMinor }],
    });
    return order;
  });
  if ('expected' in moved) {
    // A parallel identical request inserted the order first and has committed: answer with it.
    return sameOrder((await findOrder(context.pool, input.appId, input.kind, input.outBizNo))!, moved.expected);
  }
  return moved;
}

export { findOrder as findFundOrder };
