import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertCanDebit, findOrCreateUser, holdEntries, lockUserAccounts, releaseEntries, requireUserAccount, userAccount, type UserAccount,
} from '../src/account/index.js';
import type { Context } from '../src/context.js';
import { withTransaction } from '../src/db/pool.js';
import { TongbaoError } from '../src/errors.js';
import { checkLedger, platformSuspense } from '../src/ledger/index.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

let t: TestInstance;
let context: Context;

beforeAll(async () => {
  t = await startTestInstance();
  context = t.instance.context;
});
afterAll(async () => {
  await t?.stop();
});

/** Puts money into a wallet from the suspense account: a test-only source, balanced like any posting. */
async function fund(account: UserAccount, amountMinor: bigint, reference: string) {
  await withTransaction(context.pool, (client) => context.ledger.post(client, {
    kind: 'TEST_FUNDING', reference, currency: account.currency,
    entries: [
      { account: platformSuspense(account.currency), side: 'DEBIT', amountMinor },
      { account: account.available, side: 'CREDIT', amountMinor },
    ],
  }));
}

async function wallet(outUserId: string): Promise<UserAccount> {
  return withTransaction(context.pool, async (client) => {
    const user = await findOrCreateUser(client, t.demo.app_id, outUserId);
    return (await userAccount(context, client, user, 'WALLET', 'CNY', { create: true }))!;
  });
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(TongbaoError);
  return (error as TongbaoError).subCode;
}

describe('accounts foundation', () => {
  it('creates a user once per out_user_id and an account once per type and currency', async () => {
    const [first, second] = await Promise.all([wallet('foundation-1'), wallet('foundation-1')]);
    expect(first.accountNo).toBe(second.accountNo);
    expect(first.availableMinor).toBe(0n);
    expect(await t.query("select count(*)::int as n from users where out_user_id = 'foundation-1'")).toEqual([{ n: 1 }]);
  });

  it('the database refuses a posting that would take a user balance below zero, with the business error', async () => {
    const account = await wallet('foundation-2');
    await fund(account, 500n, 'f2');
    const subCode = await rejection(withTransaction(context.pool, (client) => context.ledger.post(client, {
      kind: 'TEST_SPEND', reference: 'f2-over', currency: 'CNY',
      entries: [{ account: account.available, side: 'DEBIT', amountMinor: 501n }, { account: platformSuspense('CNY'), side: 'CREDIT', amountMinor: 501n }],
    })));
    expect(subCode).toBe('ACCOUNT.BALANCE_NOT_ENOUGH');
    expect((await wallet('foundation-2')).availableMinor).toBe(500n);
  });

  it('a frozen account refuses debits but takes credits; a blacklisted one refuses both, except completions', async () => {
    const account = await wallet('foundation-3');
    await fund(account, 1000n, 'f3');
    await withTransaction(context.pool, (client) => context.ledger.post(client, { kind: 'TEST_HOLD', reference: 'f3', currency: 'CNY', entries: holdEntries(account, 300n) }));
    await t.query("update ledger_accounts set status = 'FROZEN' where account_id = $1", [account.availableAccountId]);
    const spend = (reference: string) => withTransaction(context.pool, (client) => context.ledger.post(client, {
      kind: 'TEST_SPEND', reference, currency: 'CNY',
      entries: [{ account: account.available, side: 'DEBIT', amountMinor: 1n }, { account: platformSuspense('CNY'), side: 'CREDIT', amountMinor: 1n }],
    }));
    expect(await rejection(spend('f3-a'))).toBe('ACCOUNT.FROZEN');
    await fund(account, 1n, 'f3-credit');
    await t.query("update ledger_accounts set status = 'BLACKLISTED' where account_id = $1", [account.availableAccountId]);
    expect(await rejection(fund(account, 1n, 'f3-credit-2'))).toBe('ACCOUNT.BLACKLISTED');
    // A hold accepted before goes back even now: the money is the user's already.
    await withTransaction(context.pool, (client) => context.ledger.post(client, { kind: 'TEST_RELEASE', reference: 'f3', currency: 'CNY', entries: releaseEntries(account, 300n), completion: true }));
    const locked = await withTransaction(context.pool, async (client) => {
      const user = await findOrCreateUser(client, t.demo.app_id, 'foundation-3');
      return requireUserAccount(context, client, user, 'WALLET', 'CNY', { forUpdate: true });
    });
    expect(locked).toMatchObject({ status: 'BLACKLISTED', availableMinor: 1001n, frozenMinor: 0n });
    expect(() => assertCanDebit(locked, 1n)).toThrow(/blacklisted/);
  });

  it('parallel debits checked under the lock never overdraw', async () => {
    const account = await wallet('foundation-4');
    await fund(account, 1000n, 'f4');
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, index) => withTransaction(context.pool, async (client) => {
      const [locked] = await lockUserAccounts(client, [account]);
      assertCanDebit(locked!, 300n);
      await context.ledger.post(client, {
        kind: 'TEST_SPEND', reference: `f4-${index}`, currency: 'CNY',
        entries: [{ account: account.available, side: 'DEBIT', amountMinor: 300n }, { account: platformSuspense('CNY'), side: 'CREDIT', amountMinor: 300n }],
      });
    })));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    expect((await wallet('foundation-4')).availableMinor).toBe(100n);
    expect((await checkLedger(context.pool)).ok).toBe(true);
  });
});
