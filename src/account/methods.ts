/**
 * The gateway methods of users, accounts and money in and out: tongbao.user.*, tongbao.account.balance.query
 * and tongbao.fund.*. Users are created by tongbao.user.create, or implicitly the first time an app names a
 * new out_user_id as the one receiving money (recharge, transfer or payout payee).
 */
import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { defineMethod, type GatewayMethod } from '../gateway/methods.js';
import { payAnswer, payTrade } from '../trade/index.js';
import { merchantAccounts } from './merchant-accounts.js';
import * as repository from './repository.js';
import type { UserRow } from './repository.js';
import { rechargeFields } from './recharge.js';
import { moveFunds, type FundTransferRow, type UserRef } from './transfers.js';
import { coinsFor, formatUnits, parseUnits } from './units.js';
import { accountCurrency, assertCanCredit, findOrCreateUser, requireUser, userAccount, withBalances } from './users.js';
import { findMerchantWithdrawal, merchantWithdraw, merchantWithdrawalFields } from './merchant-withdrawals.js';
import { findWithdrawal, withdraw, withdrawalFields } from './withdrawals.js';

const identifier = (description: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description });
const amount = (description: string) => Type.Union([Type.String({ maxLength: 32 }), Type.Number()], { description });
const currency = Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'default CNY' }));
const userFields = {
  user_id: Type.Optional(identifier("Tongbao's user number")),
  out_user_id: Type.Optional(identifier("the app's own user id")),
};
const accountType = Type.Union([Type.Literal('WALLET'), Type.Literal('COIN')]);
const coinUnit = Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,15}$', description: 'COIN only: the coin unit code' }));

function userFieldsOf(user: UserRow): Record<string, string | undefined> {
  return { user_id: user.user_id, out_user_id: user.out_user_id, user_status: user.status, real_name_verified: user.verified_at ? 'Y' : 'N' };
}

/** WALLET takes a currency, COIN a coin unit; the other field must be absent. */
function currencyOrUnit(type: 'WALLET' | 'COIN', biz: { currency?: string | undefined; coin_unit?: string | undefined }): string {
  if (type === 'COIN') {
    if (biz.coin_unit === undefined) fail(errors.missingParameter, 'coin_unit is required for account_type COIN');
    if (biz.currency !== undefined) fail(errors.invalidParameter, 'currency is not taken with account_type COIN: the coin unit decides it');
    return biz.coin_unit;
  }
  if (biz.coin_unit !== undefined) fail(errors.invalidParameter, 'coin_unit is only for account_type COIN');
  return biz.currency ?? 'CNY';
}

function transferFields(order: FundTransferRow): Record<string, string | undefined> {
  return {
    transfer_no: order.transfer_no, out_biz_no: order.out_biz_no, payer_type: order.payer_type, payer_account_no: order.payer_account_no ?? undefined,
    payee_account_no: order.payee_account_no, amount: formatUnits(order.amount_minor, order.currency), status: 'SUCCESS',
  };
}

function payeeRef(biz: { payee_user_id?: string | undefined; payee_out_user_id?: string | undefined }): UserRef {
  if (biz.payee_user_id === undefined && biz.payee_out_user_id === undefined) fail(errors.missingParameter, 'payee_user_id or payee_out_user_id is required');
  return { user_id: biz.payee_user_id, out_user_id: biz.payee_out_user_id };
}

async function accountsAnswer(context: Context, user: UserRow) {
  const rows = await repository.listUserAccounts(context.pool, user.user_id);
  const accounts = await Promise.all(rows.map((row) => withBalances(context.pool, row, false)));
  return {
    ...userFieldsOf(user),
    accounts: accounts.map((account) => ({
      account_no: account.accountNo,
      account_type: account.type,
      currency: account.coinUnit === null ? account.currency : undefined,
      coin_unit: account.coinUnit ?? undefined,
      status: account.status,
      available_amount: formatUnits(account.availableMinor, account.currency),
      frozen_amount: formatUnits(account.frozenMinor, account.currency),
      credit_limit: account.creditLimitMinor === null ? undefined : formatUnits(account.creditLimitMinor, account.currency),
    })),
  };
}

