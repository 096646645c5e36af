/**
 * A local UnionPay online gateway (全渠道 5.1.0) for tests: a real HTTP server on 127.0.0.1 speaking the
 * gateway's wire protocol — form posts to /gateway/api/{backTransReq,queryTrans,frontTransReq,fileTransReq}.do,
 * raw key=value answers signed with signMethod 01 and carrying signPubKeyCert, URL-encoded callbacks to
 * backUrl resent until HTTP 200, and zipped statement files. State lives in memory (books.ts).
 * Steer it with magic amounts and queued answer faults (scenarios.ts), backdate() and resendCallback().
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { Agent, request } from 'undici';
import {
  bizTypes, cnyCode, formBody, orderIdPattern, parseForm, parseTxnAmt, parseTxnTime, settleDateOf, settlementDayOf, txnTimeOf, txnTypes, unionpayPaths,
} from '../../../src/channels/unionpay/protocol.js';
import { verifyFieldsSignature, withSignature } from '../../../src/channels/unionpay/signature.js';
import { formatZmLine, zmFileName } from '../../../src/channels/unionpay/statement.js';
import { UnionpayBooks, type Refusal, type Txn } from './books.js';
import type { UnionpayTestPki } from './pki.js';
import { scenarioOf, type AnswerFault } from './scenarios.js';

export interface SimulatedMerchant {
  readonly merId: string;
  readonly certId: string;
  readonly publicKeyPem: string;
}

export interface UnionpaySimulatorOptions {
  readonly pki: UnionpayTestPki;
  readonly merchants: readonly SimulatedMerchant[];
  /** How long processing transactions and payers at the cashier take; 150 ms by default. */
  readonly settleDelayMs?: number;
  /** Pauses before each resend of an unacknowledged callback. */
  readonly callbackRetryDelaysMs?: readonly number[];
}

export interface DeliveredCallback {
  readonly orderId: string;
  readonly txnType: string;
  readonly body: string;
  readonly statusCode: number | null;
}

export type Signer = 'signing' | 'untrusted' | 'expired' | 'wrongName';

export interface UnionpaySimulator {
  readonly url: string;
  readonly books: UnionpayBooks;
  /** Every callback delivery attempt, in order. */
  readonly callbacks: DeliveredCallback[];
  /** Bends the next answer of any endpoint; several queue up. */
  failNext(fault: AnswerFault): void;
  backdate(merId: string, orderId: string, ms: number): void;
  /** Posts a transaction's last callback again, byte for byte, as UnionPay's resend does; the HTTP status. */
  resendCallback(merId: string, orderId: string): Promise<number | null>;
  /** Fields signed as UnionPay signs them, with the chosen test certificate. */
  signAsUnionpay(fields: Readonly<Record<string, string>>, signer?: Signer): Record<string, string>;
  close(): Promise<void>;
}

const moneyTxnTypes: readonly string[] = [txnTypes.consume, txnTypes.preauth, txnTypes.preauthComplete, txnTypes.refund, txnTypes.consumeCancel, txnTypes.preauthCancel, txnTypes.preauthCompleteCancel];
const magicTxnTypes: readonly string[] = [txnTypes.consume, txnTypes.preauth, txnTypes.preauthComplete, txnTypes.refund];
const commonRequired = ['version', 'encoding', 'signMethod', 'certId', 'merId', 'accessType', 'txnTime', 'txnType', 'txnSubType', 'bizType', 'signature'];
const moneyRequired = [...commonRequired, 'channelType', 'orderId', 'txnAmt', 'currencyCode', 'backUrl'];

