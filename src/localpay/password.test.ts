import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { redactedPaths } from '../logger.js';
import { acceptablePassword, hashPassword, passwordMatches } from './password.js';

describe('pay passwords', () => {
  it('accept 6 digits that are not trivial', () => {
    expect(['135790', '246802', '900001', '112233'].map(acceptablePassword)).toEqual([true, true, true, true]);
    expect(['123456', '654321', '000000', '777777', '12345', '1234567', '12a456', ' 13579'].map(acceptablePassword)).toEqual(Array(8).fill(false));
  });

  it('are hashed with their own salt and verified against it', async () => {
    const first = await hashPassword('135790', 1024);
    const second = await hashPassword('135790', 1024);
    expect(first.salt).not.toBe(second.salt);
    expect(first.hash).not.toBe(second.hash);
    expect(first.params).toEqual({ algorithm: 'scrypt', N: 1024, r: 8, p: 1, keylen: 32 });
    expect(await passwordMatches('135790', first)).toBe(true);
    expect(await passwordMatches('135791', first)).toBe(false);
    // A hash made at another cost still verifies: the parameters travel with it.
    expect(await passwordMatches('135790', await hashPassword('135790', 2048))).toBe(true);
  });

  it('never reach a log line', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const log = pino({ redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
    log.info({ biz: { pay_password: '135790', old_pay_password: '246802' }, pay_password: '864200' }, 'request');
    expect(lines.join('')).not.toMatch(/135790|246802|864200/);
  });
});
