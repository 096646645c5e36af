import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackReceiver, sleep, waitFor } from '../../../test/helpers/sandbox-callbacks.js';
import type { ChannelOperationQueryResult, ChannelPreauth, ChannelPreauthFreezeRequest, ChannelPreauthStepRequest } from '../types.js';
import { createSandboxAdapter, type SandboxAdapter } from './adapter.js';
import { generateSandboxCredentials } from './keys.js';
import { statementDateOf } from './protocol.js';
import { startSandboxBank, type SandboxBank } from './simulator.js';

const credentials = generateSandboxCredentials();
const callbackDelayMs = 150;

let counter = 0;
function uniqueNo(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}_${randomBytes(3).toString('hex')}`;
}

function adapterFor(bank: SandboxBank): SandboxAdapter {
  return createSandboxAdapter({
    baseUrl: bank.url, mchId: credentials.mchId, merchantPrivateKeyPem: credentials.merchantPrivateKeyPem,
    bankPublicKeyPem: credentials.bankPublicKeyPem, timeoutMs: 1500, // long enough for a loaded CI machine; the hang cases wait it out
  });
}

function startBank(dataDir?: string): Promise<SandboxBank> {
  return startSandboxBank({
    port: 0,
    bankPrivateKeyPem: credentials.bankPrivateKeyPem,
    merchants: [{ mchId: credentials.mchId, publicKeyPem: credentials.merchantPublicKeyPem }],
    callbackDelayMs,
    callbackRetryDelaysMs: [50, 50],
    ...(dataDir === undefined ? {} : { dataDir }),
  });
}

/** The channel's reference of a result that must have succeeded. */
function refOf(result: ChannelOperationQueryResult): string {
  if (result.status !== 'SUCCEEDED') throw new Error(`expected SUCCEEDED, got ${JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return result.channelRef;
}