export async function startUnionpaySimulator(options: UnionpaySimulatorOptions): Promise<UnionpaySimulator> {
  const settleDelayMs = options.settleDelayMs ?? 150;
  const retryDelaysMs = options.callbackRetryDelaysMs ?? [100, 200, 400];
  const merchants = new Map(options.merchants.map((merchant) => [merchant.merId, { ...merchant, key: createPublicKey(merchant.publicKeyPem) }]));
  const signers = Object.fromEntries(
    (['signing', 'untrusted', 'expired', 'wrongName'] as const).map((name) => [name, { certPem: options.pki[name].certPem, key: createPrivateKey(options.pki[name].privateKeyPem) }]),
  ) as Record<Signer, { certPem: string; key: KeyObject }>;
  const books = new UnionpayBooks();
  const callbacks: DeliveredCallback[] = [];
  const lastCallbackBody = new Map<string, { url: string; body: string }>();
  const faults: AnswerFault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const agent = new Agent({ connections: 8, headersTimeout: 2000, bodyTimeout: 2000, connectTimeout: 2000 });
  let closed = false;

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) run();
    }, ms);
    timers.add(timer);
  };

  function signAsUnionpay(fields: Readonly<Record<string, string>>, signer: Signer = 'signing'): Record<string, string> {
    return withSignature({ ...fields, signMethod: '01', signPubKeyCert: signers[signer].certPem }, signers[signer].key);
  }

  /** Writes a signed raw key=value answer, bent by the next queued fault. Values are not URL-encoded, as UnionPay's. */
  function answer(response: ServerResponse, fields: Record<string, string>): void {
    const fault = faults.shift();
    if (fault === 'hang') return;
    if (fault === 'http500') return void response.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>500 Internal Server Error</body></html>');
    const shaped = { ...fields };
    if (fault === 'wrongAmount' && shaped.txnAmt) shaped.txnAmt = String(BigInt(shaped.txnAmt) + 1n);
    if (fault === 'wrongCurrency' && shaped.currencyCode) shaped.currencyCode = '840';
    if (fault === 'unknownStatus') shaped[shaped.origRespCode ? 'origRespCode' : 'respCode'] = 'A9';
    const signer: Signer = fault === 'untrustedCertificate' ? 'untrusted' : fault === 'expiredCertificate' ? 'expired' : fault === 'wrongSignerName' ? 'wrongName' : 'signing';
    let signed = signAsUnionpay({ version: '5.1.0', encoding: 'UTF-8', ...shaped }, signer);
    if (fault === 'badSignature') signed = { ...signed, respMsg: `${signed.respMsg ?? ''}!` };
    if (fault === 'unsigned') {
      const { signature: _signature, signPubKeyCert: _cert, ...bare } = signed;
      signed = bare;
    }
    const text = Object.entries(signed).map(([key, value]) => `${key}=${value}`).join('&');
    response.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' }).end(text);
  }

  /** The common checks of every request; the merchant, or why UnionPay refuses it. */
  function authenticate(fields: Record<string, string> | null, required: readonly string[]): Refusal | null {
    if (!fields) return { respCode: '10', respMsg: '报文格式错误' };
    const missing = required.find((name) => !fields[name]);
    if (missing) return { respCode: '13', respMsg: `报文交易要素缺失[${missing}]` };
    if (fields.version !== '5.1.0' || fields.encoding !== 'UTF-8' || fields.signMethod !== '01' || !parseTxnTime(fields.txnTime)) return { respCode: '10', respMsg: '报文格式错误' };
    const merchant = merchants.get(fields.merId!);
    if (!merchant) return { respCode: '31', respMsg: '商户状态不正确' };
    if (fields.certId !== merchant.certId || !verifyFieldsSignature(fields, merchant.key)) return { respCode: '11', respMsg: '验证签名失败' };
    return null;
  }

  function identity(fields: Record<string, string>): Record<string, string> {
    const keep = ['txnType', 'txnSubType', 'bizType', 'accessType', 'merId', 'orderId', 'txnTime', 'txnAmt', 'currencyCode'];
    return Object.fromEntries(keep.filter((key) => fields[key] !== undefined).map((key) => [key, fields[key]!]));
  }

  function txnFields(txn: Txn): Record<string, string> {
    const at = new Date(txn.atMs);
    return {
      txnType: txn.txnType, txnSubType: txn.txnSubType, bizType: txn.bizType, accessType: '0', merId: txn.merId, orderId: txn.orderId,
      txnTime: txn.txnTime, txnAmt: txn.amountMinor.toString(), currencyCode: cnyCode, queryId: txn.queryId, traceNo: txn.traceNo,
      traceTime: txnTimeOf(at).slice(4), settleDate: settleDateOf(settlementDayOf(at)), settleCurrencyCode: cnyCode, settleAmt: txn.amountMinor.toString(),
      ...(txn.origQryId ? { origQryId: txn.origQryId } : {}),
    };
  }

  async function deliver(url: string, body: string, orderId: string, txnType: string): Promise<number | null> {
    let statusCode: number | null = null;
    try {
      const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' }, body, dispatcher: agent });
      await response.body.dump();
      statusCode = response.statusCode;
    } catch {
      statusCode = null;
    }
    callbacks.push({ orderId, txnType, body, statusCode });
    return statusCode;
  }

  /** Posts the transaction's result to its backUrl, resending on anything but HTTP 200. */
  function notify(txn: Txn, attempt = 0): void {
    const fields = { ...txnFields(txn), respCode: txn.respCode, respMsg: txn.respMsg };
    const body = formBody(signAsUnionpay({ version: '5.1.0', encoding: 'UTF-8', ...fields }));
    lastCallbackBody.set(`${txn.merId}|${txn.orderId}`, { url: txn.backUrl, body });
    void deliver(txn.backUrl, body, txn.orderId, txn.txnType).then((status) => {
      const delay = retryDelaysMs[attempt];
      if (status !== 200 && delay !== undefined) later(delay, () => notify(txn, attempt + 1));
    });
  }

  function settleLater(txn: Txn, state: 'SUCCEEDED' | 'FAILED', withCallback: boolean, code?: string, message?: string): void {
    later(settleDelayMs, () => {
      books.settle(txn, state, code, message);
      if (withCallback) notify(txn);
    });
  }

  /** The business checks of a money request after authentication; a refusal, or the amount. */
  function validateMoney(fields: Record<string, string>, front: boolean): Refusal | bigint {
    const amountMinor = parseTxnAmt(fields.txnAmt);
    if (!orderIdPattern.test(fields.orderId!) || amountMinor === null || amountMinor === 0n || fields.currencyCode !== cnyCode) return { respCode: '10', respMsg: '报文格式错误' };
    const txnType = fields.txnType!;
    if (!moneyTxnTypes.includes(txnType) || (front && txnType !== txnTypes.consume && txnType !== txnTypes.preauth)) return { respCode: '10', respMsg: '交易类型错误' };
    const initial = txnType === txnTypes.consume || txnType === txnTypes.preauth;
    if (initial && front && fields.bizType !== bizTypes.gateway) return { respCode: '10', respMsg: 'bizType错误' };
    if (initial && !front && (fields.bizType !== bizTypes.noRedirect || !/^\{trId=\d{11}&token=[^&{}]+\}$/.test(fields.tokenPayData ?? ''))) return { respCode: '13', respMsg: '报文交易要素缺失[tokenPayData]' };
    if (!initial && !fields.origQryId) return { respCode: '13', respMsg: '报文交易要素缺失[origQryId]' };
    const payTimeout = fields.payTimeout ? parseTxnTime(fields.payTimeout) : null;
    if (payTimeout && payTimeout.getTime() < Date.now()) return { respCode: '10', respMsg: '订单已超过支付时间[payTimeout]' };
    if (books.find(fields.merId!, fields.orderId!)) return { respCode: '12', respMsg: '重复交易' };
    return books.check(fields.merId!, txnType, amountMinor, fields.origQryId) ?? amountMinor;
  }

  function record(fields: Record<string, string>, amountMinor: bigint): Txn {
    return books.accept({
      merId: fields.merId!, orderId: fields.orderId!, txnType: fields.txnType!, txnSubType: fields.txnSubType!, bizType: fields.bizType!,
      txnTime: fields.txnTime!, amountMinor, backUrl: fields.backUrl!, ...(fields.origQryId ? { origQryId: fields.origQryId } : {}),
    });
  }

  function handleBack(fields: Record<string, string> | null, response: ServerResponse): void {
    const refusal = authenticate(fields, moneyRequired);
    if (refusal) return answer(response, { ...identity(fields ?? {}), ...refusal });
    const checked = validateMoney(fields!, false);
    if (typeof checked !== 'bigint') return answer(response, { ...identity(fields!), ...checked });
    const scenario = magicTxnTypes.includes(fields!.txnType!) ? scenarioOf(checked) : 'normal';
    if (scenario === 'serverError') return void response.writeHead(500).end();
    if (scenario === 'hangUncharged') return;
    const txn = record(fields!, checked);
    const accepted = { ...txnFields(txn), respCode: '00', respMsg: '成功[0000000]' };
    switch (scenario) {
      case 'declined':
        books.settle(txn, 'FAILED', '60', '交易失败，详情请咨询您的发卡行[1000060]');
        return answer(response, { ...identity(fields!), respCode: '60', respMsg: txn.respMsg });
      case 'hangCharged':
        books.settle(txn, 'SUCCEEDED');
        return notify(txn);
      case 'processing':
        settleLater(txn, 'SUCCEEDED', true);
        return answer(response, { ...accepted, respCode: '05', respMsg: '交易已受理，请稍后查询交易结果' });
      case 'slow':
        settleLater(txn, 'SUCCEEDED', false);
        return answer(response, accepted);
      case 'declinedLater':
        books.settle(txn, 'FAILED', '64', '卡上的余额不足[1000064]');
        notify(txn);
        return answer(response, accepted);
      default:
        books.settle(txn, 'SUCCEEDED');
        notify(txn);
        return answer(response, accepted);
    }
  }

  /** The payer's browser posts the merchant's form here; UnionPay shows its cashier, and the payer pays later. */
  function handleFront(fields: Record<string, string> | null, response: ServerResponse): void {
    const page = (text: string): void => void response.writeHead(200, { 'content-type': 'text/html;charset=UTF-8' }).end(`<html><body><p>${text}</p></body></html>`);
    const refusal = authenticate(fields, moneyRequired);
    if (refusal) return page(`${refusal.respMsg}[${refusal.respCode}]`);
    const checked = validateMoney(fields!, true);
    if (typeof checked !== 'bigint') return page(`${checked.respMsg}[${checked.respCode}]`);
    const txn = record(fields!, checked);
    const scenario = scenarioOf(checked);
    if (scenario === 'declined') settleLater(txn, 'FAILED', true, '60', '交易失败，详情请咨询您的发卡行[1000060]');
    else if (scenario !== 'slow') settleLater(txn, 'SUCCEEDED', true);
    return page(`银联在线支付 (simulated cashier): order ${txn.orderId}, ${checked} fen`);
  }

  function handleQuery(fields: Record<string, string> | null, response: ServerResponse): void {
    const refusal = authenticate(fields, [...commonRequired, 'orderId']);
    if (refusal) return answer(response, { ...identity(fields ?? {}), ...refusal });
    if (fields!.txnType !== txnTypes.query) return answer(response, { ...identity(fields!), respCode: '10', respMsg: '交易类型错误' });
    const txn = books.find(fields!.merId!, fields!.orderId!);
    // UnionPay finds a transaction by orderId and the txnTime it was sent with; either wrong is "not found".
    if (!txn || txn.txnTime !== fields!.txnTime) return answer(response, { ...identity(fields!), respCode: '34', respMsg: '查无此交易[2600000]' });
    const origRespCode = txn.state === 'SUCCEEDED' ? '00' : txn.state === 'PROCESSING' ? '05' : txn.respCode;
    return answer(response, { ...txnFields(txn), respCode: '00', respMsg: '成功[0000000]', origRespCode, origRespMsg: txn.respMsg });
  }

  function handleFile(fields: Record<string, string> | null, response: ServerResponse): void {
    const refusal = authenticate(fields, [...commonRequired, 'settleDate', 'fileType']);
    if (refusal) return answer(response, { ...identity(fields ?? {}), ...refusal });
    const { merId, settleDate } = fields as { merId: string; settleDate: string };
    const base = { ...identity(fields!), settleDate };
    if (fields!.txnType !== txnTypes.fileDownload || fields!.fileType !== '00' || !/^\d{4}$/.test(settleDate)) return answer(response, { ...base, respCode: '10', respMsg: '报文格式错误' });
    const txns = books.settledOn(merId, settleDate);
    if (txns.length === 0) return answer(response, { ...base, respCode: '98', respMsg: '文件不存在' });
    const day = settlementDayOf(new Date(txns[0]!.atMs));
    const fileName = zmFileName(day, merId);
    const text = txns.map(zmLine).join('\r\n') + '\r\n';
    const zipped = zipSync({ [fileName]: new Uint8Array(Buffer.from(text, 'latin1')) });
    return answer(response, { ...base, respCode: '00', respMsg: '成功[0000000]', fileName: `${fileName}.zip`, fileContent: deflateSync(zipped).toString('base64') });
  }

  const routes: Record<string, (fields: Record<string, string> | null, response: ServerResponse) => void> = {
    [unionpayPaths.back]: handleBack, [unionpayPaths.front]: handleFront, [unionpayPaths.query]: handleQuery, [unionpayPaths.file]: handleFile,
  };

  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      const route = incoming.method === 'POST' ? routes[(incoming.url ?? '').split('?')[0]!] : undefined;
      if (!route) return void outgoing.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      route(parseForm(body), outgoing);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    books,
    callbacks,
    failNext: (fault) => void faults.push(fault),
    backdate: (merId, orderId, ms) => books.backdate(merId, orderId, ms),
    async resendCallback(merId, orderId) {
      const last = lastCallbackBody.get(`${merId}|${orderId}`);
      if (!last) throw new Error(`no callback was sent for ${orderId}`);
      const txnType = new URLSearchParams(last.body).get('txnType') ?? '';
      return deliver(last.url, last.body, orderId, txnType);
    },
    signAsUnionpay,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}

