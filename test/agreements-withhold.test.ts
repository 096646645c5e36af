import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreementClient } from './helpers/agreements.js';
import { cardNumber } from './helpers/cards.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

let t: TestInstance;
const a = agreementClient(() => t);

beforeAll(async () => {
  t = await startTestInstance();
});
afterAll(async () => {
  await t?.stop();
});

async function usage(agreementNo: string) {
  return t.query('select reserved_minor::text as reserved, reserved_count as count from agreement_periods where agreement_no = $1', [agreementNo]);
}

describe('withholding (代扣) within the agreement limits', () => {
  it('debits without the payer, refuses over the per-debit and period limits, and gives back a failed debit', async () => {
    const agreement = await a.signed('wh-1', cardNumber('622848', 19, 9), {
      agreement_type: 'WITHHOLDING', single_limit: '100.00', period: 'MONTH', period_limit: '150.00', period_count: 3,
    });
    expect(agreement).toMatchObject({ agreementStatus: 'ACTIVE', agreementType: 'WITHHOLDING', period: 'MONTH', periodLimit: '150.00', periodCount: '3' });
    const no = agreement.agreementNo as string;

    expect(await a.withhold('bill-1', '60.00', no)).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', receiptAmount: '60.00' });
    // The same debit again is answered from the paid trade: nothing is charged or counted twice.
    expect(await a.withhold('bill-1', '60.00', no)).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await usage(no)).toEqual([{ reserved: '6000', count: 1 }]);

    const before = await a.snapshot();
    expect(await a.withhold('bill-2', '100.01', no)).toMatchObject({ subCode: 'AGREEMENT.SINGLE_LIMIT_EXCEEDED' });
    expect(await a.withhold('bill-2', '90.01', no)).toMatchObject({ subCode: 'AGREEMENT.PERIOD_LIMIT_EXCEEDED' });
    expect(await a.withhold('bill-1', '61.00', no)).toMatchObject({ subCode: 'AGREEMENT.DEBIT_CONFLICT' });
    // A withholding agreement is not a quick-pay payer.
    expect(await a.pay('bill-3', '1.00', no)).toMatchObject({ subCode: 'AGREEMENT.TYPE_MISMATCH' });
    expect(await a.snapshot()).toEqual(before);

    // The bank declines (magic amount 40.04): the reservation is given back at once.
    expect(await a.withhold('bill-4', '40.04', no)).toMatchObject({ subCode: 'ACQ.PAYMENT_FAIL' });
    expect(await usage(no)).toEqual([{ reserved: '6000', count: 1 }]);
    expect(await t.query("select status from agreement_debits where out_trade_no = 'bill-4'")).toEqual([{ status: 'RELEASED' }]);

    expect(await a.withhold('bill-5', '90.00', no)).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' });
    expect(await usage(no)).toEqual([{ reserved: '15000', count: 2 }]);
    expect(await a.withhold('bill-6', '0.01', no)).toMatchObject({ subCode: 'AGREEMENT.PERIOD_LIMIT_EXCEEDED' });

    expect(await a.unsign('wh-1')).toMatchObject({ agreementStatus: 'TERMINATED' });
    expect(await a.withhold('bill-7', '1.00', no)).toMatchObject({ subCode: 'AGREEMENT.NOT_ACTIVE' });
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });

  it('never lets parallel debits exceed the period limit', async () => {
    const agreement = await a.signed('wh-par', cardNumber('621700', 19, 4), {
      out_user_id: 'user-par', agreement_type: 'WITHHOLDING', single_limit: '30.00', period: 'DAY', period_limit: '100.00',
    });
    const no = agreement.agreementNo as string;
    const answers = await Promise.all(Array.from({ length: 8 }, (_unused, index) => a.withhold(`par-${index}`, '30.00', no)));
    const paid = answers.filter((answer) => answer.tradeStatus === 'TRADE_SUCCESS');
    const refused = answers.filter((answer) => answer.subCode === 'AGREEMENT.PERIOD_LIMIT_EXCEEDED');
    expect(paid).toHaveLength(3);
    expect(refused).toHaveLength(5);
    expect(await usage(no)).toEqual([{ reserved: '9000', count: 3 }]);
    const [sum] = await t.query("select coalesce(sum(paid_amount_minor), 0)::text as paid from trades where out_trade_no like 'par-%'");
    expect(sum!.paid).toBe('9000');
    // The same debit sent twice at once is paid once.
    const twins = await Promise.all([a.withhold('par-twin', '10.00', no), a.withhold('par-twin', '10.00', no)]);
    expect(twins.filter((answer) => answer.tradeStatus === 'TRADE_SUCCESS').length).toBeGreaterThanOrEqual(1);
    expect(await usage(no)).toEqual([{ reserved: '10000', count: 4 }]);
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });
});
