/**
 * Credit payments (信用支付): a payment draws on the user's credit line and opens a bill (账单) due
 * TONGBAO_CREDIT_DUE_DAYS after its statement date (the payment's business day). Repayments (还款) move money
 * from the user's wallet back to the credit line and pay the bills oldest due first, or one named bill; a
 * bill still owing after its due date is marked OVERDUE by the sweep. What the user owes on the credit
 * account (line - available - frozen) always equals what its bills still owe.
 */
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { isUniqueViolation, withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import {
  assertCanCredit, assertCanDebit, findUserById, lockUserAccounts, requireUser, requireUserAccount, userAccount, type UserAccount,
} from '../account/index.js';
import type { Entry } from '../ledger/index.js';
import { formatAmount, parseAmount } from '../shared/money.js';
import { formatWallClock } from '../shared/time.js';
import * as repository from './credit-repository.js';
import type { BillRow, RepaymentRow } from './credit-repository.js';

export function businessDate(context: Context, at = now()): string {
  return formatWallClock(at, context.config.TONGBAO_TIMEZONE).slice(0, 10);
}

/** Opens the bill of a credit payment, in the payment's transaction. */
export async function openBill(
  context: Context, client: Client, trade: { trade_no: string; app_id: string; currency: string; amount_minor: bigint }, account: UserAccount,
): Promise<BillRow> {
  const bill = await repository.insertBill(client, {
    appId: trade.app_id, userId: account.userId, accountNo: account.accountNo, tradeNo: trade.trade_no, currency: trade.currency,
    amountMinor: trade.amount_minor, statementDate: businessDate(context), dueDays: context.config.TONGBAO_CREDIT_DUE_DAYS,
  });
  await recordEvent(client, 'credit_bill', bill.bill_no, 'credit_bill.opened', { trade_no: trade.trade_no, amount_minor: trade.amount_minor, due_date: bill.due_date });
  return bill;
}

/**
 * A refund of a credit payment first pays what its bill still owes (the line is restored by that much); what
 * the user already repaid comes back to the user's wallet in the same currency, as money.
 */
export async function refundToCredit(
  context: Context, client: Client, trade: { trade_no: string; currency: string }, account: UserAccount,
  refund: { refund_no: string; amount_minor: bigint }, clearing: Entry,
): Promise<void> {
  // Accounts before bills, both accounts in one statement: the order repayCredit takes them in.
  const user = (await findUserById(client, account.userId))!;
  const wallet = (await userAccount(context, client, user, 'WALLET', trade.currency, { create: true }))!;
  await lockUserAccounts(client, [account, wallet]);
  const bill = await repository.findBillByTrade(client, trade.trade_no, true);
  if (!bill) throw new Error(`credit trade ${trade.trade_no} has no bill`);
  const toLine = repository.owedOf(bill) < refund.amount_minor ? repository.owedOf(bill) : refund.amount_minor;
  const toWallet = refund.amount_minor - toLine;
  const entries: Entry[] = [clearing];
  if (toLine > 0n) {
    entries.push({ account: account.available, side: 'CREDIT', amountMinor: toLine });
    await repository.coverBill(client, bill.bill_no, 'refunded_minor', toLine);
  }
  if (toWallet > 0n) entries.push({ account: wallet.available, side: 'CREDIT', amountMinor: toWallet });
  await context.ledger.post(client, {
    kind: 'LOCAL_REFUND', reference: refund.refund_no, currency: trade.currency, description: `refund ${refund.refund_no} of credit trade ${trade.trade_no}`, completion: true, entries,
  });
}

export interface RepayInput {
  user_id?: string | undefined;
  out_user_id?: string | undefined;
  out_request_no: string;
  amount: string | number;
  currency?: string | undefined;
  bill_no?: string | undefined;
}

export interface RepayOutcome {
  repayment: RepaymentRow;
  items: { bill_no: string; amount_minor: bigint }[];
  owedMinor: bigint;
}

function sameRepayment(existing: RepaymentRow, userId: string, amountMinor: bigint, currency: string, billNo: string | null): RepaymentRow {
  if (existing.user_id !== userId || existing.amount_minor !== amountMinor || existing.currency !== currency || existing.bill_no !== billNo) {
    fail(errors.repayRequestConflict, `out_request_no ${existing.out_request_no} was used for a repayment of ${formatAmount(existing.amount_minor, existing.currency)} ${existing.currency}${existing.bill_no ? ` of bill ${existing.bill_no}` : ''}`);
  }
  return existing;
}

async function outcomeOf(client: Client, repayment: RepaymentRow): Promise<RepayOutcome> {
  return { repayment, items: await repository.listRepaymentItems(client, repayment.repay_no), owedMinor: await repository.owedTotal(client, repayment.user_id, repayment.currency) };
}

/**
 * tongbao.credit.repay from the user's wallet: idempotent on out_request_no (the same request answers the
 * same repayment, a different one is refused), partial repayments allowed, more than is owed refused.
 * Wallet, credit account and bills are locked in this transaction, so parallel repayments cannot both pay
 * the same debt.
 */
export async function repayCredit(context: Context, appId: string, input: RepayInput): Promise<RepayOutcome> {
  const currency = input.currency ?? 'CNY';
  const parsed = parseAmount(input.amount, currency);
  if (!parsed.ok) fail(errors.invalidAmount, `amount ${parsed.reason}`);
  const amountMinor = parsed.amountMinor;
  const billNo = input.bill_no ?? null;
  try {
    return await withTransaction(context.pool, async (client) => {
      const user = await requireUser(client, appId, input);
      const existing = await repository.findRepayment(client, appId, input.out_request_no);
      if (existing) return outcomeOf(client, sameRepayment(existing, user.user_id, amountMinor, currency, billNo));
      const [credit, wallet] = await lockUserAccounts(client, [
        await requireUserAccount(context, client, user, 'CREDIT', currency),
        await requireUserAccount(context, client, user, 'WALLET', currency),
      ]);
      const bills = await repository.lockOwingBills(client, user.user_id, currency, billNo);
      if (billNo !== null && bills.length === 0) {
        const [bill] = await repository.listBills(client, { appId, userId: user.user_id, billNo }, 1, 0);
        if (!bill) fail(errors.creditBillNotExist, `user ${user.user_id} has no bill ${billNo}`);
        if (bill.currency !== currency) fail(errors.accountCurrencyMismatch, `bill ${billNo} is in ${bill.currency}, not ${currency}`);
        fail(errors.repayAmountExceeded, `bill ${billNo} is paid; nothing is owed on it`);
      }
      const owed = bills.reduce((total, bill) => total + repository.owedOf(bill), 0n);
      if (amountMinor > owed) fail(errors.repayAmountExceeded, `${billNo ? `bill ${billNo}` : `user ${user.user_id}`} owes ${formatAmount(owed, currency)} ${currency}; ${formatAmount(amountMinor, currency)} is more`);
      assertCanDebit(wallet!, amountMinor);
      assertCanCredit(credit!);
      const repayment = await repository.insertRepayment(client, {
        app_id: appId, out_request_no: input.out_request_no, user_id: user.user_id, credit_account_no: credit!.accountNo,
        source_account_no: wallet!.accountNo, bill_no: billNo, currency, amount_minor: amountMinor,
      });
      let left = amountMinor;
      for (const bill of bills) {
        if (left === 0n) break;
        const part = repository.owedOf(bill) < left ? repository.owedOf(bill) : left;
        await repository.coverBill(client, bill.bill_no, 'repaid_minor', part);
        await repository.insertRepaymentItem(client, repayment.repay_no, bill.bill_no, part);
        left -= part;
      }
      await context.ledger.post(client, {
        kind: 'CREDIT_REPAY', reference: repayment.repay_no, currency, description: `repayment ${input.out_request_no}`,
        entries: [
          { account: wallet!.available, side: 'DEBIT', amountMinor },
          { account: credit!.available, side: 'CREDIT', amountMinor },
        ],
      });
      await recordEvent(client, 'credit_repayment', repayment.repay_no, 'credit_repayment.succeeded', { user_id: user.user_id, amount_minor: amountMinor, currency });
      return outcomeOf(client, repayment);
    });
  } catch (error) {
    if (!isUniqueViolation(error, 'credit_repayments_app_id_out_request_no_key')) throw error;
    // A parallel call with the same out_request_no won; answer as it did.
    return withTransaction(context.pool, async (client) => {
      const user = await requireUser(client, appId, input);
      const winner = (await repository.findRepayment(client, appId, input.out_request_no))!;
      return outcomeOf(client, sameRepayment(winner, user.user_id, amountMinor, currency, billNo));
    });
  }
}

/** Bounded work per sweep; a backlog drains over successive minutes. */
const sweepBatchSize = 1000;

/** The sweep: bills past their due date (in business time, so the test clock moves it) become OVERDUE. */
export async function markOverdueBills(context: Context): Promise<number> {
  const count = await repository.markOverdue(context.pool, businessDate(context), sweepBatchSize);
  if (count > 0) context.log.info({ count }, 'credit bills overdue');
  return count;
}
