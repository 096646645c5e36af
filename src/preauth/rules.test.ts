import { describe, expect, it } from 'vitest';
import { assertBalanced } from '../ledger/index.js';
import { postingFor } from './postings.js';
import type { AuthRow, AuthStatus, OperationKind, OperationRow } from './repository.js';
import { replayOf, restAmount, stepRefusal, type StepRequest } from './rules.js';

const now = new Date('2030-01-01T00:00:00Z');

function auth(status: AuthStatus, overrides: Partial<AuthRow> = {}): AuthRow {
  return {
    auth_no: 'A1', app_id: 'app', merchant_id: 'm1', out_order_no: 'O1', channel: 'sandbox', channel_auth_ref: 'sba_1', currency: 'CNY',
    amount_minor: 10_000n, completed_amount_minor: status === 'COMPLETED' ? 6000n : 0n, status, subject: 's', notify_url: null,
    trade_no: status === 'COMPLETED' ? 'T1' : null, expires_at: new Date('2030-02-01T00:00:00Z'), authorized_at: null, finished_at: null,
    created_at: now, updated_at: now, ...overrides,
  };
}

function operation(kind: OperationKind, amountMinor: bigint): OperationRow {
  return {
    operation_no: `OP-${kind}`, auth_no: 'A1', kind, initiator: 'MERCHANT', out_request_no: 'R1', amount_minor: amountMinor, currency: 'CNY', status: 'SUCCEEDED',
    channel_ref: null, failure_code: null, failure_message: null, trade_no: null, reverses_operation_no: null, query_count: 0, created_at: now, updated_at: now, finished_at: now,
  };
}

const step = (kind: StepRequest['kind'], amountMinor: bigint, initiator: StepRequest['initiator'] = 'MERCHANT'): StepRequest => ({ kind, amountMinor, initiator });
const refusalCode = (row: AuthRow, request: StepRequest) => stepRefusal(row, request, now)?.subCode ?? null;

describe('pre-authorization rules', () => {
  it('lets an authorized hold be completed up to its amount, or unfrozen whole', () => {
    expect(refusalCode(auth('AUTHORIZED'), step('COMPLETE', 10_000n))).toBeNull();
    expect(refusalCode(auth('AUTHORIZED'), step('COMPLETE', 1n))).toBeNull();
    expect(refusalCode(auth('AUTHORIZED'), step('COMPLETE', 10_001n))).toBe('AUTH.AMOUNT_EXCEEDED');
    expect(refusalCode(auth('AUTHORIZED'), step('UNFREEZE', 10_000n))).toBeNull();
    expect(refusalCode(auth('AUTHORIZED'), step('UNFREEZE', 9999n))).toBe('AUTH.FULL_AMOUNT_ONLY');
    expect(refusalCode(auth('AUTHORIZED'), step('COMPLETE_CANCEL', 10_000n))).toBe('AUTH.ORDER_NOT_COMPLETED');
  });

  it('lets only the expiry job touch an authorized hold past its deadline', () => {
    const overdue = auth('AUTHORIZED', { expires_at: now });
    expect(refusalCode(overdue, step('COMPLETE', 100n))).toBe('AUTH.ORDER_HAS_EXPIRED');
    expect(refusalCode(overdue, step('UNFREEZE', 10_000n))).toBe('AUTH.ORDER_HAS_EXPIRED');
    expect(refusalCode(overdue, step('UNFREEZE', 10_000n, 'EXPIRY'))).toBeNull();
  });

  it('cancels only the whole completion of a completed hold', () => {
    expect(refusalCode(auth('COMPLETED'), step('COMPLETE_CANCEL', 6000n))).toBeNull();
    expect(refusalCode(auth('COMPLETED'), step('COMPLETE_CANCEL', 5999n))).toBe('AUTH.FULL_AMOUNT_ONLY');
    expect(refusalCode(auth('COMPLETED'), step('COMPLETE', 100n))).toBe('AUTH.ORDER_HAS_COMPLETED');
    expect(refusalCode(auth('COMPLETED'), step('UNFREEZE', 10_000n))).toBe('AUTH.ORDER_HAS_COMPLETED');
  });

  it('refuses every step on a hold that holds nothing, each with its own code', () => {
    for (const kind of ['UNFREEZE', 'COMPLETE', 'COMPLETE_CANCEL'] as const) {
      expect(refusalCode(auth('PROCESSING'), step(kind, 10_000n))).toBe('AUTH.OPERATION_IN_PROGRESS');
      expect(refusalCode(auth('FAILED'), step(kind, 10_000n))).toBe('AUTH.ORDER_NOT_FROZEN');
      expect(refusalCode(auth('UNFROZEN'), step(kind, 10_000n))).toBe('AUTH.ORDER_HAS_UNFROZEN');
      expect(refusalCode(auth('EXPIRED'), step(kind, 10_000n, 'EXPIRY'))).toBe('AUTH.ORDER_HAS_EXPIRED');
    }
  });

  it('answers a repeated request number with its operation, and refuses it for anything else', () => {
    const completion = operation('COMPLETE', 600n);
    expect(replayOf(completion, 'COMPLETE', 600n)).toBe(completion);
    expect(() => replayOf(completion, 'COMPLETE', 601n)).toThrow(expect.objectContaining({ subCode: 'AUTH.REQUEST_CONFLICT' }));
    expect(() => replayOf(completion, 'UNFREEZE', 600n)).toThrow(expect.objectContaining({ subCode: 'AUTH.REQUEST_CONFLICT' }));
  });

  it('holds money only while authorized', () => {
    expect(restAmount(auth('AUTHORIZED'))).toBe(10_000n);
    for (const status of ['PROCESSING', 'COMPLETED', 'UNFROZEN', 'EXPIRED', 'FAILED'] as const) expect(restAmount(auth(status))).toBe(0n);
  });
});

describe('pre-authorization postings', () => {
  it('balance, and a freeze, complete, cancel, complete, then nothing else leaves only the capture owed', () => {
    const hold = auth('AUTHORIZED');
    const sequence = [operation('FREEZE', 10_000n), operation('COMPLETE', 6000n), operation('COMPLETE_CANCEL', 6000n), operation('COMPLETE', 7000n)];
    const balances = new Map<string, bigint>();
    for (const step of sequence) {
      const posting = postingFor(hold, step);
      expect(() => assertBalanced(posting)).not.toThrow();
      expect(posting).toMatchObject({ kind: `PREAUTH_${step.kind}`, reference: step.operation_no, currency: 'CNY' });
      for (const entry of posting.entries) {
        const signed = entry.side === entry.account.normalSide ? entry.amountMinor : -entry.amountMinor;
        balances.set(entry.account.code, (balances.get(entry.account.code) ?? 0n) + signed);
      }
    }
    expect(Object.fromEntries(balances)).toEqual({
      'channel:sandbox:preauth_held:CNY': 0n,
      'merchant:m1:preauth_held:CNY': 0n,
      'channel:sandbox:clearing:CNY': 7000n,
      'merchant:m1:pending:CNY': 7000n,
    });
  });

  it('releases the hold when it is unfrozen', () => {
    const posting = postingFor(auth('AUTHORIZED'), operation('UNFREEZE', 10_000n));
    expect(posting.entries.map((entry) => [entry.account.code, entry.side, entry.amountMinor])).toEqual([
      ['merchant:m1:preauth_held:CNY', 'DEBIT', 10_000n],
      ['channel:sandbox:preauth_held:CNY', 'CREDIT', 10_000n],
    ]);
  });
});
