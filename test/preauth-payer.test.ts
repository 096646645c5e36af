/**
 * A freeze (tongbao.preauth.freeze) names the payer whose means of payment is held, as a pay does
 * (payer_type, payer_id, passed to the channel and never stored), and a hold the payer has to finish at the
 * channel answers with the payer's action (payer_action), as a pending pay does. Through real channels against
 * their simulators: Stripe (a PaymentMethod, 3-D Secure) and UnionPay (a card token, or the gateway form).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataKeys } from '../src/channels/stripe/protocol.js';
import { startChannelFleet, type ChannelFleet, type PayAnswer } from './helpers/channel-fleet.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { preauthClient, until } from './helpers/preauth.js';

let t: TestInstance;
let fleet: ChannelFleet;
beforeAll(async () => {
  t = await startTestInstance();
  fleet = await startChannelFleet(t);
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  await t?.stop();
});

const p = preauthClient(() => t, () => undefined);
const freezeThrough = (channel: string, outOrderNo: string, amount: string, extra: Record<string, unknown> = {}) =>
  p.freeze(outOrderNo, amount, { channel, ...(channel === 'stripe' ? { currency: 'USD' } : {}), ...extra });

describe('the payer of a freeze', () => {
  it('holds a Stripe card named by its PaymentMethod, and refuses a hold without one, holding nothing', async () => {
    const held = await freezeThrough('stripe', 'pp-stripe', '80.00', { payer_type: 'stripe_payment_method', payer_id: 'pm_card_visa' });
    expect(held).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED', operationType: 'FREEZE', status: 'SUCCEEDED', amount: '80.00', currency: 'USD', channel: 'stripe' });
    expect(held.payerAction).toBeUndefined();
    const intent = fleet.stripe.intentByMetadata(metadataKeys.freezeOperationNo, (await p.operations('pp-stripe'))[0]!.operation_no);
    expect(intent).toMatchObject({ payment_method: 'pm_card_visa', capture_method: 'manual', amount: 8000 });

    const refused = await freezeThrough('stripe', 'pp-stripe-nobody', '80.00');
    expect(refused).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_FAILED', subMsg: expect.stringContaining('payment_method_required') });
    expect((await p.auth('pp-stripe-nobody')).status).toBe('FAILED');
  });

  it('answers a Stripe hold that needs 3-D Secure with the payer\'s action, the hold still processing', async () => {
    const pending = await freezeThrough('stripe', 'pp-stripe-3ds', '15.00', { payer_type: 'stripe_payment_method', payer_id: 'pm_card_threeDSecure2Required' });
    expect(pending).toMatchObject({ code: '10000', authStatus: 'PROCESSING', status: 'PROCESSING' });
    expect(pending.payerAction).toMatchObject({ type: expect.stringMatching(/^(REDIRECT|SDK)$/) });
    // A repeat is answered from the records: the action was the channel's answer to the call, not stored.
    const repeated = await freezeThrough('stripe', 'pp-stripe-3ds', '15.00', { payer_type: 'stripe_payment_method', payer_id: 'pm_card_threeDSecure2Required' });
    expect(repeated).toMatchObject({ code: '10000', authStatus: 'PROCESSING' });
    expect(repeated.payerAction).toBeUndefined();
  });

  it('holds a UnionPay card token at once by a back-end request', async () => {
    const held = await freezeThrough('unionpay', 'pp-union-token', '60.00', { payer_type: 'token', payer_id: '6235000000000001' });
    expect(held).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED', status: 'SUCCEEDED', amount: '60.00', channel: 'unionpay' });
    expect(held.payerAction).toBeUndefined();
  });

  it('hands the payer UnionPay\'s gateway form without a token; the hold settles by UnionPay\'s callback once the payer submits it', async () => {
    const pending = await freezeThrough('unionpay', 'pp-union-form', '45.00');
    expect(pending).toMatchObject({ code: '10000', authStatus: 'PROCESSING', status: 'PROCESSING' });
    expect(pending.payerAction).toMatchObject({ type: 'FORM', url: `${fleet.unionpay.url}/gateway/api/frontTransReq.do`, fields: { txnType: '02', txnAmt: '4500' } });
    await fleet.drivers.find((driver) => driver.channel === 'unionpay')!.payerActs(pending as PayAnswer);
    const authorized = await until(() => p.call('tongbao.preauth.query', { out_order_no: 'pp-union-form' }), (answer) => answer.authStatus !== 'PROCESSING');
    expect(authorized).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED', totalFreezeAmount: '45.00' });
    const [operation] = await p.operations('pp-union-form');
    expect(operation).toMatchObject({ kind: 'FREEZE', status: 'SUCCEEDED', query_count: 0 });
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });

  it('refuses a payer_id that is empty or too long before anything is written', async () => {
    const before = await p.snapshot();
    expect(await freezeThrough('unionpay', 'pp-bad', '1.00', { payer_id: '' })).toMatchObject({ code: '40002', subCode: 'isv.invalid-parameter' });
    expect(await freezeThrough('unionpay', 'pp-bad', '1.00', { payer_id: 'x'.repeat(129) })).toMatchObject({ code: '40002', subCode: 'isv.invalid-parameter' });
    expect(await p.snapshot()).toEqual(before);
  });
});
