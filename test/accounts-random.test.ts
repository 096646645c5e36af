import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { accountsClient } from './helpers/accounts.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/preauth.js';
import { prng, testSeed } from './helpers/random.js';

let t: TestInstance;
const a = accountsClient(() => t);
const seed = testSeed();
const random = prng(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_CHANNEL_TIMEOUT_MS: '800', TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5,1,1', TONGBAO_WITHDRAW_DAILY_LIMIT: '1000000.00' });
});
afterAll(async () => {
  await t?.stop();
});

it(`many users recharging, transferring and withdrawing at once lose and double nothing (seed ${seed})`, async () => {
  const users = Array.from({ length: 8 }, (_, index) => `rnd-${index}`);
  // Recharges, some declined (40.04) or confirmed later by callback (60.01).
  await Promise.all(users.map((user, index) => a.recharge(`rnd-rc-${index}`, user, pick(['100.00', '250.00', '40.04', '60.01', '80.00']))));
  for (const user of users) {
    const userId = await a.userId(user);
    await t.admin('PUT', `/users/${userId}/real-name`, { real_name: '王五', id_type: 'ID_CARD', id_number: '11010519491231002X', reason: 'kyc' });
    await t.admin('POST', `/users/${userId}/real-name/verify`, { reason: 'kyc' });
  }
  const operations = Array.from({ length: 60 }, (_, index) => {
    const from = pick(users);
    const roll = random();
    if (roll < 0.15) return a.recharge(`rnd-rc-more-${index}`, from, pick(['10.00', '20.00', '60.01']));
    if (roll < 0.6) return a.transfer(`rnd-tr-${index}`, from, pick(users.filter((user) => user !== from)), pick(['1.00', '5.00', '12.34', '40.00']));
    // Withdrawals: plain, declined (40.04), hanging but paid (50.05), hanging unpaid (50.04), paid later (60.03).
    return a.withdraw(`rnd-wd-${index}`, from, pick(['3.00', '10.00', '40.04', '50.05', '50.04', '60.03']));
  });
  const answers = await Promise.all(operations);
  for (const answer of answers) {
    // Every answer is a success or a precise business refusal, never an internal error.
    expect(['10000', '40004']).toContain(answer.code);
    if (answer.code === '40004') expect(['ACCOUNT.BALANCE_NOT_ENOUGH', 'ACQ.PAYMENT_FAIL']).toContain(answer.subCode);
  }

  // Wait until every withdrawal and recharge has its final answer.
  await until(() => t.query("select (select count(*) from withdrawals where status = 'PROCESSING') + (select count(*) from pay_attempts where status = 'PROCESSING') as open"),
    (rows) => Number(rows[0]!.open) === 0, 30_000);

  const [negative] = await t.query("select count(*)::int as n from ledger_balances b join ledger_accounts a using (account_id) where a.owner_type = 'USER' and b.balance_minor < 0");
  expect(negative).toEqual({ n: 0 });
  const [sums] = await t.query(`select
    (select coalesce(sum(b.balance_minor), 0) from ledger_balances b join ledger_accounts a using (account_id) where a.owner_type = 'USER' and a.currency = 'CNY')::bigint as held,
    (select coalesce(sum(paid_amount_minor), 0) from trades where purpose = 'RECHARGE')::bigint as recharged,
    (select coalesce(sum(amount_minor), 0) from withdrawals where status = 'SUCCESS')::bigint as withdrawn`);
  expect(sums!.held).toBe((sums!.recharged as bigint) - (sums!.withdrawn as bigint));
  const [statuses] = await t.query("select count(*) filter (where status = 'FAILED')::int as failed, count(*) filter (where status = 'SUCCESS')::int as succeeded from withdrawals");
  expect(statuses!.failed + statuses!.succeeded).toBeGreaterThan(0);
  const report = await checkLedger(t.instance.context.pool);
  expect(report.ok).toBe(true);
}, 120_000);
