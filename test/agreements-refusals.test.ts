import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreementClient } from './helpers/agreements.js';
import { cardEnding, cardNumber, withBadCheckDigit } from './helpers/cards.js';
import { GatewayClient } from './helpers/gateway-client.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

let t: TestInstance;
let gateway: GatewayClient;
const a = agreementClient(() => t);
const card = cardNumber('622588', 16, 21);

beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_TEST_CLOCK: 'on' });
  gateway = new GatewayClient(t.url, { appId: t.demo.app_id, signType: 'RSA2', privateKey: t.demo.app_private_key }, t.demo.platform_public_key);
});
afterAll(async () => {
  await t?.stop();
});

/** Runs a call that must be refused with `subCode`, checks that nothing changed, and that the answer hides the card. */
async function refused(subCode: string, call: () => Promise<Record<string, any>>) {
  const before = await a.snapshot();
  const answer = await call();
  expect(answer).toMatchObject({ subCode });
  expect(await a.snapshot()).toEqual(before);
  // No 12 to 19 digit run standing alone (agreement and trade numbers have 23 or 24 digits).
  expect(JSON.stringify(answer)).not.toMatch(/(?<!\d)\d{12,19}(?!\d)/);
  return answer;
}

describe('agreements refuse bad input precisely and change nothing', () => {
  it('a card number that fails Luhn, an unknown BIN, a credit card without its CVV, bad limits', async () => {
    const luhn = await refused('isv.invalid-card-no', () => a.sign('bad-1', withBadCheckDigit(card), a.mobile()));
    expect(luhn.subMsg).toContain(`ending ${withBadCheckDigit(card).slice(-4)}`);
    await refused('isv.invalid-card-no', () => a.sign('bad-1', '6222-0212', a.mobile()));
    await refused('AGREEMENT.CARD_BIN_UNKNOWN', () => a.sign('bad-1', cardNumber('999999', 16), a.mobile()));
    await refused('isv.missing-parameter', () => a.sign('bad-1', '4242424242424242', a.mobile(), { card_expiry: '1230' }));
    await refused('isv.missing-parameter', () => a.sign('bad-1', card, a.mobile(), { agreement_type: 'WITHHOLDING', single_limit: '10.00' }));
    await refused('isv.invalid-parameter', () => a.sign('bad-1', card, a.mobile(), { period: 'MONTH', period_limit: '10.00' }));
    await refused('ACQ.CHANNEL_NOT_SUPPORTED', () => a.sign('bad-1', card, a.mobile(), { channel: 'nope' }));
  });

  it('unknown fields and malformed JSON', async () => {
    await refused('isv.unknown-parameter', () => a.sign('bad-2', card, a.mobile(), { card_pin: '1234' }));
    const before = await a.snapshot();
    const malformed = await gateway.call('tongbao.agreement.sign', { biz: `{"out_agreement_no":"bad-3","card_no":"${card}",` });
    expect(malformed.body).toMatchObject({ sub_code: 'isv.invalid-biz-content' });
    expect(malformed.text).not.toContain(card);
    expect(await a.snapshot()).toEqual(before);
  });

  it('a wrong signature does not echo the card number in the answer', async () => {
    const forged = await gateway.call('tongbao.agreement.sign', {
      biz: { out_agreement_no: 'bad-4', out_user_id: 'u', agreement_type: 'QUICK_PAY', channel: 'sandbox', card_no: card, card_holder_name: 'Z', mobile: '13911112222' },
      tamper: { sign: 'AAAA' },
    });
    expect(forged.body).toMatchObject({ sub_code: 'isv.invalid-signature' });
    expect(forged.text).not.toContain(card);
  });

  it('wrong codes until the lockout, an expired code, and a code replayed from another sign', async () => {
    const mobile = a.mobile();
    const sent = await a.sign('code-1', card, mobile);
    const code = await a.code(mobile, sent.agreementNo);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let left = 4; left >= 1; left -= 1) {
      expect((await a.confirm('code-1', wrong)).subMsg).toContain(`${left} tries left`);
    }
    expect(await a.confirm('code-1', wrong)).toMatchObject({ subCode: 'AGREEMENT.VERIFY_CODE_LOCKED' });
    await refused('AGREEMENT.VERIFY_CODE_LOCKED', () => a.confirm('code-1', code));
    expect(await a.query('code-1')).toMatchObject({ agreementStatus: 'FAILED', failureCode: 'VERIFY_CODE_LOCKED' });

    // A code texted for one sign does not confirm another.
    const mobile2 = a.mobile();
    const second = await a.sign('code-2', card, mobile2);
    const third = await a.sign('code-3', cardNumber('622588', 16, 22), a.mobile());
    const secondCode = await a.code(mobile2, second.agreementNo);
    const thirdCode = await a.code(String(Number(mobile2) + 1), third.agreementNo);
    if (thirdCode !== secondCode) expect(await a.confirm('code-3', secondCode)).toMatchObject({ subCode: 'AGREEMENT.VERIFY_CODE_INVALID' });

    // Past the code's lifetime (5 minutes) on the business clock, the code is refused and the sign ends.
    expect((await t.admin('POST', '/test-clock/advance', { seconds: 6 * 60 })).status).toBe(200);
    expect(await a.confirm('code-2', secondCode)).toMatchObject({ subCode: 'AGREEMENT.VERIFY_CODE_EXPIRED' });
    await refused('AGREEMENT.VERIFY_CODE_EXPIRED', () => a.confirm('code-2', secondCode));
    expect(await a.query('code-2')).toMatchObject({ agreementStatus: 'FAILED', failureCode: 'VERIFY_CODE_EXPIRED' });
  });

  it('a card the bank declines, a second live agreement on one card, and a reused out_agreement_no', async () => {
    expect(await a.sign('dec-1', cardEnding('4004'), a.mobile())).toMatchObject({ subCode: 'AGREEMENT.SIGN_FAILED' });
    const live = cardNumber('622262', 19, 5);
    await a.signed('live-1', live, { out_user_id: 'user-live' });
    await refused('AGREEMENT.CARD_ALREADY_SIGNED', () => a.sign('live-2', live, a.mobile(), { out_user_id: 'user-live' }));
    await refused('AGREEMENT.ORDER_CONFLICT', () => a.sign('live-1', card, a.mobile(), { out_user_id: 'user-live' }));
  });

  it('paying with an unsigned, unknown or other app\'s agreement', async () => {
    const waiting = await a.sign('pay-wait', cardNumber('622202', 19, 31), a.mobile(), { out_user_id: 'user-pay' });
    await refused('AGREEMENT.NOT_ACTIVE', () => a.pay('pay-1', '1.00', waiting.agreementNo));
    await refused('AGREEMENT.NOT_EXIST', () => a.pay('pay-1', '1.00', '20300101000000000000000'));
    await refused('isv.invalid-parameter', () => a.pay('pay-1', '1.00', waiting.agreementNo, { payer_id: 'x' }));

    const active = await a.signed('pay-ok', cardNumber('621661', 19, 2), { out_user_id: 'user-pay' });
    const merchant = await t.admin('POST', '/merchants', { name: 'other shop' });
    const other = await t.admin('POST', '/apps', { name: 'other app', merchant_id: merchant.body.merchant_id });
    const otherSdk = t.sdk({ appId: other.body.app_id, privateKey: other.body.app_private_key });
    await refused('AGREEMENT.NOT_EXIST', () => a.call('tongbao.trade.pay', { out_trade_no: 'pay-2', total_amount: '1.00', subject: 's', channel: 'sandbox', agreement_no: active.agreementNo }, otherSdk));
    await refused('AGREEMENT.NOT_EXIST', () => a.call('tongbao.agreement.unsign', { agreement_no: active.agreementNo }, otherSdk));
    expect(await a.query('pay-ok')).toMatchObject({ agreementStatus: 'ACTIVE' });
  });
});
