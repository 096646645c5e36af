import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { defineMethod, type GatewayMethod } from '../gateway/methods.js';
import { compact, createPresenter } from '../trade/index.js';
import { freeze } from './freeze.js';
import type { StepOutcome } from './pipeline.js';
import { authFields, operationWithAuth } from './present.js';
import * as repository from './repository.js';
import { findAuthOrFail, runMerchantStep } from './steps.js';

const identifier = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const amount = (description: string) => Type.Union([Type.String({ maxLength: 32 }), Type.Number()], { description });
const currency = Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' }));

const authLookup = {
  auth_no: Type.Optional(identifier('Tongbao pre-authorization number')),
  out_order_no: Type.Optional(identifier('the merchant pre-authorization order number')),
};

const stepFields = {
  ...authLookup,
  out_request_no: identifier('the merchant request number of this operation, unique per pre-authorization; the idempotency key'),
  amount: amount('decimal string in the pre-authorization currency'),
  currency,
};

function presenter(context: Context) {
  return createPresenter(context.config.TONGBAO_TIMEZONE);
}

/**
 * The operation answers as recorded, with its hold: succeeded or still processing is code 10000, failed is
 * AUTH.OPERATION_FAILED. A processing operation whose channel call got no usable answer this time is 20000.
 * A freeze the payer has to finish at the channel (a form, a 3-D Secure redirect) carries payer_action, as pay does.
 */
function answer(context: Context, outcome: StepOutcome): Record<string, unknown> {
  const { auth, operation, result } = outcome;
  if (operation.status === 'FAILED') {
    fail(errors.preauthOperationFailed, `the channel refused ${operation.kind} ${operation.operation_no}: ${operation.failure_code} ${operation.failure_message}; nothing changed`);
  }
  if (operation.status === 'PROCESSING' && result?.status === 'UNKNOWN') {
    fail(errors.systemError, `the channel result is not known yet (${result.reason}); Tongbao is querying it; query pre-authorization ${auth.auth_no} with out_request_no ${operation.out_request_no}, or wait for the notification`);
  }
  const payerAction = operation.status === 'PROCESSING' && result?.status === 'PENDING' ? result.payerAction : undefined;
  return { ...operationWithAuth(presenter(context), auth, operation), ...(payerAction ? { payer_action: payerAction } : {}) };
}

export const preauthMethods: GatewayMethod[] = [
  defineMethod('tongbao.preauth.freeze', Type.Object({
    out_order_no: identifier('the merchant pre-authorization order number, unique per app'),
    out_request_no: identifier('the merchant request number of the freeze'),
    amount: amount('decimal string in the currency major unit, e.g. "500.00"'),
    currency,
    subject: Type.String({ minLength: 1, maxLength: 256 }),
    channel: Type.String({ minLength: 1, maxLength: 32 }),
    notify_url: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' })),
    expire_time: Type.Optional(Type.String({ maxLength: 19 })),
    payer_type: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    payer_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'whose means of payment is held: a card token, a Stripe PaymentMethod id' })),
  }), async (context, call, biz) => answer(context, await freeze(context, call.app, biz, call.notifyUrl))),

  defineMethod('tongbao.preauth.unfreeze', Type.Object(stepFields), async (context, call, biz) =>
    answer(context, await runMerchantStep(context, call.app, 'UNFREEZE', biz))),

  defineMethod('tongbao.preauth.complete', Type.Object(stepFields), async (context, call, biz) =>
    answer(context, await runMerchantStep(context, call.app, 'COMPLETE', biz))),

  defineMethod('tongbao.preauth.complete.cancel', Type.Object(stepFields), async (context, call, biz) =>
    answer(context, await runMerchantStep(context, call.app, 'COMPLETE_CANCEL', biz))),

  defineMethod('tongbao.preauth.query', Type.Object({
    ...authLookup,
    out_request_no: Type.Optional(identifier('an operation of this pre-authorization')),
  }), async (context, call, biz) => {
    const auth = await findAuthOrFail(context, call.app, { authNo: biz.auth_no, outOrderNo: biz.out_order_no });
    if (biz.out_request_no === undefined) return compact(authFields(presenter(context), auth));
    const operation = await repository.findOperation(context.pool, auth.auth_no, biz.out_request_no);
    if (!operation) fail(errors.preauthOperationNotExist, `no operation ${biz.out_request_no} on pre-authorization ${auth.auth_no}`);
    return operationWithAuth(presenter(context), auth, operation);
  }),
];
