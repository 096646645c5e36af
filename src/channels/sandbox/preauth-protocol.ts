/**
 * The sandbox bank's pre-authorization (预授权) protocol: the JSON shapes of the four operations and of the
 * operation object the bank answers, queries and calls back with, and pure functions mapping them to channel
 * results. Signing, headers and the shared error rules are those of payments (protocol.ts); docs/sandbox.md
 * describes the endpoints in prose.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type {
  ChannelOperationQueryResult,
  ChannelOperationResult,
  ChannelPreauthCompleteCancelRequest,
  ChannelPreauthFreezeRequest,
  ChannelPreauthStepRequest,
} from '../types.js';
import {
  amountText,
  currencyCode,
  echoMismatch,
  httpUrl,
  isNotFound,
  isoTimestamp,
  outNo,
  parseInstant,
  rejectionWithoutEffect,
  unexpectedAnswer,
  type BankAnswer,
  type NotificationParsing,
} from './protocol.js';

export const preauthKinds = ['FREEZE', 'UNFREEZE', 'COMPLETE', 'COMPLETE_CANCEL'] as const;
export type PreauthKind = (typeof preauthKinds)[number];

/** The path of each operation's endpoint under /v1/preauth. */
export const preauthPaths: Readonly<Record<PreauthKind, string>> = {
  FREEZE: '/v1/preauth/freeze',
  UNFREEZE: '/v1/preauth/unfreeze',
  COMPLETE: '/v1/preauth/complete',
  COMPLETE_CANCEL: '/v1/preauth/complete-cancel',
};

export const FreezeRequestBody = Type.Object(
  {
    out_operation_no: outNo,
    amount: amountText,
    currency: currencyCode,
    subject: Type.String({ minLength: 1, maxLength: 256 }),
    expire_at: isoTimestamp,
    notify_url: httpUrl,
  },
  { additionalProperties: false },
);
export type FreezeRequestBody = Static<typeof FreezeRequestBody>;

const stepFields = {
  out_operation_no: outNo,
  /** The bank's number of the hold: the bank_operation_no of its freeze. */
  auth_no: outNo,
  amount: amountText,
  currency: currencyCode,
  notify_url: httpUrl,
};

/** Unfreeze and complete. */
export const StepRequestBody = Type.Object(stepFields, { additionalProperties: false });
export type StepRequestBody = Static<typeof StepRequestBody>;

export const CompleteCancelRequestBody = Type.Object(
  { ...stepFields, complete_no: outNo },
  { additionalProperties: false },
);
export type CompleteCancelRequestBody = Static<typeof CompleteCancelRequestBody>;

export const OutOperationNoParams = Type.Object({ out_operation_no: outNo });

// Read leniently, like payments: an unknown status maps to UNKNOWN instead of failing the parse.
export const PreauthOperationObject = Type.Object({
  bank_operation_no: Type.String({ minLength: 1 }),
  out_operation_no: Type.String(),
  type: Type.String(),
  auth_no: Type.String(),
  status: Type.String(),
  amount: Type.String(),
  currency: Type.String(),
  created_at: Type.Optional(Type.String()),
  finished_at: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_message: Type.Optional(Type.String()),
});
export type PreauthOperationObject = Static<typeof PreauthOperationObject>;

export type PreauthEvent = PreauthOperationObject & { event: 'preauth' };

const checkOperation = TypeCompiler.Compile(PreauthOperationObject);

// ---------------------------------------------------------------------------------------------------------
// Requests from Tongbao's types

export function freezeRequestBody(request: ChannelPreauthFreezeRequest): FreezeRequestBody {
  return {
    out_operation_no: request.operationNo,
    amount: request.amountMinor.toString(),
    currency: request.currency,
    subject: request.subject,
    expire_at: request.expiresAt.toISOString(),
    notify_url: request.notifyUrl,
  };
}

export function stepRequestBody(request: ChannelPreauthStepRequest): StepRequestBody {
  return {
    out_operation_no: request.operationNo,
    auth_no: request.authRef,
    amount: request.amountMinor.toString(),
    currency: request.currency,
    notify_url: request.notifyUrl,
  };
}

export function completeCancelRequestBody(request: ChannelPreauthCompleteCancelRequest): CompleteCancelRequestBody {
  return { ...stepRequestBody(request), complete_no: request.completeRef };
}

// ---------------------------------------------------------------------------------------------------------
// Answers to Tongbao's types

/** What an operation request asked; the bank's echo must match it. Queries know only the number. */
export interface OperationExpectation {
  readonly operationNo: string;
  readonly kind?: PreauthKind;
  readonly amountMinor?: bigint;
  readonly currency?: string;
}

export function operationResultFromObject(operation: PreauthOperationObject, expected: OperationExpectation): ChannelOperationResult {
  const mismatch = echoMismatch(
    { outNo: operation.out_operation_no, amount: operation.amount, currency: operation.currency },
    { outNo: expected.operationNo, amountMinor: expected.amountMinor, currency: expected.currency },
  );
  if (mismatch) return { status: 'UNKNOWN', reason: mismatch };
  if (expected.kind !== undefined && operation.type !== expected.kind) {
    return { status: 'UNKNOWN', reason: `the bank answered with a ${operation.type.slice(0, 40)} operation, not ${expected.kind}` };
  }
  const channelRef = operation.bank_operation_no;
  switch (operation.status) {
    case 'SUCCEEDED': {
      const finishedAt = parseInstant(operation.finished_at);
      if (!finishedAt) return { status: 'UNKNOWN', reason: 'the bank reported success without a readable finished_at' };
      return { status: 'SUCCEEDED', channelRef, amountMinor: BigInt(operation.amount), currency: operation.currency, finishedAt };
    }
    case 'PROCESSING':
      return { status: 'PENDING', channelRef };
    case 'FAILED':
      return { status: 'FAILED', code: operation.error_code ?? 'FAILED', message: operation.error_message ?? 'the bank refused the operation' };
    default:
      return { status: 'UNKNOWN', reason: `unknown operation status "${operation.status.slice(0, 40)}"` };
  }
}

export function operationResultFromAnswer(answer: BankAnswer, expected: Required<OperationExpectation>): ChannelOperationResult {
  if (answer.statusCode === 200) {
    if (!checkOperation.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable operation' };
    return operationResultFromObject(answer.body, expected);
  }
  return rejectionWithoutEffect(answer) ?? unexpectedAnswer(answer);
}

export function operationQueryResultFromAnswer(answer: BankAnswer, operationNo: string): ChannelOperationQueryResult {
  if (answer.statusCode === 200) {
    if (!checkOperation.Check(answer.body)) return { status: 'UNKNOWN', reason: 'the bank answered with an unreadable operation' };
    return operationResultFromObject(answer.body, { operationNo });
  }
  if (isNotFound(answer)) return { status: 'NOT_FOUND' };
  return unexpectedAnswer(answer);
}

/** Parses a verified callback body about a pre-authorization operation; null when the body is about something else. */
export function preauthNotificationFromBody(body: unknown): NotificationParsing | null {
  if (typeof body !== 'object' || body === null || !('event' in body) || body.event !== 'preauth') return null;
  if (!checkOperation.Check(body)) return { ok: false, reason: 'the preauth callback body is not an operation' };
  const operationNo = body.out_operation_no;
  return { ok: true, notification: { kind: 'OPERATION', operationNo, result: operationResultFromObject(body, { operationNo }) } };
}
