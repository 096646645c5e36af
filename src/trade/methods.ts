import { Type } from '@sinclair/typebox';
import { resolveAgreementPayer } from '../agreement/index.js';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { defineMethod, type GatewayCall, type GatewayMethod } from '../gateway/methods.js';
import { cancelTrade } from './cancel.js';
import { closeTradeByMerchant } from './close.js';
import { createTrade } from './create.js';
import { modifyTradeAmount } from './modify.js';
import { existingPaymentRequest, newPaymentRequest, payTrade, type PayOutcome } from './pay.js';
import { planRoute } from '../routing/router.js';
import { localPayerFields } from '../localpay/index.js';
import { compact, createPresenter, refundFields, settlementFields, tradeFields } from './present.js';
import { refundTrade } from './refund.js';
import * as repository from './repository.js';
import { confirmTrade, settleTrade } from './settle.js';

const identifier = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const amount = (description: string) => Type.Union([Type.String({ maxLength: 32 }), Type.Number()], { description });

/** Profit-sharing receivers; their number is limited (and refused with a precise code) in royalty.ts. */
const royaltyParameters = Type.Array(Type.Object({
  trans_in_type: Type.Union([Type.Literal('MERCHANT'), Type.Literal('PLATFORM')]),
  trans_in: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'the receiving merchant_id (MERCHANT only)' })),
  amount: amount('the receiver\'s share, in the trade currency'),
}, { additionalProperties: false }), { minItems: 1 });

const createFields = {
  out_trade_no: identifier('the merchant order number, unique per app'),
  total_amount: amount('decimal string in the currency major unit, e.g. "12.34"'),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  subject: Type.String({ minLength: 1, maxLength: 256 }),
  body: Type.Optional(Type.String({ maxLength: 1000 })),
  timeout_express: Type.Optional(Type.String({ maxLength: 8 })),
  notify_url: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' })),
  passback_params: Type.Optional(Type.String({ maxLength: 512 })),
  trade_type: Type.Optional(Type.Union([Type.Literal('INSTANT'), Type.Literal('ESCROW')])),
  escrow_amount: Type.Optional(amount('ESCROW only: the part held in escrow until settled; default all of total_amount')),
  royalty_parameters: Type.Optional(royaltyParameters),
};

const tradeLookup = {
  trade_no: Type.Optional(identifier('Tongbao trade number')),
  out_trade_no: Type.Optional(identifier('merchant order number')),
};

async function findTradeOrFail(context: Context, call: GatewayCall, lookup: { trade_no?: string | undefined; out_trade_no?: string | undefined }) {
  if (lookup.trade_no === undefined && lookup.out_trade_no === undefined) fail(errors.missingParameter, 'out_trade_no or trade_no is required');
  const trade = await repository.findTrade(context.pool, call.app.app_id, { tradeNo: lookup.trade_no, outTradeNo: lookup.out_trade_no });
  if (!trade) fail(errors.tradeNotExist, `no trade ${lookup.trade_no ?? lookup.out_trade_no} for this app`);
  return trade;
}

/** How the payer pays at the channel, for pay and page.pay; passed to the channel, never stored. */
const payerFields = {
  preferred_channel: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "the payer's own choice; favoured by the router when no channel is named" })),
  product: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "one of the channel's products; default its first" })),
  payer_type: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  payer_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'the payer at the channel: openid, buyer id, payment method id, card token' })),
};

/** The answer of a pay call: declines and unknown results as errors, a pending one with the payer's next step. */
export function payAnswer(context: Context, outcome: PayOutcome): Record<string, unknown> {
  const result = outcome.result;
  if (result?.status === 'FAILED') {
    if (result.code === 'CHANNEL_UNAVAILABLE') fail(errors.channelUnavailable, `${result.message}; nothing was charged and the trade can be paid again`);
    fail(result.code === 'INSUFFICIENT_FUNDS' ? errors.buyerBalanceNotEnough : errors.paymentDeclined, `the channel declined the payment: ${result.code} ${result.message}`);
  }
  if (result?.status === 'UNKNOWN') {
    fail(errors.systemError, `the channel result is not known yet (${result.reason}); Tongbao is querying it; query trade ${outcome.trade.trade_no} or wait for the notification`);
  }
  const payerAction = result?.status === 'PENDING' ? result.payerAction : undefined;
  return { ...compact({ ...tradeFields(presenter(context), outcome.trade), attempt_no: outcome.attempt?.attempt_no }), ...(payerAction ? { payer_action: payerAction } : {}) };
}