/** What a withdrawal, a user's or the merchant's, says about the money and where it goes. */
const payoutFields = {
  amount: amount('decimal string in currency'),
  currency,
  payee_type: Type.Union([Type.Literal('BANK_CARD'), Type.Literal('ALIPAY_ACCOUNT'), Type.Literal('WECHAT_OPENID')]),
  payee_identity: Type.String({ minLength: 4, maxLength: 128, description: 'card number or account; sent to the channel, stored masked' }),
  payee_name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  remark: Type.Optional(Type.String({ maxLength: 256 })),
  channel: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'default sandbox' })),
  notify_url: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' })),
};

export const accountMethods: GatewayMethod[] = [
  defineMethod('tongbao.user.create', Type.Object({ out_user_id: identifier("the app's own user id, unique per app") }), async (context, call, biz) => {
    const user = await withTransaction(context.pool, (client) => findOrCreateUser(client, call.app.app_id, biz.out_user_id));
    return userFieldsOf(user);
  }),

  defineMethod('tongbao.user.account.query', Type.Object(userFields), async (context, call, biz) =>
    accountsAnswer(context, await requireUser(context.pool, call.app.app_id, biz))),

  defineMethod('tongbao.account.balance.query', Type.Object({ currency }), async (context, call, biz) => {
    const accounts = (await merchantAccounts(context.pool, call.app.merchant_id)).filter((account) => biz.currency === undefined || account.currency === biz.currency);
    return {
      merchant_id: call.app.merchant_id,
      accounts: accounts.map((account) => ({
        currency: account.currency, available_amount: formatUnits(account.availableMinor, account.currency), frozen_amount: formatUnits(account.frozenMinor, account.currency),
      })),
    };
  }),

  // 充值: a trade whose success credits the user's account; paid, queried and called back like any trade.
  defineMethod('tongbao.fund.recharge', Type.Object({
    out_trade_no: identifier('the recharge order number; shares the app\'s out_trade_no space with its trades'),
    ...userFields,
    account_type: Type.Optional(accountType),
    coin_unit: coinUnit,
    total_amount: amount('what the user pays, in currency'),
    currency,
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    channel: Type.String({ minLength: 1, maxLength: 32 }),
    timeout_express: Type.Optional(Type.String({ maxLength: 8 })),
    notify_url: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' })),
  }), async (context, call, biz) => {
    if (biz.user_id === undefined && biz.out_user_id === undefined) fail(errors.missingParameter, 'user_id or out_user_id is required');
    const type = biz.account_type ?? 'WALLET';
    const target = await withTransaction(context.pool, async (client) => {
      const { currency: ledgerCurrency, coinUnit } = await accountCurrency(client, call.app.app_id, type, currencyOrUnit(type, biz));
      const payCurrency = coinUnit?.currency ?? ledgerCurrency;
      if (coinUnit && biz.currency !== undefined && biz.currency !== coinUnit.currency) fail(errors.accountCurrencyMismatch, `coin ${coinUnit.code} is bought with ${coinUnit.currency}`);
      const parsed = parseUnits(biz.total_amount, payCurrency);
      if (!parsed.ok) fail(errors.invalidAmount, `total_amount ${parsed.reason}`);
      const units = coinUnit ? coinsFor(parsed.amountMinor, payCurrency, coinUnit.coins_per_unit) : parsed.amountMinor;
      if (units === null) fail(errors.invalidAmount, `total_amount buys part of a coin at ${coinUnit!.coins_per_unit} ${coinUnit!.code} per 1 ${payCurrency}`);
      if (!context.channels.get(biz.channel)) fail(errors.channelNotSupported, `channel ${biz.channel} is not enabled`);
      const user = biz.user_id !== undefined ? await requireUser(client, call.app.app_id, biz) : await findOrCreateUser(client, call.app.app_id, biz.out_user_id!);
      const account = (await userAccount(context, client, user, type, currencyOrUnit(type, biz), { create: true }))!;
      assertCanCredit(account);
      return { accountNo: account.accountNo, units, payCurrency };
    });
    const outcome = await payTrade(context, call.app, {
      out_trade_no: biz.out_trade_no, total_amount: biz.total_amount, currency: target.payCurrency, subject: biz.subject ?? 'Recharge', channel: biz.channel,
      timeout_express: biz.timeout_express, notify_url: biz.notify_url,
    }, call.notifyUrl, { accountNo: target.accountNo, units: target.units });
    return { ...payAnswer(context, outcome), ...(await rechargeFields(context.pool, outcome.trade)) };
  }),

  defineMethod('tongbao.fund.transfer', Type.Object({
    out_biz_no: identifier('the transfer number, unique per app; the idempotency key'),
    payer_type: Type.Optional(Type.Union([Type.Literal('USER'), Type.Literal('MERCHANT')], { description: "default USER; MERCHANT: the app's merchant settlement account" })),
    payer_user_id: Type.Optional(identifier('USER payer')),
    payer_out_user_id: Type.Optional(identifier('USER payer')),
    payee_user_id: Type.Optional(identifier('payee')),
    payee_out_user_id: Type.Optional(identifier('payee; created on first use')),
    account_type: Type.Optional(accountType),
    coin_unit: coinUnit,
    currency,
    amount: amount('money in currency, or whole coins'),
    remark: Type.Optional(Type.String({ maxLength: 256 })),
  }), async (context, call, biz) => {
    const type = biz.account_type ?? 'WALLET';
    const payerIsUser = (biz.payer_type ?? 'USER') === 'USER';
    if (payerIsUser && biz.payer_user_id === undefined && biz.payer_out_user_id === undefined) fail(errors.missingParameter, 'payer_user_id or payer_out_user_id is required');
    if (!payerIsUser && (biz.payer_user_id !== undefined || biz.payer_out_user_id !== undefined)) fail(errors.invalidParameter, 'a MERCHANT payer names no user');
    const order = await moveFunds(context, {
      appId: call.app.app_id, kind: 'TRANSFER', outBizNo: biz.out_biz_no,
      payer: payerIsUser ? { type: 'USER', user: { user_id: biz.payer_user_id, out_user_id: biz.payer_out_user_id } } : { type: 'MERCHANT', merchantId: call.app.merchant_id },
      payee: payeeRef(biz), accountType: type, currencyOrUnit: currencyOrUnit(type, biz), amount: biz.amount, remark: biz.remark ?? null,
    });
    return transferFields(order);
  }),

  // 代付: the app's merchant pays a user out of its settlement account, into the user's wallet.
  defineMethod('tongbao.fund.payout', Type.Object({
    out_biz_no: identifier('the payout number, unique per app; the idempotency key'),
    payee_user_id: Type.Optional(identifier('payee')),
    payee_out_user_id: Type.Optional(identifier('payee; created on first use')),
    currency,
    amount: amount('decimal string in currency'),
    remark: Type.Optional(Type.String({ maxLength: 256 })),
  }), async (context, call, biz) => {
    const order = await moveFunds(context, {
      appId: call.app.app_id, kind: 'PAYOUT', outBizNo: biz.out_biz_no, payer: { type: 'MERCHANT', merchantId: call.app.merchant_id },
      payee: payeeRef(biz), accountType: 'WALLET', currencyOrUnit: biz.currency ?? 'CNY', amount: biz.amount, remark: biz.remark ?? null,
    });
    return transferFields(order);
  }),

  defineMethod('tongbao.fund.withdraw', Type.Object({
    out_biz_no: identifier('the withdrawal number, unique per app; the idempotency key'),
    ...userFields,
    ...payoutFields,
  }), async (context, call, biz) => {
    const withdrawal = await withdraw(context, call.app, biz, call.notifyUrl);
    return withdrawalFields(context, context.pool, withdrawal);
  }),

  defineMethod('tongbao.fund.withdraw.query', Type.Object({ out_biz_no: identifier('the withdrawal number') }), async (context, call, biz) => {
    const withdrawal = await findWithdrawal(context.pool, call.app.app_id, biz.out_biz_no);
    if (!withdrawal) fail(errors.fundOrderNotExist, `no withdrawal ${biz.out_biz_no} for this app`);
    return withdrawalFields(context, context.pool, withdrawal);
  }),

  // 商户提现: the app's merchant withdraws from its own settlement account; kept apart from users' withdrawals.
  defineMethod('tongbao.fund.merchant.withdraw', Type.Object({
    out_biz_no: identifier('the merchant withdrawal number, unique per app; the idempotency key'),
    ...payoutFields,
  }), async (context, call, biz) => merchantWithdrawalFields(context, await merchantWithdraw(context, call.app, biz, call.notifyUrl))),

  defineMethod('tongbao.fund.merchant.withdraw.query', Type.Object({ out_biz_no: identifier('the merchant withdrawal number') }), async (context, call, biz) => {
    const withdrawal = await findMerchantWithdrawal(context.pool, call.app.app_id, biz.out_biz_no);
    if (!withdrawal) fail(errors.fundOrderNotExist, `no merchant withdrawal ${biz.out_biz_no} for this app`);
    return merchantWithdrawalFields(context, withdrawal);
  }),
];
