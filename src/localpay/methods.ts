/**
 * Gateway methods of local payments: the pay password and password-free payments of a user
 * (tongbao.user.paypassword.set, tongbao.user.nopassword.set), and credit bills (tongbao.credit.repay,
 * tongbao.credit.bill.query). Paying itself is tongbao.trade.pay with channel balance, coin or credit.
 */
import { Type } from '@sinclair/typebox';
import { requireUser, userAccount } from '../account/index.js';
import { errors, fail } from '../errors.js';
import { defineMethod, type GatewayMethod } from '../gateway/methods.js';
import { formatAmount, isSupportedCurrency } from '../shared/money.js';
import { compact } from '../trade/index.js';
import * as creditRepository from './credit-repository.js';
import type { BillRow } from './credit-repository.js';
import { repayCredit } from './credit.js';
import { setPayPassword } from './password.js';
import { setNoPassword } from './settings.js';

const identifier = (description: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description });
const amount = (description: string) => Type.Union([Type.String({ maxLength: 32 }), Type.Number()], { description });
// No pattern on passwords: a validation message must never echo one back.
const password = (description: string) => Type.String({ minLength: 1, maxLength: 32, description });
const currency = Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'default CNY' }));
const userFields = {
  user_id: Type.Optional(identifier("Tongbao's user number")),
  out_user_id: Type.Optional(identifier("the app's own user id")),
};

/** The payer fields tongbao.trade.pay takes for channel balance, coin and credit. */
export const localPayerFields = {
  ...userFields,
  pay_password: Type.Optional(password('balance, coin, credit: the payer\'s pay password; may be left out for a password-free payment')),
  coin_unit: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,15}$', description: 'channel coin only: the coin unit paid with' })),
};

export function billFields(bill: BillRow): Record<string, string> {
  const money = (minor: bigint) => formatAmount(minor, bill.currency);
  return {
    bill_no: bill.bill_no, trade_no: bill.trade_no, user_id: bill.user_id, currency: bill.currency, amount: money(bill.amount_minor),
    repaid_amount: money(bill.repaid_minor), refunded_amount: money(bill.refunded_minor), owed_amount: money(creditRepository.owedOf(bill)),
    statement_date: bill.statement_date, due_date: bill.due_date, status: bill.status,
  };
}

export const localPayMethods: GatewayMethod[] = [
  defineMethod('tongbao.user.paypassword.set', Type.Object({
    ...userFields,
    pay_password: password('the new pay password: 6 digits'),
    old_pay_password: Type.Optional(password('the current one; required to change a password already set')),
  }), async (context, call, biz) => {
    const user = await requireUser(context.pool, call.app.app_id, biz);
    await setPayPassword(context, user.user_id, biz.pay_password, biz.old_pay_password);
    return { user_id: user.user_id, out_user_id: user.out_user_id, pay_password_set: 'Y' };
  }),

  defineMethod('tongbao.user.nopassword.set', Type.Object({
    ...userFields,
    enabled: Type.Boolean(),
    single_limit: Type.Optional(amount('enabled only: the most one payment may be without a password')),
    currency,
    pay_password: Type.Optional(password('required to enable')),
  }), async (context, call, biz) => {
    const user = await requireUser(context.pool, call.app.app_id, biz);
    const settings = await setNoPassword(context, user, biz);
    const money = (minor: bigint | null) => (minor === null ? undefined : formatAmount(minor, settings.currency));
    return compact({
      user_id: user.user_id, out_user_id: user.out_user_id, currency: settings.currency, enabled: settings.singleLimitMinor === null ? 'N' : 'Y',
      single_limit: money(settings.singleLimitMinor), app_max_single: money(settings.appMaxSingleMinor), app_max_daily: money(settings.appMaxDailyMinor),
    });
  }),

  defineMethod('tongbao.credit.repay', Type.Object({
    ...userFields,
    out_request_no: identifier('the app\'s repayment number, unique per app; the idempotency key'),
    amount: amount('decimal string in the currency'),
    currency,
    bill_no: Type.Optional(identifier('repay this bill only; default the oldest due bills first')),
  }), async (context, call, biz) => {
    const outcome = await repayCredit(context, call.app.app_id, biz);
    const money = (minor: bigint) => formatAmount(minor, outcome.repayment.currency);
    return {
      ...compact({
        repay_no: outcome.repayment.repay_no, out_request_no: outcome.repayment.out_request_no, user_id: outcome.repayment.user_id,
        currency: outcome.repayment.currency, amount: money(outcome.repayment.amount_minor), bill_no: outcome.repayment.bill_no ?? undefined,
        owed_amount: money(outcome.owedMinor), status: 'SUCCESS',
      }),
      bills: outcome.items.map((item) => ({ bill_no: item.bill_no, repaid_amount: money(item.amount_minor) })),
    };
  }),

  defineMethod('tongbao.credit.bill.query', Type.Object({
    ...userFields,
    currency,
    bill_no: Type.Optional(identifier('one bill')),
    status: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('OVERDUE'), Type.Literal('PAID')])),
  }), async (context, call, biz) => {
    const user = await requireUser(context.pool, call.app.app_id, biz);
    const currencyCode = biz.currency ?? 'CNY';
    if (!isSupportedCurrency(currencyCode)) fail(errors.currencyNotSupported, `currency ${currencyCode} is not supported`);
    const bills = (await creditRepository.listBills(context.pool, { appId: call.app.app_id, userId: user.user_id, billNo: biz.bill_no, status: biz.status }, 500, 0))
      .filter((bill) => bill.currency === currencyCode);
    if (biz.bill_no !== undefined && bills.length === 0) fail(errors.creditBillNotExist, `user ${user.user_id} has no bill ${biz.bill_no} in ${currencyCode}`);
    const account = await userAccount(context, context.pool, user, 'CREDIT', currencyCode);
    return {
      ...compact({
        user_id: user.user_id, out_user_id: user.out_user_id, currency: currencyCode,
        credit_limit: account?.creditLimitMinor === null || account === undefined ? undefined : formatAmount(account.creditLimitMinor, currencyCode),
        available_credit: account ? formatAmount(account.availableMinor, currencyCode) : undefined,
        owed_amount: formatAmount(await creditRepository.owedTotal(context.pool, user.user_id, currencyCode), currencyCode),
      }),
      bills: bills.map(billFields),
    };
  }),
];