/** One ZM statement line; the fee is 0.6% of the amount, charged on payments and returned on reversals. */
function zmLine(txn: Txn): string {
  const twelve = (value: bigint) => value.toString().padStart(12, '0');
  const fee = (txn.amountMinor * 6n) / 1000n;
  const incoming = txn.txnType === txnTypes.consume || txn.txnType === txnTypes.preauthComplete;
  const codes: Record<string, string> = { '01': 'S22', '03': 'S32', '04': 'S30', '31': 'S31', '33': 'S33' };
  return formatZmLine({
    txnCode: codes[txn.txnType] ?? 'S00', agentInsCode: '00010000', sendInsCode: '00010000', traceNo: txn.traceNo,
    transmitTime: txnTimeOf(new Date(txn.atMs)).slice(4), accNo: '6216610000000018', txnAmt: twelve(txn.amountMinor), merCatCode: '5411',
    termType: '07', queryId: txn.queryId, payTypeOld: '01', orderId: txn.orderId, payCardType: '01',
    merFee: `${incoming ? 'D' : 'C'}${twelve(fee)}`, settleAmt: `${incoming ? 'C' : 'D'}${twelve(txn.amountMinor - fee)}`,
    payType: '01', txnType: txn.txnType, txnSubType: txn.txnSubType, bizType: txn.bizType, accType: '01', interactMode: '1',
    origQueryId: txn.origQryId ?? '', merId: txn.merId,
  });
}
