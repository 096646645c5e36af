import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeAdapter, metadataKeys, paymentIntentEvents, refundEvents, statementHeader, type StripeAdapter } from '../../src/channels/stripe/index.js';
import { notificationSubjectNo, type ChannelPayRequest, type ChannelRefundRequest, type NotificationVerification } from '../../src/channels/types.js';
import { startStripeSimulator, stripeSignatureHeader, type StripeSimulator } from '../simulators/stripe/simulator.js';
import { waitFor } from '../helpers/wait.js';
import { queryOf, refundQueryOf } from '../helpers/channel-requests.js';

const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
const timeoutMs = 400;

interface ReceivedCallback {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly verification: NotificationVerification;
}

/** Stands in for Tongbao's callback route: verifies each webhook with the adapter and acknowledges it. */
class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private server: Server | null = null;
  url = '';

  constructor(private readonly adapter: () => StripeAdapter) {}

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      let rawBody = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (rawBody += chunk));
      incoming.on('end', () => {
        const verification = this.adapter().verifyNotification({ headers: incoming.headers, rawBody });
        this.received.push({ headers: incoming.headers, rawBody, verification });
        const acknowledgement = this.adapter().acknowledge(verification.ok);
        outgoing.writeHead(acknowledgement.statusCode, { 'content-type': acknowledgement.contentType }).end(acknowledgement.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notify/stripe`;
  }

  /** Verified notifications about one of Tongbao's numbers, in arrival order. */
  about(no: string) {
    return this.received.flatMap(({ verification }) => (verification.ok && notificationSubjectNo(verification.notification) === no ? [verification.notification] : []));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let counter = 0;
const uniqueNo = (prefix: string) => `${prefix}${(counter += 1)}_${randomBytes(3).toString('hex')}`;
const todayUtc = () => new Date().toISOString().slice(0, 10);

describe('Stripe channel against the simulator', () => {
  let stripe: StripeSimulator;
  let adapter: StripeAdapter;
  const receiver = new CallbackReceiver(() => adapter);
  const extraAdapters: StripeAdapter[] = [];
  const adapterWith = (overrides: Record<string, unknown> = {}): StripeAdapter => {
    const created = createStripeAdapter({ secretKey: stripe.secretKey, webhookSecret, apiBaseUrl: stripe.url, timeoutMs, ...overrides });
    extraAdapters.push(created);
    return created;
  };

  const payRequest = (overrides: Partial<ChannelPayRequest> = {}): ChannelPayRequest => ({
    attemptNo: uniqueNo('A'),
    tradeNo: uniqueNo('T'),
    amountMinor: 1999n,
    currency: 'USD',
    subject: 'Tea set',
    expiresAt: new Date(Date.now() + 15 * 60_000),
    notifyUrl: receiver.url,
    payer: { type: 'stripe_payment_method', id: 'pm_card_visa' },
    ...overrides,
  });
  const refundRequest = (payment: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor'>, amountMinor: bigint, overrides: Partial<ChannelRefundRequest> = {}): ChannelRefundRequest => ({
    refundNo: uniqueNo('R'),
    attemptNo: payment.attemptNo,
    channelTradeNo: null,
    paymentAmountMinor: payment.amountMinor,
    amountMinor,
    currency: 'USD',
    reason: 'customer asked',
    notifyUrl: receiver.url,
    ...overrides,
  });
  const paid = async (overrides: Partial<ChannelPayRequest> = {}) => {
    const request = payRequest(overrides);
    const result = await adapter.pay(request);
    if (result.status !== 'SUCCEEDED') throw new Error(`setup payment did not succeed: ${JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    return { request, result };
  };

  beforeAll(async () => {
    stripe = await startStripeSimulator({ refundFailDelayMs: 100 });
    await receiver.start();
    stripe.addWebhookEndpoint(receiver.url, webhookSecret, [...paymentIntentEvents, ...refundEvents]);
    adapter = createStripeAdapter({ secretKey: stripe.secretKey, webhookSecret, apiBaseUrl: stripe.url, timeoutMs });
  });

  afterAll(async () => {
    await Promise.all(extraAdapters.map((extra) => extra.dispose()));
    await adapter.dispose();
    await stripe.close();
    await receiver.close();
  });

  describe('capabilities', () => {
    it('declares what it implements, and nothing else', () => {
      expect(adapter.capabilities).toMatchObject({ products: ['STRIPE_CARD'], refund: true, partialRefund: true, close: true, cancel: false, preauth: true, payout: false, statement: true });
      expect(adapter.capabilities.currencies).toEqual(expect.arrayContaining(['USD', 'JPY', 'KWD']));
      expect(adapter.cancel).toBeUndefined();
      expect(adapter.payouts).toBeUndefined();
      expect(typeof adapter.preauth.freeze).toBe('function');
    });

    it('never shows a credential when printed', () => {
      const printed = `${JSON.stringify(adapter)} ${inspect(adapter, { depth: 10 })}`;
      expect(printed).not.toContain(stripe.secretKey);
      expect(printed).not.toContain(webhookSecret);
      expect(JSON.parse(JSON.stringify(adapter))).toMatchObject({ name: 'stripe', capabilities: { maxAmountMinor: '99999999' } });
    });
  });

  describe('pay and query', () => {
    it('charges a card once, with the attempt number as idempotency key and metadata, and the query agrees', async () => {
      const { request, result } = await paid();
      expect(result).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n, currency: 'USD', channelTradeNo: expect.stringMatching(/^pi_/) });
      const create = stripe.requests.find((seen) => seen.method === 'POST' && seen.params.metadata && (seen.params.metadata as Record<string, string>)[metadataKeys.attemptNo] === request.attemptNo);
      expect(create).toMatchObject({ path: '/v1/payment_intents', idempotencyKey: request.attemptNo, authorized: true, params: { amount: '1999', currency: 'usd', confirm: 'true', capture_method: 'automatic' } });
      expect(await adapter.query(queryOf(request))).toEqual(result);
      const [notification] = await waitFor(() => (receiver.about(request.attemptNo).length > 0 ? receiver.about(request.attemptNo) : undefined));
      expect(notification).toMatchObject({ kind: 'PAYMENT', result: { status: 'SUCCEEDED', amountMinor: 1999n } });
    });

    it('charges once when the same attempt is sent again, and refuses the same attempt with another amount', async () => {
      const { request, result } = await paid();
      expect(await adapter.pay(request)).toEqual(result);
      expect([...stripe.account.intents.values()].filter((intent) => intent.metadata[metadataKeys.attemptNo] === request.attemptNo)).toHaveLength(1);
      expect(await adapter.pay({ ...request, amountMinor: 2999n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('idempotency_error') });
    });

    it('pays in zero- and three-decimal currencies with the same minor units', async () => {
      expect((await paid({ amountMinor: 500n, currency: 'JPY' })).result).toMatchObject({ amountMinor: 500n, currency: 'JPY' });
      expect(stripe.requests.at(-1)?.params).toMatchObject({ amount: '500', currency: 'jpy' });
      expect((await paid({ amountMinor: 1230n, currency: 'KWD' })).result).toMatchObject({ amountMinor: 1230n, currency: 'KWD' });
      const before = stripe.requests.length;
      expect(await adapter.pay(payRequest({ amountMinor: 1234n, currency: 'KWD' }))).toMatchObject({ status: 'FAILED', code: 'amount_not_representable' });
      expect(await adapter.pay(payRequest({ currency: 'ISK' }))).toMatchObject({ status: 'FAILED', code: 'currency_not_supported' });
      expect(await adapter.pay(payRequest({ product: 'STRIPE_ALIPAY' }))).toMatchObject({ status: 'FAILED', code: 'product_not_supported' });
      expect(stripe.requests.length).toBe(before);
    });

    it('turns card declines (HTTP 402) into FAILED with the decline code, and the query agrees', async () => {
      const declined = payRequest({ payer: { type: 'stripe_payment_method', id: 'pm_card_chargeDeclined' } });
      const result = await adapter.pay(declined);
      expect(result).toMatchObject({ status: 'FAILED', code: 'generic_decline', channelTradeNo: expect.stringMatching(/^pi_/) });
      expect(await adapter.query(queryOf(declined))).toMatchObject({ status: 'FAILED', code: 'generic_decline' });
      expect(await adapter.pay(payRequest({ payer: { type: 'stripe_payment_method', id: 'pm_card_chargeDeclinedInsufficientFunds' } }))).toMatchObject({ status: 'FAILED', code: 'insufficient_funds' });
    });

    it('turns a 400 invalid request into FAILED with its code; nothing was created', async () => {
      const tooSmall = payRequest({ amountMinor: 30n });
      expect(await adapter.pay(tooSmall)).toMatchObject({ status: 'FAILED', code: 'amount_too_small' });
      expect(await adapter.query(queryOf(tooSmall))).toEqual({ status: 'NOT_FOUND' });
      expect(await adapter.pay(payRequest({ payer: { type: 'stripe_payment_method', id: 'pm_nope' } }))).toMatchObject({ status: 'FAILED', code: 'resource_missing' });
      expect(await adapter.pay(payRequest({ payer: undefined }))).toMatchObject({ status: 'FAILED', code: 'payment_method_required' });
    });

    it('answers FAILED invalid_api_key on a wrong key, without printing the key', async () => {
      const wrong = adapterWith({ secretKey: `sk_test_${'x'.repeat(24)}wxyz` });
      const result = await wrong.pay(payRequest());
      expect(result).toMatchObject({ status: 'FAILED', code: 'invalid_api_key' });
      expect(JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('x'.repeat(24));
      expect(stripe.requests.at(-1)?.authorized).toBe(false);
    });

    it('returns the redirect for 3-D Secure, then the webhook and query report the result', async () => {
      const request = payRequest({ payer: { type: 'stripe_payment_method', id: 'pm_card_authenticationRequired' }, returnUrl: 'https://shop.example/back' });
      const result = await adapter.pay(request);
      expect(result).toMatchObject({ status: 'PENDING', payerAction: { type: 'REDIRECT', url: `${stripe.url}/3ds/${result.status === 'PENDING' ? result.channelTradeNo : ''}` } });
      expect(await adapter.pay(payRequest({ payer: { type: 'stripe_payment_method', id: 'pm_card_threeDSecure2Required' } }))).toMatchObject({
        status: 'PENDING', payerAction: { type: 'SDK', parameters: { client_secret: expect.stringContaining('_secret_') } },
      });
      stripe.account.completeAuthentication(result.status === 'PENDING' ? result.channelTradeNo! : '', true);
      await waitFor(() => receiver.about(request.attemptNo).find((notification) => notification.kind === 'PAYMENT' && notification.result.status === 'SUCCEEDED'));
      expect(await adapter.query(queryOf(request))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n });
    });

    it('reports asynchronous settlement as PENDING until it settles either way', async () => {
      stripe.account.asyncSettlement = true;
      const later = payRequest();
      const failing = payRequest();
      try {
        expect(await adapter.pay(later)).toMatchObject({ status: 'PENDING' });
        expect(await adapter.pay(failing)).toMatchObject({ status: 'PENDING' });
      } finally {
        stripe.account.asyncSettlement = false;
      }
      expect(await adapter.query(queryOf(later))).toMatchObject({ status: 'PENDING' });
      stripe.account.settle(stripe.intentByMetadata(metadataKeys.attemptNo, later.attemptNo)!.id, 'succeeded');
      stripe.account.settle(stripe.intentByMetadata(metadataKeys.attemptNo, failing.attemptNo)!.id, 'failed');
      expect(await adapter.query(queryOf(later))).toMatchObject({ status: 'SUCCEEDED' });
      expect(await adapter.query(queryOf(failing))).toMatchObject({ status: 'FAILED', code: 'generic_decline' });
      await waitFor(() => receiver.about(later.attemptNo).find((notification) => notification.kind === 'PAYMENT' && notification.result.status === 'SUCCEEDED'));
      await waitFor(() => receiver.about(failing.attemptNo).find((notification) => notification.kind === 'PAYMENT' && notification.result.status === 'FAILED'));
    });

    it('gives up on a hang at the timeout with UNKNOWN, never FAILED; the query tells whether money moved', async () => {
      const untouched = payRequest();
      stripe.hangNext({ method: 'POST', path: '/v1/payment_intents' });
      const startedAt = Date.now();
      expect(await adapter.pay(untouched)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(Date.now() - startedAt).toBeLessThan(timeoutMs + 600);
      expect(await adapter.query(queryOf(untouched))).toEqual({ status: 'NOT_FOUND' });
      const charged = payRequest();
      stripe.hangNext({ method: 'POST', path: '/v1/payment_intents', afterProcessing: true });
      expect(await adapter.pay(charged)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await adapter.query(queryOf(charged))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n });
    });

    it('queues calls in its own bounded pool, and a call stuck behind a hang is UNKNOWN at the deadline', async () => {
      const narrow = adapterWith({ maxConnections: 1 });
      const [first, second] = [payRequest(), payRequest()];
      stripe.hangNext({ method: 'POST', path: '/v1/payment_intents' });
      const sentBefore = stripe.requests.length;
      const results = await Promise.all([narrow.pay(first), narrow.pay(second)]);
      expect(results).toEqual([{ status: 'UNKNOWN', reason: 'timeout' }, { status: 'UNKNOWN', reason: 'timeout' }]);
      // The queued call left only when the hung connection was torn down, too late for its deadline; it still charged.
      await waitFor(() => (stripe.requests.length >= sentBefore + 2 ? true : undefined));
      const statuses = [(await adapter.query(queryOf(first))).status, (await adapter.query(queryOf(second))).status];
      expect(statuses.sort()).toEqual(['NOT_FOUND', 'SUCCEEDED']);
    });

    it('answers UNKNOWN on a 5xx, whether or not the charge went through', async () => {
      const untouched = payRequest();
      stripe.failNext({ method: 'POST', path: '/v1/payment_intents', status: 500 });
      expect(await adapter.pay(untouched)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('500') });
      expect(await adapter.query(queryOf(untouched))).toEqual({ status: 'NOT_FOUND' });
      const charged = payRequest();
      stripe.failNext({ method: 'POST', path: '/v1/payment_intents', status: 503, afterProcessing: true });
      expect(await adapter.pay(charged)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('503') });
      expect(await adapter.query(queryOf(charged))).toMatchObject({ status: 'SUCCEEDED' });
      stripe.failNext({ method: 'GET', path: '/v1/payment_intents/search', status: 502 });
      expect(await adapter.query(queryOf(charged))).toMatchObject({ status: 'UNKNOWN' });
    });

    it('never reports success when the echo has the wrong amount, currency, attempt or an unknown status', async () => {
      const alterings: Array<[string, (body: Record<string, unknown>) => unknown, string]> = [
        ['amount', (body) => ({ ...body, amount: 1, amount_received: 1 }), 'amount mismatch'],
        ['currency', (body) => ({ ...body, currency: 'eur' }), 'currency mismatch'],
        ['attempt', (body) => ({ ...body, metadata: { [metadataKeys.attemptNo]: 'someone-else' } }), 'someone-else'],
        ['status', (body) => ({ ...body, status: 'requires_reauthorization' }), 'requires_reauthorization'],
        ['shape', (body) => ({ ...body, amount: '1999' }), 'unreadable'],
      ];
      for (const [, alter, reason] of alterings) {
        stripe.alterNextAnswer((body) => alter(body as Record<string, unknown>), { method: 'POST', path: '/v1/payment_intents' });
        expect(await adapter.pay(payRequest())).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining(reason) });
      }
      stripe.alterNextAnswer((body) => ({ ...(body as object), status: 'requires_capture' }), { method: 'POST', path: '/v1/payment_intents' });
      expect((await adapter.pay(payRequest())).status).not.toBe('SUCCEEDED');
    });

    it('is not fooled by the lag of Stripe search: an empty search is confirmed by the list', async () => {
      const { request, result } = await paid();
      stripe.account.searchLagMs = 60_000;
      try {
        const fresh = await paid();
        expect(await adapter.query(queryOf(fresh.request))).toEqual(fresh.result);
        expect(stripe.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/payment_intents' });
        expect(await adapter.query(queryOf(request))).toEqual(result);
      } finally {
        stripe.account.searchLagMs = 0;
      }
    });

    it('answers UNKNOWN, not NOT_FOUND, when the bounded list scan ends before the account does', async () => {
      for (let index = 0; index < 110; index += 1) {
        stripe.account.createIntent({ amount: '100', currency: 'usd', confirm: 'true', payment_method: 'pm_card_visa', capture_method: 'automatic' });
      }
      const never = queryOf({ attemptNo: uniqueNo('NONE'), amountMinor: 100n, currency: 'USD' });
      expect(await adapterWith({ maxLookupPages: 1 }).query(never)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('stopped') });
      expect(await adapter.query(never)).toEqual({ status: 'NOT_FOUND' });
    });
  });

  describe('refunds', () => {
    it('refunds in full with the refund number as idempotency key; the query and the webhook agree', async () => {
      const { request, result } = await paid();
      const refund = refundRequest(request, 1999n, { channelTradeNo: result.status === 'SUCCEEDED' ? result.channelTradeNo : null });
      const refunded = await adapter.refund(refund);
      expect(refunded).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n, currency: 'USD', channelRefundNo: expect.stringMatching(/^re_/) });
      expect(stripe.requests.at(-1)).toMatchObject({ path: '/v1/refunds', idempotencyKey: refund.refundNo, params: { amount: '1999', metadata: { [metadataKeys.refundNo]: refund.refundNo } } });
      expect(await adapter.refund(refund)).toEqual(refunded);
      expect(await adapter.queryRefund(refundQueryOf(refund))).toEqual(refunded);
      await waitFor(() => receiver.about(refund.refundNo).find((notification) => notification.kind === 'REFUND' && notification.result.status === 'SUCCEEDED'));
      expect(await adapter.refund(refundRequest(request, 1n))).toMatchObject({ status: 'FAILED', code: 'charge_already_refunded' });
    });

    it('refunds in parts, finding the payment by its attempt number, and declines an over-refund', async () => {
      const { request } = await paid({ amountMinor: 3000n });
      expect(await adapter.refund(refundRequest(request, 1000n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1000n });
      expect(await adapter.refund(refundRequest(request, 1500n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1500n });
      const over = refundRequest(request, 501n);
      expect(await adapter.refund(over)).toMatchObject({ status: 'FAILED', code: 'amount_too_large' });
      expect(await adapter.queryRefund(refundQueryOf(over))).toEqual({ status: 'NOT_FOUND' });
      expect(await adapter.refund(refundRequest({ attemptNo: uniqueNo('NEVER'), amountMinor: 100n }, 100n))).toMatchObject({ status: 'FAILED', code: 'payment_not_found' });
    });

    it('reports a pending refund until it settles, and a refund that fails later', async () => {
      const { request } = await paid();
      stripe.account.refundSettlement = 'pending';
      const pending = refundRequest(request, 500n);
      const failing = refundRequest(request, 500n);
      try {
        expect(await adapter.refund(pending)).toMatchObject({ status: 'PENDING' });
        expect(await adapter.refund(failing)).toMatchObject({ status: 'PENDING' });
      } finally {
        stripe.account.refundSettlement = 'immediate';
      }
      expect(await adapter.queryRefund(refundQueryOf(pending))).toMatchObject({ status: 'PENDING' });
      const refundIdOf = (refundNo: string) => [...stripe.account.refunds.values()].find((refund) => refund.metadata[metadataKeys.refundNo] === refundNo)!.id;
      stripe.account.settleRefund(refundIdOf(pending.refundNo), 'succeeded');
      stripe.account.settleRefund(refundIdOf(failing.refundNo), 'failed');
      expect(await adapter.queryRefund(refundQueryOf(pending))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 500n });
      expect(await adapter.queryRefund(refundQueryOf(failing))).toMatchObject({ status: 'FAILED', code: 'expired_or_canceled_card' });

      const card = await paid({ payer: { type: 'stripe_payment_method', id: 'pm_card_refundFail' } });
      const late = refundRequest(card.request, 1999n);
      expect(await adapter.refund(late)).toMatchObject({ status: 'SUCCEEDED' });
      await waitFor(() => receiver.about(late.refundNo).find((notification) => notification.kind === 'REFUND' && notification.result.status === 'FAILED'));
      expect(await adapter.queryRefund(refundQueryOf(late))).toMatchObject({ status: 'FAILED' });
    });

    it('answers UNKNOWN for a refund that hangs, fails with 5xx or echoes another amount', async () => {
      const { request } = await paid();
      stripe.hangNext({ method: 'POST', path: '/v1/refunds' });
      expect(await adapter.refund(refundRequest(request, 100n))).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      stripe.failNext({ method: 'POST', path: '/v1/refunds', status: 500, afterProcessing: true });
      const moved = refundRequest(request, 100n);
      expect(await adapter.refund(moved)).toMatchObject({ status: 'UNKNOWN' });
      expect(await adapter.queryRefund(refundQueryOf(moved))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 100n });
      stripe.alterNextAnswer((body) => ({ ...(body as object), amount: 99 }), { method: 'POST', path: '/v1/refunds' });
      expect(await adapter.refund(refundRequest(request, 100n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });
    });
  });

  describe('close', () => {
    it('cancels an unpaid attempt, reports a paid one, and closes one Stripe never saw', async () => {
      const waiting = payRequest({ payer: { type: 'stripe_payment_method', id: 'pm_card_authenticationRequired' } });
      expect(await adapter.pay(waiting)).toMatchObject({ status: 'PENDING' });
      expect(await adapter.close(waiting.attemptNo)).toEqual({ status: 'CLOSED' });
      expect(await adapter.query(queryOf(waiting))).toMatchObject({ status: 'FAILED', code: 'canceled' });
      expect(await adapter.close(waiting.attemptNo)).toEqual({ status: 'CLOSED' });
      const { request } = await paid();
      expect(await adapter.close(request.attemptNo)).toEqual({ status: 'ALREADY_PAID' });
      expect(await adapter.close(uniqueNo('NEVER'))).toEqual({ status: 'CLOSED' });
    });

    it('finds a payment that succeeded just before the cancel, and keeps a processing one UNKNOWN', async () => {
      const { request } = await paid();
      stripe.alterNextAnswer((body) => {
        const page = body as { data: Array<Record<string, unknown>> };
        return { ...page, data: page.data.map((intent) => ({ ...intent, status: 'requires_action' })) };
      }, { method: 'GET', path: '/v1/payment_intents/search' });
      expect(await adapter.close(request.attemptNo)).toEqual({ status: 'ALREADY_PAID' });
      stripe.account.asyncSettlement = true;
      const processing = payRequest();
      try {
        await adapter.pay(processing);
      } finally {
        stripe.account.asyncSettlement = false;
      }
      expect(await adapter.close(processing.attemptNo)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('processing') });
    });
  });

  describe('pre-authorization by manual capture', () => {
    const freezeRequest = (overrides: Record<string, unknown> = {}) => ({
      operationNo: uniqueNo('F'), amountMinor: 5000n, currency: 'USD', subject: 'Hotel deposit', expiresAt: new Date(Date.now() + 86_400_000),
      notifyUrl: receiver.url, payer: { type: 'stripe_payment_method', id: 'pm_card_visa' }, ...overrides,
    });

    it('holds, captures part (Stripe releases the rest) and answers each step by query and webhook', async () => {
      const freeze = freezeRequest();
      const held = await adapter.preauth.freeze(freeze);
      expect(held).toMatchObject({ status: 'SUCCEEDED', channelRef: expect.stringMatching(/^pi_/), amountMinor: 5000n, currency: 'USD' });
      const authRef = held.status === 'SUCCEEDED' ? held.channelRef : '';
      expect(stripe.intent(authRef)).toMatchObject({ capture_method: 'manual', status: 'requires_capture' });
      expect(await adapter.preauth.query(freeze.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
      await waitFor(() => receiver.about(freeze.operationNo).find((notification) => notification.kind === 'OPERATION' && notification.result.status === 'SUCCEEDED'));

      const completeNo = uniqueNo('C');
      const step = { operationNo: completeNo, authRef, amountMinor: 3000n, currency: 'USD', notifyUrl: receiver.url };
      expect(await adapter.preauth.complete({ ...step, amountMinor: 5001n })).toMatchObject({ status: 'FAILED', code: 'amount_too_large' });
      expect(await adapter.preauth.complete(step)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3000n, channelRef: authRef });
      expect(stripe.requests.at(-1)).toMatchObject({ path: `/v1/payment_intents/${authRef}/capture`, idempotencyKey: completeNo, params: { amount_to_capture: '3000' } });
      expect(await adapter.preauth.query(completeNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3000n });
      expect(await adapter.preauth.query(freeze.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
      await waitFor(() => receiver.about(completeNo).find((notification) => notification.kind === 'OPERATION' && notification.result.status === 'SUCCEEDED'));

      const release = { ...step, operationNo: uniqueNo('U'), amountMinor: 5000n };
      expect(await adapter.preauth.unfreeze(release)).toMatchObject({ status: 'FAILED', code: 'already_captured' });
      const completeCancel = await adapter.preauth.completeCancel({ ...step, operationNo: uniqueNo('X'), completeRef: authRef });
      expect(completeCancel).toMatchObject({ status: 'FAILED', code: 'stripe_cannot_reopen_hold' });
    });

    it('releases a hold in full, and says so by query and webhook', async () => {
      const freeze = freezeRequest();
      const held = await adapter.preauth.freeze(freeze);
      const authRef = held.status === 'SUCCEEDED' ? held.channelRef : '';
      const release = { operationNo: uniqueNo('U'), authRef, amountMinor: 5000n, currency: 'USD', notifyUrl: receiver.url };
      expect(await adapter.preauth.unfreeze(release)).toMatchObject({ status: 'SUCCEEDED', channelRef: authRef, amountMinor: 5000n });
      expect(stripe.intent(authRef)).toMatchObject({ status: 'canceled', amount_capturable: 0 });
      expect(await adapter.preauth.unfreeze(release)).toMatchObject({ status: 'SUCCEEDED' });
      expect(await adapter.preauth.query(release.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
      expect(await adapter.preauth.query(freeze.operationNo)).toMatchObject({ status: 'SUCCEEDED' });
      await waitFor(() => receiver.about(release.operationNo).find((notification) => notification.kind === 'OPERATION' && notification.result.status === 'SUCCEEDED'));
      expect(await adapter.preauth.complete({ ...release, operationNo: uniqueNo('C') })).toMatchObject({ status: 'FAILED', code: 'payment_intent_unexpected_state' });
    });

    it('declines, refuses without a payment method, times out as UNKNOWN and knows nothing of a stranger', async () => {
      expect(await adapter.preauth.freeze(freezeRequest({ payer: { type: 'stripe_payment_method', id: 'pm_card_chargeDeclinedInsufficientFunds' } }))).toMatchObject({ status: 'FAILED', code: 'insufficient_funds' });
      expect(await adapter.preauth.freeze(freezeRequest({ payer: undefined }))).toMatchObject({ status: 'FAILED', code: 'payment_method_required' });
      stripe.hangNext({ method: 'POST', path: '/v1/payment_intents', afterProcessing: true });
      const hung = freezeRequest();
      expect(await adapter.preauth.freeze(hung)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await adapter.preauth.query(hung.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
      expect(await adapter.preauth.query(uniqueNo('NONE'))).toEqual({ status: 'NOT_FOUND' });
    });
  });

  describe('webhook verification', () => {
    const eventBody = (attemptNo = uniqueNo('CB')) => {
      const created = Math.floor(Date.now() / 1000);
      const intent = {
        id: `pi_${randomBytes(8).toString('hex')}`, object: 'payment_intent', amount: 700, amount_capturable: 0, amount_received: 700, currency: 'usd',
        status: 'succeeded', capture_method: 'automatic', created, metadata: { [metadataKeys.attemptNo]: attemptNo }, last_payment_error: null, next_action: null,
      };
      return JSON.stringify({ id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', type: 'payment_intent.succeeded', created, data: { object: intent } }, null, 2);
    };
    const signed = (rawBody: string, options: { secret?: string; at?: number } = {}) => ({
      headers: { 'stripe-signature': stripeSignatureHeader(rawBody, options.secret ?? webhookSecret, options.at ?? Math.floor(Date.now() / 1000)) },
      rawBody,
    });

    it('accepts a delivery signed with the endpoint secret', () => {
      expect(adapter.verifyNotification(signed(eventBody('CB-OK')))).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', attemptNo: 'CB-OK', result: { status: 'SUCCEEDED', amountMinor: 700n } } });
    });

    it('rejects a tampered body, a wrong secret and a missing header, and ignores a genuine event it does not act on', () => {
      const genuine = signed(eventBody());
      const tampered = genuine.rawBody.replace('"amount": 700', '"amount": 70000');
      expect(tampered).not.toBe(genuine.rawBody);
      expect(adapter.verifyNotification({ ...genuine, rawBody: tampered })).toEqual({ ok: false, reason: 'invalid signature' });
      expect(adapter.verifyNotification(signed(eventBody(), { secret: `whsec_${randomBytes(24).toString('base64url')}` }))).toEqual({ ok: false, reason: 'invalid signature' });
      expect(adapter.verifyNotification({ headers: {}, rawBody: eventBody() })).toEqual({ ok: false, reason: 'missing Stripe-Signature' });
      expect(adapter.verifyNotification(signed(JSON.stringify({ id: 'evt_x', object: 'event', type: 'customer.created', created: 1, data: { object: {} } })))).toMatchObject({
        ok: true, notification: { kind: 'IGNORED', about: 'event customer.created' },
      });
      expect(adapter.verifyNotification(signed(eventBody().replace(`"${metadataKeys.attemptNo}"`, '"someone_elses_number"')))).toMatchObject({ ok: false });
      expect(adapter.verifyNotification(signed('not json'))).toMatchObject({ ok: false });
    });

    it('names a delivery by its event and signed timestamp: a replay has the same key, Stripe re-sending the event a new one', async () => {
      const rawBody = eventBody();
      const delivery = signed(rawBody);
      const first = adapter.verifyNotification(delivery);
      expect(first).toMatchObject({ ok: true, replayKey: expect.stringMatching(/^evt_\w+:\d+$/) });
      expect(adapter.verifyNotification(delivery)).toEqual(first);
      const resigned = adapter.verifyNotification(signed(rawBody, { at: Math.floor(Date.now() / 1000) - 1 }));
      expect(resigned).toMatchObject({ ok: true });
      expect(resigned.ok && first.ok && resigned.replayKey !== first.replayKey).toBe(true);
      const event = stripe.events.find((candidate) => candidate.type === 'payment_intent.succeeded')!;
      const before = receiver.received.length;
      stripe.resendEvent(event.id, receiver.url);
      const resent = await waitFor(() => receiver.received[before]);
      expect(resent.verification).toMatchObject({ ok: true });
    });

    it('rejects stale and future timestamps beyond 300 seconds', () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      expect(adapter.verifyNotification(signed(eventBody(), { at: nowSeconds - 301 }))).toEqual({ ok: false, reason: 'stale timestamp' });
      expect(adapter.verifyNotification(signed(eventBody(), { at: nowSeconds + 301 }))).toEqual({ ok: false, reason: 'stale timestamp' });
      expect(adapter.verifyNotification(signed(eventBody(), { at: nowSeconds - 290 }))).toMatchObject({ ok: true });
    });

    it("acknowledges in Stripe's terms", () => {
      expect(adapter.acknowledge(true)).toEqual({ statusCode: 200, contentType: 'application/json', body: '{"received":true}' });
      expect(adapter.acknowledge(false).statusCode).toBe(400);
    });
  });

  it('had every webhook about a Tongbao number verified and acknowledged with 200', () => {
    const ours = new Set(
      stripe.events
        .filter((event) => Object.keys((event.data.object as { metadata?: Record<string, string> }).metadata ?? {}).some((key) => key.startsWith('tongbao_')))
        .map((event) => event.id),
    );
    const deliveries = stripe.deliveries.filter((delivery) => ours.has(delivery.eventId));
    expect(deliveries.length).toBeGreaterThan(20);
    expect(deliveries.filter((delivery) => delivery.statusCode !== 200)).toEqual([]);
  });

  describe('statement', () => {
    it("lists the day's balance transactions as CSV across pages", async () => {
      const { result } = await paid({ amountMinor: 4321n });
      // Enough transactions today for Stripe to answer in more than one page of 100.
      while (stripe.account.balanceTransactions.length <= 120) {
        stripe.account.createIntent({ amount: '100', currency: 'usd', confirm: 'true', payment_method: 'pm_card_visa', capture_method: 'automatic' });
      }
      const csv = await adapter.downloadStatement(todayUtc());
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe(statementHeader);
      expect(lines.length - 1).toBe(stripe.account.balanceTransactions.length);
      expect(lines.length - 1).toBeGreaterThan(100);
      const charge = stripe.intent(result.status === 'SUCCEEDED' ? result.channelTradeNo : '')!.latest_charge!;
      expect(lines.filter((line) => line.includes(`,charge,${charge},4321,125,4196,USD,${todayUtc()}T`))).toHaveLength(1);
      expect(lines.some((line) => /,refund,re_\w+,-1999,0,-1999,USD,/.test(line))).toBe(true);
      expect(await adapter.downloadStatement('2001-01-01')).toBe(`${statementHeader}\n`);
    });

    it('throws on a bad day or a failing Stripe rather than return a partial statement', async () => {
      await expect(adapter.downloadStatement('2024-13-01')).rejects.toThrow(/yyyy-MM-dd/);
      stripe.failNext({ method: 'GET', path: '/v1/balance_transactions', status: 500 });
      await expect(adapter.downloadStatement(todayUtc())).rejects.toThrow(/HTTP 500/);
      stripe.hangNext({ method: 'GET', path: '/v1/balance_transactions' });
      await expect(adapter.downloadStatement(todayUtc())).rejects.toThrow(/timeout/);
    });
  });
});
