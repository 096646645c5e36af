import { describe, expect, it } from 'vitest';
import {
  completeCancelRequestBody,
  freezeRequestBody,
  operationQueryResultFromAnswer,
  operationResultFromAnswer,
  preauthNotificationFromBody,
  type PreauthOperationObject,
} from './preauth-protocol.js';

function operation(overrides: Partial<PreauthOperationObject> = {}): PreauthOperationObject {
  return {
    bank_operation_no: 'sbo_1', out_operation_no: 'OP1', type: 'COMPLETE', auth_no: 'sba_1', status: 'SUCCEEDED',
    amount: '600', currency: 'CNY', finished_at: '2030-01-01T00:00:00.000Z', ...overrides,
  };
}

const asked = { operationNo: 'OP1', kind: 'COMPLETE', amountMinor: 600n, currency: 'CNY' } as const;

describe('sandbox pre-authorization wire mapping', () => {
  it('writes requests in minor units with the bank numbers it was given', () => {
    const expiresAt = new Date('2030-01-01T00:00:00Z');
    expect(freezeRequestBody({ operationNo: 'F1', amountMinor: 1999n, currency: 'JPY', subject: 's', expiresAt, notifyUrl: 'http://x/n' }))
      .toEqual({ out_operation_no: 'F1', amount: '1999', currency: 'JPY', subject: 's', expire_at: '2030-01-01T00:00:00.000Z', notify_url: 'http://x/n' });
    expect(completeCancelRequestBody({ operationNo: 'X1', authRef: 'sba_1', completeRef: 'sbo_1', amountMinor: 5n, currency: 'CNY', notifyUrl: 'http://x/n' }))
      .toEqual({ out_operation_no: 'X1', auth_no: 'sba_1', complete_no: 'sbo_1', amount: '5', currency: 'CNY', notify_url: 'http://x/n' });
  });

  it('maps the bank statuses, with the bank operation number as the channel reference', () => {
    expect(operationResultFromAnswer({ statusCode: 200, body: operation() }, asked))
      .toEqual({ status: 'SUCCEEDED', channelRef: 'sbo_1', amountMinor: 600n, currency: 'CNY', finishedAt: new Date('2030-01-01T00:00:00.000Z') });
    expect(operationResultFromAnswer({ statusCode: 200, body: operation({ status: 'PROCESSING' }) }, asked)).toEqual({ status: 'PENDING', channelRef: 'sbo_1' });
    expect(operationResultFromAnswer({ statusCode: 200, body: operation({ status: 'FAILED', error_code: 'AMOUNT_EXCEEDED' }) }, asked))
      .toMatchObject({ status: 'FAILED', code: 'AMOUNT_EXCEEDED' });
  });

  it('never turns an answer it cannot trust into a success', () => {
    const unknown = (body: unknown, statusCode = 200) => operationResultFromAnswer({ statusCode, body }, asked).status;
    expect(unknown(operation({ status: 'REVERSED' }))).toBe('UNKNOWN');
    expect(unknown(operation({ finished_at: 'yesterday' }))).toBe('UNKNOWN');
    expect(unknown(operation({ amount: '601' }))).toBe('UNKNOWN');
    expect(unknown(operation({ currency: 'USD' }))).toBe('UNKNOWN');
    expect(unknown(operation({ out_operation_no: 'OP2' }))).toBe('UNKNOWN');
    expect(unknown(operation({ type: 'UNFREEZE' }))).toBe('UNKNOWN');
    expect(unknown({ status: 'SUCCEEDED' })).toBe('UNKNOWN');
    expect(unknown({ code: 'DUPLICATE_OUT_OPERATION_NO' }, 409)).toBe('UNKNOWN');
    expect(unknown({ code: 'INTERNAL_ERROR' }, 500)).toBe('UNKNOWN');
    expect(unknown({ code: 'NOT_FOUND' }, 404)).toBe('UNKNOWN');
    // A rejection the bank guarantees had no effect is a failure.
    expect(operationResultFromAnswer({ statusCode: 400, body: { code: 'INVALID_REQUEST' } }, asked)).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST' });
  });

  it('reads a query for an unknown number as NOT_FOUND', () => {
    expect(operationQueryResultFromAnswer({ statusCode: 404, body: { code: 'NOT_FOUND' } }, 'OP1')).toEqual({ status: 'NOT_FOUND' });
    expect(operationQueryResultFromAnswer({ statusCode: 200, body: operation({ type: 'FREEZE' }) }, 'OP1')).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('parses preauth callbacks and leaves other events to the payment parser', () => {
    expect(preauthNotificationFromBody({ event: 'preauth', ...operation() })).toMatchObject({
      ok: true, notification: { kind: 'OPERATION', operationNo: 'OP1', result: { status: 'SUCCEEDED', amountMinor: 600n } },
    });
    expect(preauthNotificationFromBody({ event: 'preauth', out_operation_no: 'OP1' })).toMatchObject({ ok: false });
    expect(preauthNotificationFromBody({ event: 'payment', ...operation() })).toBeNull();
    expect(preauthNotificationFromBody('text')).toBeNull();
  });
});
