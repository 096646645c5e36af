/**
 * Pay passwords (支付密码): stored only as a scrypt hash with a per-user salt and the cost parameters it was
 * made with, compared in constant time, and locked after TONGBAO_PAY_PASSWORD_MAX_TRIES wrong tries in a row
 * for TONGBAO_PAY_PASSWORD_LOCK_SECONDS.
 *
 * A try is taken before the slow hash is compared, in one guarded UPDATE (takeTry): parallel wrong guesses
 * each need their own try, and none is left once the lock is set. A good password gives the try back.
 * Hashing runs outside any database transaction: it takes tens of milliseconds and must not hold row locks.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { addSeconds, now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { formatWallClock } from '../shared/time.js';
import * as repository from './repository.js';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export interface HashParams {
  readonly algorithm: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly keylen: number;
}

/** 6 digits, not all the same digit, not a run up or down (123456, 654321): the first guesses an attacker tries. */
export function acceptablePassword(password: string): boolean {
  if (!/^\d{6}$/.test(password)) return false;
  const digits = [...password].map(Number);
  const steps = new Set(digits.slice(1).map((digit, index) => digit - digits[index]!));
  return !(steps.size === 1 && [0, 1, -1].includes([...steps][0]!));
}

async function derive(password: string, salt: Buffer, params: HashParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; allow twice that so a raised cost never trips Node's default ceiling.
  return scrypt(password, salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 });
}

export async function hashPassword(password: string, cost: number): Promise<{ hash: string; salt: string; params: HashParams }> {
  const params: HashParams = { algorithm: 'scrypt', N: cost, r: 8, p: 1, keylen: 32 };
  const salt = randomBytes(16);
  return { hash: (await derive(password, salt, params)).toString('base64'), salt: salt.toString('base64'), params };
}

export async function passwordMatches(password: string, stored: { hash: string; salt: string; params: HashParams }): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await derive(password, Buffer.from(stored.salt, 'base64'), stored.params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function lockedMessage(context: Context, lockedUntil: Date): string {
  return `too many wrong pay passwords; locked until ${formatWallClock(lockedUntil, context.config.TONGBAO_TIMEZONE)} (${lockedUntil.toISOString()})`;
}

/**
 * Refuses unless `password` is the user's pay password: ACCOUNT.PAY_PASSWORD_NOT_SET, ACCOUNT.PAY_PASSWORD_LOCKED
 * (saying until when), or ACCOUNT.PAY_PASSWORD_ERROR (saying how many tries remain).
 *
 * The try is taken by a guarded UPDATE that keeps the row locked while the hash is compared, in a short
 * transaction of its own: parallel tries of one user run one after the other, each seeing the count the
 * previous one left. So parallel wrong guesses get no extra tries, and parallel right ones never lock the
 * password by counting each other as failures. The count commits whatever the caller does next.
 */
export async function verifyPayPassword(context: Context, userId: string, password: string): Promise<void> {
  const maxTries = context.config.TONGBAO_PAY_PASSWORD_MAX_TRIES;
  const at = now();
  const verdict = await withTransaction(context.pool, async (client) => {
    // Bounded: a flood of tries for one user must not hold connections for long.
    await client.query("set local lock_timeout = '10s'");
    const taken = await repository.takePasswordTry(client, userId, maxTries, at, addSeconds(at, context.config.TONGBAO_PAY_PASSWORD_LOCK_SECONDS));
    if (!taken) {
      const current = await repository.findPayPassword(client, userId);
      return current ? { kind: 'LOCKED' as const, until: current.locked_until ?? at } : { kind: 'NOT_SET' as const };
    }
    if (await passwordMatches(password, { hash: taken.hash, salt: taken.salt, params: taken.params })) {
      await repository.giveBackTry(client, userId);
      return { kind: 'OK' as const };
    }
    return { kind: 'WRONG' as const, failedCount: taken.failed_count, lockedUntil: taken.locked_until };
  });
  switch (verdict.kind) {
    case 'OK':
      return;
    case 'NOT_SET':
      fail(errors.payPasswordNotSet, `user ${userId} has not set a pay password`);
    case 'LOCKED':
      fail(errors.payPasswordLocked, lockedMessage(context, verdict.until));
    case 'WRONG':
      context.log.warn({ user_id: userId, failed_count: verdict.failedCount }, 'wrong pay password');
      if (verdict.lockedUntil !== null) fail(errors.payPasswordLocked, `the pay password is wrong; ${lockedMessage(context, verdict.lockedUntil)}`);
      fail(errors.payPasswordError, `the pay password is wrong; ${maxTries - verdict.failedCount} tries left before it is locked`);
  }
}

/**
 * Sets the pay password. Changing it needs the old one (verified like a payment's, so guessing here counts
 * too); an operator's reset (`reset`) does not, and clears a lock.
 */
export async function setPayPassword(context: Context, userId: string, password: string, oldPassword: string | undefined, reset = false): Promise<void> {
  if (!acceptablePassword(password)) fail(errors.payPasswordInvalid);
  const existing = await repository.findPayPassword(context.pool, userId);
  if (existing && !reset) {
    if (oldPassword === undefined) fail(errors.payPasswordRequired, 'old_pay_password is required to change the pay password');
    await verifyPayPassword(context, userId, oldPassword);
  }
  const hashed = await hashPassword(password, context.config.TONGBAO_PAY_PASSWORD_SCRYPT_COST);
  await repository.upsertPayPassword(context.pool, userId, hashed);
}
