/**
 * What the UnionPay channel tests share: the simulator with generated certificates, a stand-in for Tongbao's
 * callback route that verifies and acknowledges with the adapter, the adapter's settings, and a browser that
 * submits a FORM payer action.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { PayerAction } from '../../../src/channels/types.js';
import { createUnionpayAdapter, type UnionpayAdapter, type UnionpayAdapterOptions } from '../../../src/channels/unionpay/index.js';
import { formBody } from '../../../src/channels/unionpay/protocol.js';
import { generateUnionpayTestPki, type UnionpayTestPki } from './pki.js';
import { startUnionpaySimulator, type UnionpaySimulator } from './server.js';
import { CallbackReceiver } from '../../helpers/callback-receiver.js';

export const merId = '777290058110048';
export const otherMerId = '777290058110049';
export const tokenRequestorId = '62000000001';

export { CallbackReceiver, type ReceivedCallback } from '../../helpers/callback-receiver.js';

export interface Harness {
  readonly pki: UnionpayTestPki;
  readonly bank: UnionpaySimulator;
  readonly receiver: CallbackReceiver;
  readonly adapter: UnionpayAdapter;
  settings(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Another adapter, disposed with the harness. */
  extraAdapter(overrides?: Record<string, unknown>, options?: UnionpayAdapterOptions): UnionpayAdapter;
  close(): Promise<void>;
}

export const settleDelayMs = 150;

export async function startHarness(): Promise<Harness> {
  const pki = await generateUnionpayTestPki();
  const extra: UnionpayAdapter[] = [];
  let adapter: UnionpayAdapter | undefined;
  const receiver = new CallbackReceiver(() => adapter!);
  await receiver.start();
  const bank = await startUnionpaySimulator({
    pki,
    merchants: [merId, otherMerId].map((id) => ({ merId: id, certId: pki.merchant.certId, publicKeyPem: pki.merchant.publicKeyPem })),
    settleDelayMs,
    callbackRetryDelaysMs: [50, 50],
  });
  const settings = (overrides: Record<string, unknown> = {}) => ({
    baseUrl: bank.url,
    merId,
    certId: pki.merchant.certId,
    merchantPrivateKeyPem: pki.merchant.privateKeyPem,
    rootCertPem: pki.rootCertPem,
    intermediateCertPem: pki.intermediateCertPem,
    signerName: pki.signerName,
    notifyUrl: `${receiver.url}/notify/unionpay`,
    tokenRequestorId,
    timeoutMs: 400,
    ...overrides,
  });
  adapter = createUnionpayAdapter(settings());
  return {
    pki, bank, receiver, adapter, settings,
    extraAdapter(overrides = {}, options = {}) {
      const created = createUnionpayAdapter(settings(overrides), options);
      extra.push(created);
      return created;
    },
    async close() {
      await Promise.all([...extra, adapter!].map((each) => each.dispose()));
      await bank.close();
      await receiver.close();
    },
  };
}

let counter = 0;
/** A fresh orderId in Tongbao's style: letters and digits only. */
export function uniqueNo(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now()}${counter}${randomBytes(3).toString('hex')}`;
}

/** The payer's browser submitting a FORM payer action; the page UnionPay shows. */
export async function submitForm(action: PayerAction | undefined): Promise<string> {
  if (action?.type !== 'FORM') throw new Error('expected a FORM payer action');
  const response = await request(action.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody(action.fields) });
  return response.body.text();
}

export { sleep, waitFor } from '../../helpers/wait.js';
