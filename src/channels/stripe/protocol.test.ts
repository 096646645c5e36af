import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { currencyExponent, isSupportedCurrency } from '../../shared/money.js';
import { parseStripeConfig } from './config.js';
import { notificationFromEvent, signatureTimestamp } from './events.js';
import { captureResultFromIntent, freezeResultFromIntent, operationResultFromIntent, releaseResultFromIntent } from './operations.js';
import {
  classifyCallError,
  closeResultFromIntent,
  deadlineErrorName,
  fromStripeAmount,
  metadataClause,
  metadataKeys,
  payResultFromIntent,
  refundResultFromRefund,
  stripeCurrencies,
  toStripeAmount,
  utcDayRange,
  type PaymentIntentWire,
  type RefundWire,
} from './protocol.js';
import { statementCsv, statementHeader } from './statement.js';

const intent = (overrides: Partial<PaymentIntentWire> = {}): PaymentIntentWire => ({
  id: 'pi_1',
  object: 'payment_intent',
  amount: 1999,
  amount_capturable: 0,
  amount_received: 1999,
  currency: 'usd',
  status: 'succeeded',
  capture_method: 'automatic',
  created: 1_700_000_000,
  metadata: { [metadataKeys.attemptNo]: 'A1' },
  client_secret: 'pi_1_secret_x',
  last_payment_error: null,
  next_action: null,
  ...overrides,
});
const attempt = { metadataKey: metadataKeys.attemptNo, number: 'A1', amountMinor: 1999n, currency: 'USD' };

const refund = (overrides: Partial<RefundWire> = {}): RefundWire => ({
  id: 're_1', object: 'refund', amount: 500, currency: 'usd', status: 'succeeded', payment_intent: 'pi_1',
  metadata: { [metadataKeys.refundNo]: 'R1' }, created: 1_700_000_000, ...overrides,
});

describe('Stripe money', () => {
  it("offers exactly the currencies whose Stripe exponent equals Tongbao's", () => {
    for (const currency of stripeCurrencies) expect(isSupportedCurrency(currency)).toBe(true);
    expect(stripeCurrencies).toEqual(expect.arrayContaining(['USD', 'CNY', 'JPY', 'KRW', 'VND', 'KWD', 'BHD', 'JOD']));
    expect(currencyExponent('JPY')).toBe(0);
    expect(toStripeAmount(500n, 'JPY')).toEqual({ ok: true, amount: 500, currency: 'jpy' });
    expect(toStripeAmount(1999n, 'USD')).toEqual({ ok: true, amount: 1999, currency: 'usd' });
  });

  it('refuses what Stripe cannot take, before any call', () => {
    expect(toStripeAmount(1234n, 'KWD')).toMatchObject({ ok: false, code: 'amount_not_representable' });
    expect(toStripeAmount(1230n, 'KWD')).toEqual({ ok: true, amount: 1230, currency: 'kwd' });
    expect(toStripeAmount(100n, 'ISK')).toMatchObject({ ok: false, code: 'currency_not_supported' });
    expect(toStripeAmount(0n, 'USD')).toMatchObject({ ok: false, code: 'amount_out_of_range' });
    expect(toStripeAmount(100_000_000n, 'USD')).toMatchObject({ ok: false, code: 'amount_out_of_range' });
  });

  it('reads back only integer amounts in lowercase supported currencies', () => {
    expect(fromStripeAmount(500, 'jpy')).toEqual({ amountMinor: 500n, currency: 'JPY' });
    expect(fromStripeAmount(1.5, 'usd')).toBeNull();
    expect(fromStripeAmount(100, 'USD')).toBeNull();
    expect(fromStripeAmount(100, 'isk')).toBeNull();
  });
});

