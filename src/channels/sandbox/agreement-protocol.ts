/**
 * The sandbox bank's agreement (签约/解约) protocol: the JSON shapes of sign, confirm and terminate, the agreement
 * object the bank answers with, and pure functions mapping it to channel results. Signing, headers and the shared
 * error rules are those of payments (protocol.ts); docs/sandbox.md describes the endpoints in prose.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ChannelAgreementResult, ChannelAgreementSignRequest } from '../types.js';
import { isNotFound, outNo, parseInstant, rejectionWithoutEffect, unexpectedAnswer, type BankAnswer } from './protocol.js';

export const agreementPaths = {
  sign: '/v1/agreements',
  confirm: (outAgreementNo: string) => `/v1/agreements/${encodeURIComponent(outAgreementNo)}/confirm`,
  terminate: (outAgreementNo: string) => `/v1/agreements/${encodeURIComponent(outAgreementNo)}/terminate`,
  query: (outAgreementNo: string) => `/v1/agreements/${encodeURIComponent(outAgreementNo)}`,
} as const;

/** Wrong codes a sign takes before the bank ends it. */
export const maxCodeAttempts = 5;

export const SignRequestBody = Type.Object(
  {
    out_agreement_no: outNo,
    agreement_type: Type.Union([Type.Literal('QUICK_PAY'), Type.Literal('WITHHOLDING')]),
    card_no: Type.String({ pattern: '^[0-9]{12,19}$' }),
    card_type: Type.Union([Type.Literal('DEBIT'), Type.Literal('CREDIT')]),
    holder_name: Type.String({ minLength: 1, maxLength: 64 }),
    mobile: Type.String({ pattern: '^[0-9]{6,15}$' }),
    expiry: Type.Optional(Type.String({ pattern: '^(0[1-9]|1[0-2])[0-9]{2}$' })),
    cvv: Type.Optional(Type.String({ pattern: '^[0-9]{3,4}$' })),
  },
  { additionalProperties: false },
);
export type SignRequestBody = Static<typeof SignRequestBody>;

export const ConfirmRequestBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false });
export const OutAgreementNoParams = Type.Object({ out_agreement_no: outNo });

/** What the bank says about one agreement. The card appears only as its last four digits. */
export const AgreementObject = Type.Object({
  out_agreement_no: Type.String(),
  status: Type.String(),
  agreement_type: Type.String(),
  card_last4: Type.String(),
  bank_agreement_no: Type.Optional(Type.String()),
  code_expire_at: Type.Optional(Type.String()),
  attempts_left: Type.Optional(Type.Integer()),
  signed_at: Type.Optional(Type.String()),
  terminated_at: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_message: Type.Optional(Type.String()),
});
export type AgreementObject = Static<typeof AgreementObject>;

const checkAgreement = TypeCompiler.Compile(AgreementObject);

export function signRequestBody(request: ChannelAgreementSignRequest): SignRequestBody {
  const { card } = request;
  return {
    out_agreement_no: request.agreementNo,
    agreement_type: request.agreementType,
    card_no: card.number,
    card_type: card.cardType,
    holder_name: card.holderName,
    mobile: card.mobile,
    ...(card.expiry === undefined ? {} : { expiry: card.expiry }),
    ...(card.cvv === undefined ? {} : { cvv: card.cvv }),
  };
}

/** Maps the bank's agreement object; a status this code does not know is UNKNOWN, never a success. */
export function agreementResultFromObject(agreement: AgreementObject, agreementNo: string): ChannelAgreementResult {
  if (agreement.out_agreement_no !== agreementNo) return { status: 'UNKNOWN', reason: `the bank answered for ${agreement.out_agreement_no}, not ${agreementNo}` };
  switch (agreement.status) {
    case 'WAIT_CONFIRM': {
      if (agreement.error_code === 'VERIFY_CODE_INVALID') return { status: 'CODE_INVALID', attemptsLeft: agreement.attempts_left ?? 0 };
      const codeExpiresAt = parseInstant(agreement.code_expire_at);
      return codeExpiresAt ? { status: 'CODE_SENT', codeExpiresAt } : { status: 'UNKNOWN', reason: 'the bank sent a code without a readable code_expire_at' };
    }
    case 'ACTIVE': {
      const signedAt = parseInstant(agreement.signed_at);
      if (!agreement.bank_agreement_no || !signedAt) return { status: 'UNKNOWN', reason: 'the bank reported an active agreement without its number or signed_at' };
      return { status: 'ACTIVE', channelAgreementNo: agreement.bank_agreement_no, signedAt };
    }
    case 'TERMINATED': {
      const terminatedAt = parseInstant(agreement.terminated_at);
      return terminatedAt ? { status: 'TERMINATED', terminatedAt } : { status: 'UNKNOWN', reason: 'the bank reported a termination without terminated_at' };
    }
    case 'FAILED':
      return { status: 'FAILED', code: agreement.error_code ?? 'SIGN_FAILED', message: agreement.error_message ?? 'the bank refused the agreement' };
    default:
      return { status: 'UNKNOWN', reason: `unknown agreement status "${agreement.status.slice(0, 40)}"` };
  }
}

export function agreementResultFromAnswer(answer: BankAnswer, agreementNo: string): ChannelAgreementResult {
  if (answer.statusCode === 200) {
    if (!checkAgreement.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable agreement' };
    return agreementResultFromObject(answer.body, agreementNo);
  }
  return rejectionWithoutEffect(answer) ?? unexpectedAnswer(answer);
}

export function agreementQueryResultFromAnswer(answer: BankAnswer, agreementNo: string): ChannelAgreementResult | { status: 'NOT_FOUND' } {
  if (isNotFound(answer)) return { status: 'NOT_FOUND' };
  return agreementResultFromAnswer(answer, agreementNo);
}
