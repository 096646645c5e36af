import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { defineMethod, type GatewayCall, type GatewayMethod } from '../gateway/methods.js';
import { createPresenter, payAnswer } from '../trade/index.js';
import { agreementFields } from './present.js';
import * as repository from './repository.js';
import { confirmAgreement, signAgreement } from './sign.js';
import { unsignAgreement } from './unsign.js';
import { withhold } from './withhold.js';

const identifier = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const amount = (description: string) => Type.Union([Type.String({ maxLength: 32 }), Type.Number()], { description });

const agreementLookup = {
  agreement_no: Type.Optional(identifier('Tongbao agreement number')),
  out_agreement_no: Type.Optional(identifier('the merchant agreement number')),
};

function presenter(context: Context) {
  return createPresenter(context.config.TONGBAO_TIMEZONE);
}

async function findOrFail(context: Context, call: GatewayCall, lookup: { agreement_no?: string | undefined; out_agreement_no?: string | undefined }) {
  if (lookup.agreement_no === undefined && lookup.out_agreement_no === undefined) fail(errors.missingParameter, 'agreement_no or out_agreement_no is required');
  const agreement = await repository.findAgreement(context.pool, call.app.app_id, { agreementNo: lookup.agreement_no, outAgreementNo: lookup.out_agreement_no });
  if (!agreement) fail(errors.agreementNotExist, `no agreement ${lookup.agreement_no ?? lookup.out_agreement_no} for this app`);
  return agreement;
}

export const agreementMethods: GatewayMethod[] = [
  // The card is bound as part of signing; see docs/api.md "Agreements".
  defineMethod('tongbao.agreement.sign', Type.Object({
    out_agreement_no: identifier('the merchant agreement number, unique per app; the idempotency key'),
    out_user_id: Type.String({ minLength: 1, maxLength: 64, description: "the payer in the app's own words" }),
    agreement_type: Type.Union([Type.Literal('QUICK_PAY'), Type.Literal('WITHHOLDING')]),
    channel: Type.String({ minLength: 1, maxLength: 32 }),
    card_no: Type.String({ minLength: 1, maxLength: 32, description: 'the full card number; sent to the bank, never stored' }),
    card_holder_name: Type.String({ minLength: 1, maxLength: 64 }),
    mobile: Type.String({ pattern: '^[0-9]{6,15}$', description: 'where the bank texts the verification code' }),
    card_expiry: Type.Optional(Type.String({ pattern: '^(0[1-9]|1[0-2])[0-9]{2}$', description: 'credit cards: MMYY, passed to the bank, never stored' })),
    card_cvv: Type.Optional(Type.String({ pattern: '^[0-9]{3,4}$', description: 'credit cards: passed to the bank, never stored' })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    single_limit: Type.Optional(amount('the most one payment may take')),
    period: Type.Optional(Type.Union([Type.Literal('DAY'), Type.Literal('MONTH')])),
    period_limit: Type.Optional(amount('WITHHOLDING: the most the debits of one period may take')),
    period_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'WITHHOLDING: the most debits in one period' })),
    notify_url: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' })),
  }), async (context, call, biz) => agreementFields(presenter(context), await signAgreement(context, call.app, biz, call.notifyUrl))),

  defineMethod('tongbao.agreement.sign.confirm', Type.Object({
    ...agreementLookup,
    verify_code: Type.String({ minLength: 1, maxLength: 16, description: 'the code the bank texted to the payer' }),
  }), async (context, call, biz) => agreementFields(presenter(context), await confirmAgreement(context, await findOrFail(context, call, biz), biz.verify_code))),

  defineMethod('tongbao.agreement.unsign', Type.Object(agreementLookup), async (context, call, biz) =>
    agreementFields(presenter(context), await unsignAgreement(context, await findOrFail(context, call, biz)))),

  defineMethod('tongbao.agreement.query', Type.Object(agreementLookup), async (context, call, biz) =>
    agreementFields(presenter(context), await findOrFail(context, call, biz))),

  defineMethod('tongbao.agreement.withhold', Type.Object({
    agreement_no: identifier('a signed WITHHOLDING agreement of this app'),
    out_trade_no: identifier('the merchant order number of this debit, unique per app; the idempotency key'),
    total_amount: amount('decimal string in the agreement currency'),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    subject: Type.String({ minLength: 1, maxLength: 256 }),
    body: Type.Optional(Type.String({ maxLength: 1000 })),
    notify_url: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' })),
    passback_params: Type.Optional(Type.String({ maxLength: 512 })),
  }), async (context, call, biz) => ({ ...payAnswer(context, await withhold(context, call.app, biz, call.notifyUrl)), agreement_no: biz.agreement_no })),
];