describe('classifying client errors', () => {
  it('treats a card error as a rejection with the decline code', () => {
    expect(classifyCallError({ statusCode: 402, rawType: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'no' })).toMatchObject({
      kind: 'rejected', code: 'insufficient_funds',
    });
  });

  it('treats 400 invalid requests and 401 as no effect, but idempotency errors, 409, 429 and 5xx as unknown', () => {
    expect(classifyCallError({ statusCode: 400, rawType: 'invalid_request_error', code: 'amount_too_small', message: 'x' })).toMatchObject({ kind: 'rejected', code: 'amount_too_small' });
    expect(classifyCallError({ statusCode: 401, rawType: 'invalid_request_error', message: 'x' })).toMatchObject({ kind: 'rejected', code: 'invalid_api_key' });
    expect(classifyCallError({ statusCode: 400, rawType: 'idempotency_error', message: 'x' })).toMatchObject({ kind: 'unknown' });
    expect(classifyCallError({ statusCode: 409, rawType: 'invalid_request_error', code: 'idempotency_key_in_use', message: 'x' })).toMatchObject({ kind: 'unknown' });
    expect(classifyCallError({ statusCode: 429, rawType: 'invalid_request_error', code: 'rate_limit', message: 'x' })).toMatchObject({ kind: 'unknown' });
    expect(classifyCallError({ statusCode: 500, rawType: 'api_error', message: 'x' })).toEqual({ kind: 'unknown', reason: 'Stripe answered HTTP 500 api_error' });
  });

  it('calls timeouts timeouts, whichever clock fired', () => {
    const deadline = Object.assign(new Error('late'), { name: deadlineErrorName });
    expect(classifyCallError(deadline)).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(classifyCallError({ type: 'StripeConnectionError', message: 'Request aborted due to timeout being reached (400ms)' })).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(classifyCallError({ type: 'StripeConnectionError', message: 'An error occurred', detail: { code: 'ECONNREFUSED' } })).toEqual({ kind: 'unknown', reason: 'network error: ECONNREFUSED' });
    expect(classifyCallError(new Error('Invalid JSON received from the Stripe API'))).toMatchObject({ kind: 'unknown' });
  });
});