describe('sandbox pre-authorization over HTTP', () => {
  let bank: SandboxBank;
  let adapter: SandboxAdapter;
  let preauth: ChannelPreauth;
  const receiver = new CallbackReceiver(() => adapter);

  const freezeRequest = (amountMinor: bigint, overrides: Partial<ChannelPreauthFreezeRequest> = {}): ChannelPreauthFreezeRequest => ({
    operationNo: uniqueNo('F'), amountMinor, currency: 'CNY', subject: 'hotel deposit',
    expiresAt: new Date(Date.now() + 60 * 60 * 1000), notifyUrl: `${receiver.url}/notify/sandbox`, ...overrides,
  });
  const step = (authRef: string, amountMinor: bigint, overrides: Partial<ChannelPreauthStepRequest> = {}): ChannelPreauthStepRequest => ({
    operationNo: uniqueNo('S'), authRef, amountMinor, currency: 'CNY', notifyUrl: `${receiver.url}/notify/sandbox`, ...overrides,
  });
  const frozen = async (amountMinor: bigint): Promise<string> => refOf(await preauth.freeze(freezeRequest(amountMinor)));

  beforeAll(async () => {
    await receiver.start();
    bank = await startBank();
    adapter = adapterFor(bank);
    preauth = adapter.preauth!;
  });

  afterAll(async () => {
    await adapter.dispose();
    await bank.close();
    await receiver.close();
  });

  it('declares pre-authorization among its capabilities', () => {
    expect(adapter.capabilities.preauth).toBe(true);
    expect(adapter.preauth).toBeDefined();
  });

  it('freezes, completes part of the hold, and refunds the capture like a payment', async () => {
    const freeze = freezeRequest(10_000n);
    const held = await preauth.freeze(freeze);
    expect(held).toMatchObject({ status: 'SUCCEEDED', amountMinor: 10_000n, currency: 'CNY' });
    expect(await preauth.query(freeze.operationNo)).toEqual(held);

    const authRef = refOf(held);
    const complete = step(authRef, 6000n);
    const captured = await preauth.complete(complete);
    expect(captured).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6000n });
    expect(await preauth.complete(complete)).toEqual(captured);
    // The rest was released: nothing more can be captured or unfrozen.
    expect(await preauth.complete(step(authRef, 1000n))).toMatchObject({ status: 'FAILED', code: 'AUTH_NOT_FROZEN' });
    expect(await preauth.unfreeze(step(authRef, 10_000n))).toMatchObject({ status: 'FAILED', code: 'AUTH_NOT_FROZEN' });

    const refund = { refundNo: uniqueNo('R'), attemptNo: complete.operationNo, channelTradeNo: refOf(captured), paymentAmountMinor: 6000n, currency: 'CNY', reason: null, notifyUrl: `${receiver.url}/notify` };
    expect(await adapter.refund({ ...refund, amountMinor: 6001n })).toMatchObject({ status: 'FAILED', code: 'REFUND_AMOUNT_EXCEEDED' });
    expect(await adapter.refund({ ...refund, refundNo: uniqueNo('R'), amountMinor: 2000n })).toMatchObject({ status: 'SUCCEEDED', amountMinor: 2000n });
    // The capture appears on the day's statement as a payment keyed by the completion's number.
    const statement = await adapter.downloadStatement(statementDateOf(new Date()));
    expect(statement).toContain(`,${complete.operationNo},PAY,6000,CNY,SUCCEEDED,`);
  });

  it('unfreezes the whole hold only', async () => {
    const authRef = await frozen(3000n);
    expect(await preauth.unfreeze(step(authRef, 2999n))).toMatchObject({ status: 'FAILED', code: 'AMOUNT_MISMATCH' });
    const unfreeze = step(authRef, 3000n);
    expect(await preauth.unfreeze(unfreeze)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3000n });
    expect(await preauth.unfreeze(unfreeze)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await preauth.complete(step(authRef, 100n))).toMatchObject({ status: 'FAILED', code: 'AUTH_NOT_FROZEN' });
  });

  it('cancels a completion in full, after which the hold can be completed again', async () => {
    const authRef = await frozen(5000n);
    const first = step(authRef, 4000n);
    const completeRef = refOf(await preauth.complete(first));
    const cancel = { ...step(authRef, 4000n), completeRef };
    expect(await preauth.completeCancel({ ...cancel, operationNo: uniqueNo('C'), amountMinor: 3000n })).toMatchObject({ status: 'FAILED', code: 'AMOUNT_MISMATCH' });
    expect(await preauth.completeCancel({ ...cancel, operationNo: uniqueNo('C'), completeRef: 'sbo_0000000000000000' })).toMatchObject({ status: 'FAILED', code: 'COMPLETION_NOT_FOUND' });
    expect(await preauth.completeCancel(cancel)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 4000n });
    // The reversed capture is no longer refundable.
    const refund = { refundNo: uniqueNo('R'), attemptNo: first.operationNo, channelTradeNo: completeRef, paymentAmountMinor: 4000n, amountMinor: 100n, currency: 'CNY', reason: null, notifyUrl: `${receiver.url}/notify` };
    expect(await adapter.refund(refund)).toMatchObject({ status: 'FAILED', code: 'PAYMENT_NOT_PAID' });

    const second = step(authRef, 5000n);
    const secondRef = refOf(await preauth.complete(second));
    expect(await preauth.completeCancel({ ...step(authRef, 5000n), completeRef: completeRef })).toMatchObject({ status: 'FAILED', code: 'COMPLETION_NOT_FOUND' });
    // A completion refunded even in part cannot be cancelled.
    expect(await adapter.refund({ ...refund, refundNo: uniqueNo('R'), attemptNo: second.operationNo, channelTradeNo: secondRef, paymentAmountMinor: 5000n })).toMatchObject({ status: 'SUCCEEDED' });
    expect(await preauth.completeCancel({ ...step(authRef, 5000n), completeRef: secondRef })).toMatchObject({ status: 'FAILED', code: 'COMPLETION_REFUNDED' });
    expect(await preauth.completeCancel({ ...step(authRef, 100n), completeRef: secondRef, operationNo: uniqueNo('C') })).toMatchObject({ status: 'FAILED', code: 'AMOUNT_MISMATCH' });
  });

  it('refuses what does not fit the hold, recording the refusal', async () => {
    const authRef = await frozen(1000n);
    const tooMuch = step(authRef, 1001n);
    expect(await preauth.complete(tooMuch)).toMatchObject({ status: 'FAILED', code: 'AMOUNT_EXCEEDED' });
    expect(await preauth.query(tooMuch.operationNo)).toMatchObject({ status: 'FAILED', code: 'AMOUNT_EXCEEDED' });
    expect(await preauth.complete(step(authRef, 500n, { currency: 'USD' }))).toMatchObject({ status: 'FAILED', code: 'CURRENCY_MISMATCH' });
    expect(await preauth.complete(step('sba_unknown', 500n))).toMatchObject({ status: 'FAILED', code: 'AUTH_NOT_FOUND' });
    expect(await preauth.completeCancel({ ...step(authRef, 500n), completeRef: 'sbo_x' })).toMatchObject({ status: 'FAILED', code: 'AUTH_NOT_COMPLETED' });
    expect(await preauth.freeze(freezeRequest(1000n, { currency: 'KWD' }))).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
    expect(await preauth.freeze(freezeRequest(1000n, { expiresAt: new Date(Date.now() - 1000) }))).toMatchObject({ status: 'FAILED', code: 'AUTH_EXPIRED' });
    // The hold is untouched by all of it.
    expect(await preauth.complete(step(authRef, 1000n))).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('answers a repeated operation number with the same operation, and another request under it as UNKNOWN', async () => {
    const freeze = freezeRequest(2000n);
    const first = await preauth.freeze(freeze);
    expect(await preauth.freeze(freeze)).toEqual(first);
    expect(await preauth.freeze({ ...freeze, amountMinor: 2001n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('DUPLICATE_OUT_OPERATION_NO') });
    expect(await preauth.unfreeze(step(refOf(first), 2000n, { operationNo: freeze.operationNo }))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('DUPLICATE_OUT_OPERATION_NO') });
    expect(await preauth.query('never_sent')).toEqual({ status: 'NOT_FOUND' });
  });

  describe('magic amounts', () => {
    it('declines, fails without effect, and hangs like payments', async () => {
      expect(await preauth.freeze(freezeRequest(4004n))).toMatchObject({ status: 'FAILED', code: 'CARD_DECLINED' });
      expect(await preauth.freeze(freezeRequest(4005n))).toMatchObject({ status: 'FAILED', code: 'INSUFFICIENT_FUNDS' });

      const serverError = freezeRequest(5003n);
      expect(await preauth.freeze(serverError)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('500') });
      expect(await preauth.query(serverError.operationNo)).toEqual({ status: 'NOT_FOUND' });

      const hangFree = freezeRequest(5004n);
      expect(await preauth.freeze(hangFree)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await preauth.query(hangFree.operationNo)).toMatchObject({ status: 'FAILED', code: 'TIMEOUT' });

      const hangDone = freezeRequest(5005n);
      expect(await preauth.freeze(hangDone)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      const late = await preauth.query(hangDone.operationNo);
      expect(late).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5005n });
      expect(await preauth.complete(step(refOf(late), 5000n))).toMatchObject({ status: 'SUCCEEDED' });

      const authRef = await frozen(9000n);
      expect(await preauth.complete(step(authRef, 4004n))).toMatchObject({ status: 'FAILED', code: 'CARD_DECLINED' });
      const hangingComplete = step(authRef, 5005n);
      expect(await preauth.complete(hangingComplete)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await preauth.query(hangingComplete.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5005n });
    });

    it('settles 6001 by callback and 6003 only by query', async () => {
      const freeze = freezeRequest(6001n);
      expect(await preauth.freeze(freeze)).toMatchObject({ status: 'PENDING', channelRef: expect.stringMatching(/^sba_/) });
      const [callback] = await waitFor(() => (receiver.about(freeze.operationNo).length > 0 ? receiver.about(freeze.operationNo) : undefined));
      expect(callback?.verification).toMatchObject({
        ok: true, notification: { kind: 'OPERATION', operationNo: freeze.operationNo, result: { status: 'SUCCEEDED', amountMinor: 6001n, currency: 'CNY' } },
      });

      const authRef = await frozen(10_000n);
      const complete = step(authRef, 6003n);
      expect(await preauth.complete(complete)).toMatchObject({ status: 'PENDING' });
      // The hold is busy until the completion settles.
      expect(await preauth.unfreeze(step(authRef, 10_000n))).toMatchObject({ status: 'FAILED', code: 'AUTH_BUSY' });
      await sleep(callbackDelayMs + 50);
      expect(await preauth.query(complete.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6003n });
      expect(receiver.about(complete.operationNo)).toHaveLength(0);
    });

    it('fails 6002 by callback and leaves no hold', async () => {
      const freeze = freezeRequest(6002n);
      const pending = await preauth.freeze(freeze);
      const [callback] = await waitFor(() => (receiver.about(freeze.operationNo).length > 0 ? receiver.about(freeze.operationNo) : undefined));
      expect(callback?.verification).toMatchObject({ ok: true, notification: { result: { status: 'FAILED', code: 'AUTHENTICATION_FAILED' } } });
      const authRef = pending.status === 'PENDING' ? pending.channelRef! : '';
      expect(await preauth.complete(step(authRef, 100n))).toMatchObject({ status: 'FAILED', code: 'AUTH_NOT_FROZEN' });
    });

    it('gives unfreeze and complete-cancel their own amounts: 7004 declines, 7005 hangs, 7001 calls back', async () => {
      const declined = await frozen(7004n);
      expect(await preauth.unfreeze(step(declined, 7004n))).toMatchObject({ status: 'FAILED', code: 'OPERATION_DECLINED' });
      expect(await preauth.complete(step(declined, 7004n))).toMatchObject({ status: 'SUCCEEDED' });

      const hanging = await frozen(7005n);
      const unfreeze = step(hanging, 7005n);
      expect(await preauth.unfreeze(unfreeze)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await preauth.query(unfreeze.operationNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 7005n });

      const completed = await frozen(9000n);
      const complete = step(completed, 7001n);
      const completeRef = refOf(await preauth.complete(complete));
      const cancel = { ...step(completed, 7001n), completeRef };
      expect(await preauth.completeCancel(cancel)).toMatchObject({ status: 'PENDING' });
      const [callback] = await waitFor(() => (receiver.about(cancel.operationNo).length > 0 ? receiver.about(cancel.operationNo) : undefined));
      expect(callback?.verification).toMatchObject({ ok: true, notification: { kind: 'OPERATION', result: { status: 'SUCCEEDED', amountMinor: 7001n } } });
      expect(await preauth.complete(step(completed, 9000n))).toMatchObject({ status: 'SUCCEEDED' });
    });
  });

  it('lets a hold lapse at its expiry: it can no longer be completed, and unfreezing it succeeds', async () => {
    const authRef = refOf(await preauth.freeze(freezeRequest(800n, { expiresAt: new Date(Date.now() + 150) })));
    await sleep(200);
    expect(await preauth.complete(step(authRef, 800n))).toMatchObject({ status: 'FAILED', code: 'AUTH_EXPIRED' });
    expect(await preauth.unfreeze(step(authRef, 800n))).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('sandbox pre-authorization across a restart', () => {
  it('keeps holds, completions and pending operations in the journal', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tongbao-sandbox-preauth-'));
    const notifyUrl = 'http://127.0.0.1:9/notify';
    try {
      const before = await startBank(dataDir);
      const beforeAdapter = adapterFor(before);
      const authRef = refOf(await beforeAdapter.preauth!.freeze({
        operationNo: 'KEEPF1', amountMinor: 9000n, currency: 'USD', subject: 'deposit', expiresAt: new Date(Date.now() + 60_000), notifyUrl,
      }));
      const complete = { operationNo: 'KEEPC1', authRef, amountMinor: 6003n, currency: 'USD', notifyUrl };
      expect(await beforeAdapter.preauth!.complete(complete)).toMatchObject({ status: 'PENDING' });
      await beforeAdapter.dispose();
      await before.close();

      const after = await startBank(dataDir);
      const afterAdapter = adapterFor(after);
      try {
        await sleep(callbackDelayMs + 50);
        const captured = await afterAdapter.preauth!.query('KEEPC1');
        expect(captured).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6003n });
        expect(await afterAdapter.query({ attemptNo: complete.operationNo, channelTradeNo: refOf(captured), amountMinor: complete.amountMinor, currency: complete.currency })).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6003n });
        const cancel = { ...complete, operationNo: 'KEEPX1', completeRef: refOf(captured) };
        expect(await afterAdapter.preauth!.completeCancel(cancel)).toMatchObject({ status: 'SUCCEEDED' });
        expect(await afterAdapter.preauth!.unfreeze({ operationNo: 'KEEPU1', authRef, amountMinor: 9000n, currency: 'USD', notifyUrl })).toMatchObject({ status: 'SUCCEEDED' });
      } finally {
        await afterAdapter.dispose();
        await after.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
