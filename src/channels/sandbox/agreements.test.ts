import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardEnding, cardNumber } from '../../../test/helpers/cards.js';
import type { ChannelAgreementResult, ChannelAgreementSignRequest } from '../types.js';
import { createSandboxAdapter, type SandboxAdapter } from './adapter.js';
import { generateSandboxCredentials } from './keys.js';
import { startSandboxBank, type SandboxBank } from './simulator.js';

const credentials = generateSandboxCredentials();

function uniqueNo(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

describe('sandbox agreements over HTTP', () => {
  let bank: SandboxBank;
  let adapter: SandboxAdapter;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-agreements-'));
    bank = await startSandboxBank({
      port: 0, dataDir, bankPrivateKeyPem: credentials.bankPrivateKeyPem,
      merchants: [{ mchId: credentials.mchId, publicKeyPem: credentials.merchantPublicKeyPem }],
    });
    adapter = createSandboxAdapter({
      baseUrl: bank.url, mchId: credentials.mchId, merchantPrivateKeyPem: credentials.merchantPrivateKeyPem,
      bankPublicKeyPem: credentials.bankPublicKeyPem, timeoutMs: 2000,
    });
  });
  afterAll(async () => {
    await adapter.dispose();
    await bank.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const signRequest = (number: string, mobile: string): ChannelAgreementSignRequest => ({
    agreementNo: uniqueNo('AG'), agreementType: 'QUICK_PAY', card: { number, cardType: 'DEBIT', holderName: 'Zhang San', mobile },
  });
  const textedCode = async (mobile: string, agreementNo: string): Promise<string> => {
    const answer = await (await fetch(`${bank.url}/sandbox/sms/${mobile}`)).json() as { messages: { out_agreement_no: string; code: string }[] };
    return answer.messages.find((message) => message.out_agreement_no === agreementNo)!.code;
  };
  const pay = (agreementNo: string | undefined) => adapter.pay({
    attemptNo: uniqueNo('P'), tradeNo: 'T1', amountMinor: 1999n, currency: 'CNY', subject: 'tea', expiresAt: new Date(Date.now() + 600_000),
    notifyUrl: 'http://127.0.0.1:9/notify', ...(agreementNo === undefined ? {} : { payer: { type: 'AGREEMENT', id: agreementNo } }),
  });

  it('signs with a texted code, pays by the agreement number, and refuses payments after termination', async () => {
    const number = cardNumber('622202', 19, 11);
    const request = signRequest(number, '13800000001');
    const sent = await adapter.agreements!.sign(request);
    expect(sent.status).toBe('CODE_SENT');
    expect(await adapter.agreements!.sign(request)).toMatchObject({ status: 'CODE_SENT' });

    const code = await textedCode('13800000001', request.agreementNo);
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await adapter.agreements!.confirm({ agreementNo: request.agreementNo, code: wrong })).toEqual({ status: 'CODE_INVALID', attemptsLeft: 4 });
    const active = await adapter.agreements!.confirm({ agreementNo: request.agreementNo, code }) as Extract<ChannelAgreementResult, { status: 'ACTIVE' }>;
    expect(active.status).toBe('ACTIVE');

    expect(await pay(active.channelAgreementNo)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await adapter.agreements!.terminate({ agreementNo: request.agreementNo })).toMatchObject({ status: 'TERMINATED' });
    expect(await pay(active.channelAgreementNo)).toMatchObject({ status: 'FAILED', code: 'AGREEMENT_NOT_ACTIVE' });
    expect(await pay('sba_0000000000000000')).toMatchObject({ status: 'FAILED', code: 'AGREEMENT_NOT_ACTIVE' });

    // The bank's journal keeps the last four digits, never the number.
    const journal = await readFile(path.join(dataDir, 'agreements.jsonl'), 'utf8');
    expect(journal).toContain(number.slice(-4));
    expect(journal).not.toContain(number);
  });

  it('ends a sign after five wrong codes, and declines the magic card ending 4004', async () => {
    const request = signRequest(cardNumber('622848', 19, 5), '13800000002');
    await adapter.agreements!.sign(request);
    const code = await textedCode('13800000002', request.agreementNo);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let left = 4; left >= 1; left -= 1) {
      expect(await adapter.agreements!.confirm({ agreementNo: request.agreementNo, code: wrong })).toEqual({ status: 'CODE_INVALID', attemptsLeft: left });
    }
    expect(await adapter.agreements!.confirm({ agreementNo: request.agreementNo, code: wrong })).toMatchObject({ status: 'FAILED', code: 'VERIFY_CODE_LOCKED' });
    expect(await adapter.agreements!.confirm({ agreementNo: request.agreementNo, code })).toMatchObject({ status: 'FAILED', code: 'VERIFY_CODE_LOCKED' });

    const declined = await adapter.agreements!.sign(signRequest(cardEnding('4004'), '13800000003'));
    expect(declined).toMatchObject({ status: 'FAILED', code: 'SIGN_DECLINED' });
  });

  it('answers a query for an agreement it never saw with NOT_FOUND', async () => {
    expect(await adapter.agreements!.query('AG_never')).toEqual({ status: 'NOT_FOUND' });
  });
});