describe('PaymentIntent to payment result', () => {
  it('maps succeeded with the echo checked', () => {
    expect(payResultFromIntent(intent(), attempt)).toEqual({ status: 'SUCCEEDED', channelTradeNo: 'pi_1', amountMinor: 1999n, currency: 'USD', paidAt: new Date(1_700_000_000_000) });
    expect(payResultFromIntent(intent({ amount: 2000, amount_received: 2000 }), attempt)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });
    expect(payResultFromIntent(intent({ currency: 'eur' }), attempt)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('currency mismatch') });
    expect(payResultFromIntent(intent({ metadata: { [metadataKeys.attemptNo]: 'A2' } }), attempt)).toMatchObject({ status: 'UNKNOWN' });
    expect(payResultFromIntent(intent({ amount_received: 1000 }), attempt)).toMatchObject({ status: 'UNKNOWN' });
  });

  it('maps the waiting and failed statuses, and never an unknown one to success', () => {
    expect(payResultFromIntent(intent({ status: 'processing' }), attempt)).toEqual({ status: 'PENDING', channelTradeNo: 'pi_1' });
    expect(payResultFromIntent(intent({ status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://hooks.stripe.com/3d' } } }), attempt)).toEqual({
      status: 'PENDING', channelTradeNo: 'pi_1', payerAction: { type: 'REDIRECT', url: 'https://hooks.stripe.com/3d' },
    });
    expect(payResultFromIntent(intent({ status: 'requires_action', next_action: { type: 'use_stripe_sdk' } }), attempt)).toMatchObject({
      payerAction: { type: 'SDK', parameters: { client_secret: 'pi_1_secret_x' } },
    });
    expect(payResultFromIntent(intent({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' } }), attempt)).toMatchObject({
      status: 'FAILED', code: 'generic_decline',
    });
    expect(payResultFromIntent(intent({ status: 'requires_payment_method' }), attempt)).toMatchObject({ status: 'PENDING' });
    expect(payResultFromIntent(intent({ status: 'canceled' }), attempt)).toMatchObject({ status: 'FAILED', code: 'canceled' });
    for (const status of ['requires_capture', 'requires_reauthorization', '', 'SUCCEEDED']) {
      expect(payResultFromIntent(intent({ status }), attempt).status).toBe('UNKNOWN');
    }
  });

  it('closes only what is canceled, and reports paid as ALREADY_PAID', () => {
    expect(closeResultFromIntent(intent({ status: 'canceled' }))).toEqual({ status: 'CLOSED' });
    expect(closeResultFromIntent(intent())).toEqual({ status: 'ALREADY_PAID' });
    expect(closeResultFromIntent(intent({ status: 'processing' })).status).toBe('UNKNOWN');
  });
});

describe('refund mapping', () => {
  const asked = { metadataKey: metadataKeys.refundNo, number: 'R1', amountMinor: 500n, currency: 'USD' };
  it('maps each refund status and checks the echo', () => {
    expect(refundResultFromRefund(refund(), asked)).toEqual({ status: 'SUCCEEDED', channelRefundNo: 're_1', amountMinor: 500n, currency: 'USD' });
    expect(refundResultFromRefund(refund({ status: 'pending' }), asked)).toEqual({ status: 'PENDING', channelRefundNo: 're_1' });
    expect(refundResultFromRefund(refund({ status: 'requires_action' }), asked).status).toBe('PENDING');
    expect(refundResultFromRefund(refund({ status: 'failed', failure_reason: 'lost_or_stolen_card' }), asked)).toMatchObject({ status: 'FAILED', code: 'lost_or_stolen_card' });
    expect(refundResultFromRefund(refund({ status: 'canceled' }), asked)).toMatchObject({ status: 'FAILED', code: 'canceled' });
    expect(refundResultFromRefund(refund({ status: 'reversed' }), asked).status).toBe('UNKNOWN');
    expect(refundResultFromRefund(refund({ status: null }), asked).status).toBe('UNKNOWN');
    expect(refundResultFromRefund(refund({ amount: 501 }), asked).status).toBe('UNKNOWN');
  });
});

describe('pre-authorization mapping', () => {
  const hold = (overrides: Partial<PaymentIntentWire> = {}) =>
    intent({ capture_method: 'manual', status: 'requires_capture', amount: 5000, amount_capturable: 5000, amount_received: 0, metadata: { [metadataKeys.freezeOperationNo]: 'F1' }, ...overrides });
  const at = new Date('2030-01-01T00:00:00Z');

  it('maps a hold, its capture and its release to each step', () => {
    expect(freezeResultFromIntent(hold(), { operationNo: 'F1', amountMinor: 5000n, currency: 'USD' })).toMatchObject({ status: 'SUCCEEDED', channelRef: 'pi_1', amountMinor: 5000n });
    expect(freezeResultFromIntent(hold({ capture_method: 'automatic' }), { operationNo: 'F1' }).status).toBe('UNKNOWN');
    const captured = hold({ status: 'succeeded', amount_capturable: 0, amount_received: 3000, metadata: { [metadataKeys.freezeOperationNo]: 'F1', [metadataKeys.captureOperationNo]: 'C1' } });
    expect(captureResultFromIntent(captured, { operationNo: 'C1', amountMinor: 3000n, currency: 'USD' }, at)).toEqual({ status: 'SUCCEEDED', channelRef: 'pi_1', amountMinor: 3000n, currency: 'USD', finishedAt: at });
    expect(captureResultFromIntent(captured, { operationNo: 'C1', amountMinor: 3001n }, at).status).toBe('UNKNOWN');
    expect(operationResultFromIntent(captured, 'F1', at)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
    const released = hold({ status: 'canceled', amount_capturable: 0, canceled_at: 1_800_000_000, metadata: { [metadataKeys.freezeOperationNo]: 'F1', [metadataKeys.releaseOperationNo]: 'U1' } });
    expect(releaseResultFromIntent(released, { operationNo: 'U1' }, at)).toMatchObject({ status: 'SUCCEEDED', finishedAt: new Date(1_800_000_000_000) });
    expect(releaseResultFromIntent(hold({ metadata: { [metadataKeys.releaseOperationNo]: 'U1' } }), { operationNo: 'U1' }, at)).toMatchObject({ status: 'FAILED', code: 'hold_still_open' });
    expect(operationResultFromIntent(released, 'F1', at)?.status).toBe('SUCCEEDED');
    expect(operationResultFromIntent(released, 'X', at)).toBeNull();
    expect(freezeResultFromIntent(hold({ status: 'canceled' }), { operationNo: 'F1' })).toMatchObject({ status: 'FAILED', code: 'canceled' });
    expect(freezeResultFromIntent(hold({ status: 'requires_reauthorization' }), { operationNo: 'F1' }).status).toBe('UNKNOWN');
  });
});

describe('webhooks', () => {
  const event = (type: string, object: unknown) => ({ id: 'evt_1', object: 'event', type, created: 1_800_000_000, data: { object } });

  it('maps PaymentIntent and refund events to notifications', () => {
    expect(notificationFromEvent(event('payment_intent.succeeded', intent()))).toMatchObject({
      ok: true, eventId: 'evt_1', notification: { kind: 'PAYMENT', attemptNo: 'A1', result: { status: 'SUCCEEDED', paidAt: new Date(1_800_000_000_000) } },
    });
    expect(notificationFromEvent(event('refund.updated', refund()))).toMatchObject({ ok: true, notification: { kind: 'REFUND', refundNo: 'R1', result: { status: 'SUCCEEDED' } } });
    const hold = intent({ capture_method: 'manual', status: 'requires_capture', amount_capturable: 1999, amount_received: 0, metadata: { [metadataKeys.freezeOperationNo]: 'F1' } });
    expect(notificationFromEvent(event('payment_intent.amount_capturable_updated', hold))).toMatchObject({ ok: true, notification: { kind: 'OPERATION', operationNo: 'F1', result: { status: 'SUCCEEDED' } } });
  });

  it('ignores event types it does not act on, and refuses events it cannot attribute', () => {
    expect(notificationFromEvent(event('charge.refunded', { id: 'ch_1' }))).toMatchObject({ ok: true, notification: { kind: 'IGNORED', about: 'event charge.refunded' } });
    expect(notificationFromEvent(event('payment_intent.succeeded', intent({ metadata: {} })))).toMatchObject({ ok: false });
    expect(notificationFromEvent(event('payment_intent.succeeded', { id: 'pi_1' }))).toMatchObject({ ok: false });
    expect(notificationFromEvent({ hello: 'world' })).toMatchObject({ ok: false });
  });

  it('reads exactly one signed timestamp', () => {
    expect(signatureTimestamp('t=1700000000,v1=abc')).toBe(1_700_000_000);
    expect(signatureTimestamp('v1=abc')).toBeNull();
    expect(signatureTimestamp('t=1700000000,t=1800000000,v1=abc')).toBeNull();
    expect(signatureTimestamp('t=17x,v1=abc')).toBeNull();
  });

});

describe('search, days and statements', () => {
  it('escapes quotes in metadata clauses', () => {
    expect(metadataClause('tongbao_attempt_no', "A'1\\")).toBe("metadata['tongbao_attempt_no']:'A\\'1\\\\'");
  });

  it('turns a UTC day into unix seconds and refuses impossible days', () => {
    expect(utcDayRange('2024-02-29')).toEqual({ gte: 1_709_164_800, lt: 1_709_251_200 });
    expect(utcDayRange('2023-02-29')).toBeNull();
    expect(utcDayRange('2024-2-1')).toBeNull();
  });

  it('writes the statement oldest first with a header line', () => {
    const csv = statementCsv([
      { id: 'txn_2', object: 'balance_transaction', amount: -500, fee: 0, net: -500, currency: 'usd', type: 'refund', source: 're_1', created: 1_700_000_100 },
      { id: 'txn_1', object: 'balance_transaction', amount: 1999, fee: 57, net: 1942, currency: 'usd', type: 'charge', source: { id: 'ch_1' }, created: 1_700_000_000 },
    ]);
    expect(csv.split('\n')).toEqual([
      statementHeader,
      'txn_1,charge,ch_1,1999,57,1942,USD,2023-11-14T22:13:20.000Z',
      'txn_2,refund,re_1,-500,0,-500,USD,2023-11-14T22:15:00.000Z',
      '',
    ]);
  });
});

describe('configuration', () => {
  const valid = { secretKey: 'sk_test_abcdefghijklmnop', webhookSecret: 'whsec_abcdefghijklmnop', timeoutMs: 1000 };

  it('fills defaults and parses the base URL', () => {
    const config = parseStripeConfig({ ...valid, apiBaseUrl: 'http://127.0.0.1:12111' });
    expect(config.api).toEqual({ protocol: 'http', host: '127.0.0.1', port: 12111 });
    expect(parseStripeConfig(valid).api).toEqual({ protocol: 'https', host: 'api.stripe.com', port: 443 });
    expect(config.webhookToleranceSeconds).toBe(300);
  });

  it('names the bad field and never prints a secret', () => {
    expect(() => parseStripeConfig({ ...valid, timeoutMs: 0 })).toThrow(/field timeoutMs/);
    expect(() => parseStripeConfig({ ...valid, webhookToleranceSeconds: 301 })).toThrow(/field webhookToleranceSeconds/);
    expect(() => parseStripeConfig({ ...valid, apiBaseUrl: 'ftp://x' })).toThrow(/field apiBaseUrl/);
    expect(() => parseStripeConfig({ ...valid, secretKey: 'pk_test_leakedvalue123' })).toThrow(/field secretKey/);
    expect(() => parseStripeConfig({ ...valid, secretKey: 'pk_test_leakedvalue123' })).not.toThrow(/leakedvalue/);
    expect(() => parseStripeConfig({ ...valid, extra: 1 })).toThrow(/invalid Stripe configuration/);
    const config = parseStripeConfig(valid);
    expect(JSON.stringify(config)).not.toContain('abcdefghijklmnop');
    expect(inspect(config, { depth: 5 })).not.toContain('abcdefghijklmnop');
    expect(config.secretKey.reveal()).toBe(valid.secretKey);
  });
});
