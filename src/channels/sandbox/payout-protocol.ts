/**
 * The sandbox bank's payout (代付/出款) protocol: POST /v1/payouts pays a payee out of the merchant's funds at
 * the bank, GET /v1/payouts/:out_payout_no reads it back. Payouts settle by answer or by query only (the bank
 * sends no callback for them). Pure shapes and mappings; the rules are in bank-payouts.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ChannelOperationQueryResult, ChannelOperationResult, ChannelPayoutRequest } from '../types.js';
import { amountText, currencyCode, echoMismatch, isNotFound, outNo, parseInstant, rejectionWithoutEffect, unexpectedAnswer, type BankAnswer } from './protocol.js';

export const payoutPath = '/v1/payouts';

export const PayoutRequestBody = Type.Object(
  {
    out_payout_no: outNo,
    amount: amountText,
    currency: currencyCode,
    payee_type: Type.String({ minLength: 1, maxLength: 32 }),
    payee_identity: Type.String({ minLength: 1, maxLength: 128 }),
    payee_name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    remark: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type PayoutRequestBody = Static<typeof PayoutRequestBody>;

export const OutPayoutNoParams = Type.Object({ out_payout_no: outNo });

// Read leniently, like payments: an unknown status maps to UNKNOWN instead of failing the parse.
export const PayoutObject = Type.Object({
  bank_payout_no: Type.String({ minLength: 1 }),
  out_payout_no: Type.String(),
  status: Type.String(),
  amount: Type.String(),
  currency: Type.String(),
  created_at: Type.Optional(Type.String()),
  finished_at: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_message: Type.Optional(Type.String()),
});
export type PayoutObject = Static<typeof PayoutObject>;

const checkPayout = TypeCompiler.Compile(PayoutObject);

export function payoutRequestBody(request: ChannelPayoutRequest): PayoutRequestBody {
  return {
    out_payout_no: request.payoutNo,
    amount: request.amountMinor.toString(),
    currency: request.currency,
    payee_type: request.payee.type,
    payee_identity: request.payee.identity,
    ...(request.payee.name === undefined ? {} : { payee_name: request.payee.name }),
    ...(request.remark === null ? {} : { remark: request.remark }),
  };
}

export function payoutResultFromObject(payout: PayoutObject, expected: { payoutNo: string; amountMinor?: bigint; currency?: string }): ChannelOperationResult {
  const mismatch = echoMismatch(
    { outNo: payout.out_payout_no, amount: payout.amount, currency: payout.currency },
    { outNo: expected.payoutNo, amountMinor: expected.amountMinor, currency: expected.currency },
  );
  if (mismatch) return { status: 'UNKNOWN', reason: mismatch };
  switch (payout.status) {
    case 'SUCCEEDED': {
      const finishedAt = parseInstant(payout.finished_at);
      if (!finishedAt) return { status: 'UNKNOWN', reason: 'the bank reported success without a readable finished_at' };
      return { status: 'SUCCEEDED', channelRef: payout.bank_payout_no, amountMinor: BigInt(payout.amount), currency: payout.currency, finishedAt };
    }
    case 'PROCESSING':
      return { status: 'PENDING', channelRef: payout.bank_payout_no };
    case 'FAILED':
      return { status: 'FAILED', code: payout.error_code ?? 'FAILED', message: payout.error_message ?? 'the bank refused the payout' };
    default:
      return { status: 'UNKNOWN', reason: `unknown payout status "${payout.status.slice(0, 40)}"` };
  }
}

export function payoutResultFromAnswer(answer: BankAnswer, request: ChannelPayoutRequest): ChannelOperationResult {
  if (answer.statusCode === 200) {
    if (!checkPayout.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable payout' };
    return payoutResultFromObject(answer.body, { payoutNo: request.payoutNo, amountMinor: request.amountMinor, currency: request.currency });
  }
  return rejectionWithoutEffect(answer) ?? unexpectedAnswer(answer);
}

export function payoutQueryResultFromAnswer(answer: BankAnswer, payoutNo: string): ChannelOperationQueryResult {
  if (answer.statusCode === 200) {
    if (!checkPayout.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable payout' };
    return payoutResultFromObject(answer.body, { payoutNo });
  }
  if (isNotFound(answer)) return { status: 'NOT_FOUND' };
  return unexpectedAnswer(answer);
}