function presenter(context: Context) {
  return createPresenter(context.config.TONGBAO_TIMEZONE);
}

export const tradeMethods: GatewayMethod[] = [
  defineMethod('tongbao.trade.create', Type.Object(createFields), async (context, call, biz) => {
    const { trade } = await createTrade(context, call.app, biz, call.notifyUrl);
    return compact(tradeFields(presenter(context), trade));
  }),

  defineMethod('tongbao.trade.pay', Type.Object({
    ...tradeLookup,
    ...Type.Partial(Type.Object(createFields)).properties,
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'default: the router chooses, and fails over; balance, coin or credit pay from the user\'s account' })),
    ...payerFields,
    agreement_no: Type.Optional(identifier('quick pay: a signed QUICK_PAY agreement of this app; the channel charges it without card data')),
    ...localPayerFields,
  }), async (context, call, biz) => {
    const { agreement_no: agreementNo, ...input } = biz;
    if (agreementNo !== undefined && input.payer_id !== undefined) fail(errors.invalidParameter, 'agreement_no and payer_id cannot be given together: the agreement is the payer');
    const resolvedPayer = agreementNo === undefined ? undefined : await resolveAgreementPayer(context, call.app, agreementNo, input.channel, 'QUICK_PAY');
    return payAnswer(context, await payTrade(context, call.app, { ...input, resolvedPayer }, call.notifyUrl));
  }),

  // The router's ranking for an order (支付路由), as the cashier asks for methods: every channel this app may
  // use, eligible ones best first with what their score is made of, the others with why they cannot serve it.
  defineMethod('tongbao.trade.channels.query', Type.Object({
    ...tradeLookup,
    ...Type.Partial(Type.Object({ total_amount: createFields.total_amount, currency: createFields.currency, trade_type: createFields.trade_type })).properties,
    product: payerFields.product,
    preferred_channel: payerFields.preferred_channel,
  }), async (context, call, biz) => {
    const known = biz.trade_no !== undefined || biz.out_trade_no !== undefined;
    if (known === (biz.total_amount !== undefined)) fail(errors.missingParameter, 'give either trade_no or out_trade_no of an order, or total_amount (with currency and trade_type) of a payment to come');
    const trade = known ? await findTradeOrFail(context, call, biz) : null;
    const request = trade ? existingPaymentRequest(trade, biz) : newPaymentRequest(call.app, { ...biz, total_amount: biz.total_amount! });
    const plan = await planRoute(context, { merchantId: call.app.merchant_id, appId: call.app.app_id }, request);
    const present = presenter(context);
    return {
      ...compact({ trade_no: trade?.trade_no, total_amount: present.amount(request.amountMinor, request.currency), currency: request.currency }),
      channels: plan.ranked.map((row, index) => ({
        channel: row.channel,
        eligible: row.eligible,
        rank: row.eligible ? index + 1 : null,
        score: row.score,
        fee: present.amount(row.feeMinor, request.currency),
        reasons: row.reasons,
      })),
    };
  }),

  // Continue-pay (继续支付): a new attempt on an existing unpaid order, through the same or another channel.
  defineMethod('tongbao.trade.page.pay', Type.Object({
    ...tradeLookup,
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'default: the channel of the last attempt' })),
    ...payerFields,
    ...localPayerFields,
  }), async (context, call, biz) => {
    const trade = await findTradeOrFail(context, call, biz);
    const channel = biz.channel ?? (await repository.listAttempts(context.pool, trade.trade_no)).at(-1)?.channel;
    if (channel === undefined) fail(errors.missingParameter, `channel is required: trade ${trade.trade_no} has no earlier attempt to continue`);
    return payAnswer(context, await payTrade(context, call.app, { ...biz, trade_no: trade.trade_no, channel }, call.notifyUrl));
  }),

  defineMethod('tongbao.trade.query', Type.Object(tradeLookup), async (context, call, biz) => {
    const trade = await findTradeOrFail(context, call, biz);
    return compact(tradeFields(presenter(context), trade));
  }),

  defineMethod('tongbao.trade.close', Type.Object(tradeLookup), async (context, call, biz) => {
    const trade = await closeTradeByMerchant(context, await findTradeOrFail(context, call, biz));
    return compact(tradeFields(presenter(context), trade));
  }),

  defineMethod('tongbao.trade.amount.modify', Type.Object({
    ...tradeLookup,
    total_amount: amount('the new amount, decimal string in the trade currency'),
  }), async (context, call, biz) => {
    const trade = await modifyTradeAmount(context, call.app, await findTradeOrFail(context, call, biz), biz.total_amount);
    return compact(tradeFields(presenter(context), trade));
  }),

  defineMethod('tongbao.trade.cancel', Type.Object(tradeLookup), async (context, call, biz) => {
    const outcome = await cancelTrade(context, await findTradeOrFail(context, call, biz));
    const refund = outcome.action === 'refund' ? outcome.refund : null;
    return compact({
      ...tradeFields(presenter(context), outcome.trade),
      action: outcome.action,
      // Alipay's retry_flag: Y when the reversal is still under way and the caller should ask again.
      retry_flag: refund?.status === 'REFUND_PROCESSING' ? 'Y' : 'N',
      refund_status: refund?.status,
      failure_code: refund?.failure_code ?? undefined,
    });
  }),

  defineMethod('tongbao.trade.refund', Type.Object({
    ...tradeLookup,
    refund_amount: amount('decimal string in the trade currency'),
    out_request_no: identifier('the merchant refund request number, unique per trade; the idempotency key'),
    refund_reason: Type.Optional(Type.String({ maxLength: 256 })),
  }), async (context, call, biz) => {
    const { refund, trade } = await refundTrade(context, await findTradeOrFail(context, call, biz), biz);
    return compact({ ...refundFields(presenter(context), refund, trade), fund_change: refund.status === 'REFUND_SUCCESS' ? 'Y' : 'N' });
  }),

  defineMethod('tongbao.trade.refund.query', Type.Object({
    ...tradeLookup,
    out_request_no: identifier('the merchant refund request number'),
  }), async (context, call, biz) => {
    const trade = await findTradeOrFail(context, call, biz);
    const refund = await repository.findRefund(context.pool, trade.trade_no, biz.out_request_no);
    if (!refund || refund.kind !== 'MERCHANT') fail(errors.refundNotExist, `no refund ${biz.out_request_no} on trade ${trade.trade_no}`);
    return compact(refundFields(presenter(context), refund, trade));
  }),

  defineMethod('tongbao.trade.settle', Type.Object({
    ...tradeLookup,
    out_request_no: identifier('the merchant settle request number, unique per trade; the idempotency key'),
    settle_amount: Type.Optional(amount('decimal string in the trade currency; default all that remains in escrow')),
    royalty_parameters: Type.Optional(royaltyParameters),
  }), async (context, call, biz) => {
    const { settlement, splits, trade } = await settleTrade(context, await findTradeOrFail(context, call, biz), biz);
    return compact(settlementFields(presenter(context), settlement, splits, trade));
  }),

  defineMethod('tongbao.trade.confirm', Type.Object(tradeLookup), async (context, call, biz) => {
    const { trade, settlement } = await confirmTrade(context, await findTradeOrFail(context, call, biz));
    const present = presenter(context);
    return compact({
      ...tradeFields(present, trade),
      settle_no: settlement?.settlement.settle_no,
      settle_amount: settlement ? present.amount(settlement.settlement.amount_minor, trade.currency) : undefined,
    });
  }),
];
