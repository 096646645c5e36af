/**
 * A local WeChat Pay API v3 for tests: a real node:http server on 127.0.0.1 speaking WeChat's wire protocol.
 * It checks the merchant's Authorization (WECHATPAY2-SHA256-RSA2048 over "METHOD\nURL\ntimestamp\nnonce\nbody\n")
 * on every request and answers 401 SIGN_ERROR, unsigned, when it fails, as WeChat does; it signs every
 * other answer with the platform private key (Wechatpay-* headers, "timestamp\nnonce\nbody\n") except the bill
 * file, which WeChat does not sign; it posts encrypted callbacks to notify_url and retries them until they
 * are acknowledged. Scenario controls: pay/decline/settle methods and injectable faults (hang, 5xx, bad
 * signature, unknown serial, tampered echo, delay).
 *
 * Example:
 *   const simulator = await startWechatSimulator({ credentials });
 *   simulator.injectFault({ method: 'POST', path: '/v3/pay/transactions/native' }, { kind: 'hang' });
 *   await simulator.close();
 */
import { createHash, createPrivateKey, createPublicKey, createVerify, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { now } from '../../../src/clock.js';
import { aeadEncrypt, rsaSign, signedMessage } from '../../../src/channels/wechat/notification.js';
import { formatBeijingTime, signatureScheme, timestampWindowMs } from '../../../src/channels/wechat/protocol.js';
import { Books, errorReply, refundResourceJson, transactionJson, type Order, type RefundRecord, type RefundStatus, type Reply } from './books.js';
import type { WechatCredentials } from './keys.js';

export type Fault =
  /** Never answer, and change nothing. */
  | { readonly kind: 'hang' }
  /** Apply the request, then never answer: money may have moved. */
  | { readonly kind: 'hangAfterApply' }
  /** Answer with WeChat's signed error body, applying nothing. */
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly message?: string }
  /** Apply the request, answer with a signature that does not verify. */
  | { readonly kind: 'badSignature' }
  /** Apply the request, answer signed but naming another Wechatpay-Serial. */
  | { readonly kind: 'unknownSerial' }
  /** Apply the request, answer without any Wechatpay-* headers. */
  | { readonly kind: 'unsigned' }
  /** Apply the request, edit the JSON answer, then sign it properly: only the adapter's echo checks can tell. */
  | { readonly kind: 'tamper'; readonly edit: (body: Record<string, unknown>) => void }
  /** Wait, then answer normally. */
  | { readonly kind: 'delay'; readonly ms: number };

export interface FaultMatch {
  readonly method?: string;
  /** The request path (without the query) starts with this. */
  readonly path: string;
}

export interface CallbackOptions {
  /** Seconds since the epoch for Wechatpay-Timestamp; now() by default. */
  readonly timestampSeconds?: number;
  readonly signingKeyPem?: string;
  readonly serial?: string;
  readonly apiV3Key?: string;
  readonly id?: string;
  readonly nonce?: string;
}

export interface SignedCallback {
  readonly headers: Record<string, string>;
  readonly rawBody: string;
}

export interface Delivery {
  readonly url: string;
  readonly eventType: string;
  /** The out_trade_no or out_refund_no the callback is about. */
  readonly subjectNo: string;
  readonly statusCode: number | null;
  readonly responseBody: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly body: unknown;
}

export interface WechatSimulatorOptions {
  readonly credentials: WechatCredentials;
  /** Delays between callback retries; WeChat's own schedule starts 15s, 15s, 30s, 3m, 10m... */
  readonly callbackRetryDelaysMs?: readonly number[];
  /** The status refunds are created in unless nextRefundStatus says otherwise. */
  readonly defaultRefundStatus?: RefundStatus;
}

export interface WechatSimulator {
  readonly url: string;
  readonly books: Books;
  readonly requests: RecordedRequest[];
  readonly deliveries: Delivery[];
  /** The most client connections open at once since start (or the last resetPeak). */
  readonly peakConnections: number;
  resetPeak(): void;
  injectFault(match: FaultMatch, fault: Fault, times?: number): void;
  /** The payer pays the order; WeChat posts TRANSACTION.SUCCESS to its notify_url. */
  pay(outTradeNo: string): Order;
  /** Puts an order in any trade_state (PAYERROR, USERPAYING, or one WeChat never documented). */
  setTradeState(outTradeNo: string, state: string): void;
  /** Moves a refund to its final (or ABNORMAL) status and posts the REFUND.* callback. */
  settleRefund(outRefundNo: string, status: Exclude<RefundStatus, 'PROCESSING'>): RefundRecord;
  /** The callback WeChat would send for an order or refund, signed and encrypted, without sending it. */
  callbackFor(subject: { outTradeNo: string } | { outRefundNo: string }, options?: CallbackOptions): SignedCallback;
  close(): Promise<void>;
}

const defaultRetryDelaysMs = [15_000, 15_000, 30_000, 180_000, 600_000, 1_200_000, 1_800_000];
const maxRecorded = 2000;

export async function startWechatSimulator(options: WechatSimulatorOptions): Promise<WechatSimulator> {
  const { credentials } = options;
  const platformKey = createPrivateKey(credentials.platformPrivateKeyPem);
  const merchantKey = createPublicKey(credentials.merchantPublicKeyPem);
  const books = new Books({ mchid: credentials.mchid, appid: credentials.appid }, options.defaultRefundStatus ?? 'SUCCESS');
  const retryDelaysMs = options.callbackRetryDelaysMs ?? defaultRetryDelaysMs;
  const faults: { match: FaultMatch; fault: Fault; remaining: number }[] = [];
  const requests: RecordedRequest[] = [];
  const deliveries: Delivery[] = [];
  const requestNonces = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let peakConnections = 0;
  let closed = false;
  let url = '';

  function record(entry: RecordedRequest): void {
    if (requests.length >= maxRecorded) requests.shift();
    requests.push(entry);
  }

  /** The merchant's signature over this very request, or why it fails. Uses the system clock, as the plugin does. */
  function authorizationProblem(request: IncomingMessage, body: string): string | null {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith(`${signatureScheme} `)) return '认证类型错误';
    const fields = Object.fromEntries([...header.slice(signatureScheme.length + 1).matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    const { mchid, serial_no: serialNo, timestamp, nonce_str: nonce, signature } = fields;
    if (!mchid || !serialNo || !timestamp || !nonce || !signature) return 'Authorization缺少字段';
    if (mchid !== credentials.mchid) return '商户号不存在';
    if (serialNo !== credentials.merchantSerialNo) return '商户证书序列号错误';
    const nowMs = Date.now();
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs - Number(timestamp) * 1000) > timestampWindowMs) return '请求时间戳超出允许范围';
    const message = `${request.method}\n${request.url}\n${timestamp}\n${nonce}\n${body}\n`;
    let valid = false;
    try {
      valid = createVerify('RSA-SHA256').update(message, 'utf8').verify(merchantKey, signature, 'base64');
    } catch {
      valid = false;
    }
    if (!valid) return '签名错误';
    for (const [seen, atMs] of requestNonces) if (atMs < nowMs - 2 * timestampWindowMs) requestNonces.delete(seen);
    if (requestNonces.has(nonce)) return '重复的请求随机串';
    requestNonces.set(nonce, nowMs);
    return null;
  }

  function takeFault(method: string, path: string): Fault | null {
    const index = faults.findIndex(({ match }) => (!match.method || match.method === method) && path.startsWith(match.path));
    if (index < 0) return null;
    const entry = faults[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(index, 1);
    return entry.fault;
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown): Reply | { file: string } {
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v3/pay/transactions/native') return books.createOrder('NATIVE', body);
    if (method === 'POST' && path === '/v3/pay/transactions/jsapi') return books.createOrder('JSAPI', body);
    if (method === 'GET' && (match = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/.exec(path))) return books.queryOrder(decodeURIComponent(match[1]!), query.get('mchid'));
    if (method === 'POST' && (match = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/.exec(path))) return books.closeOrder(decodeURIComponent(match[1]!), body);
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') {
      const reply = books.createRefund(body);
      // A refund created already final is announced at once; a repeated request announces nothing new.
      if (reply.created && reply.created.status !== 'PROCESSING') sendRefundCallback(reply.created);
      return reply;
    }
    if (method === 'GET' && (match = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path))) return books.queryRefund(decodeURIComponent(match[1]!));
    if (method === 'GET' && path === '/v3/bill/tradebill') return tradeBill(query);
    if (method === 'GET' && path === '/v3/billdownload/file') {
      const file = bills.get(query.get('token') ?? '');
      return file === undefined ? errorReply(404, 'RESOURCE_NOT_EXISTS', '账单下载链接已失效') : { file };
    }
    return errorReply(404, 'NOT_FOUND', '接口不存在');
  }

  const bills = new Map<string, string>();
  function tradeBill(query: URLSearchParams): Reply {
    const date = query.get('bill_date') ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return errorReply(400, 'PARAM_ERROR', 'bill_date格式错误');
    if ((query.get('bill_type') ?? 'ALL') !== 'ALL') return errorReply(400, 'PARAM_ERROR', '模拟器只提供ALL账单');
    const file = books.tradeBill(date);
    if (file === null) return errorReply(400, 'NO_STATEMENT_EXIST', '账单文件不存在');
    const token = randomBytes(18).toString('base64url');
    bills.set(token, file);
    // The digest covers the file's bytes exactly as served.
    const hash = createHash('sha1').update(Buffer.from(file, 'utf8')).digest('hex');
    return { status: 200, body: { hash_type: 'SHA1', hash_value: hash, download_url: `${url}/v3/billdownload/file?token=${token}` } };
  }

  function signedHeaders(body: string, serial = credentials.platformPublicKeyId): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    return {
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': rsaSign(signedMessage(timestamp, nonce, body), platformKey),
      'Wechatpay-Serial': serial,
      'Wechatpay-Signature-Type': signatureScheme,
    };
  }

  function answer(response: ServerResponse, reply: Reply, fault: Fault | null): void {
    let payload = reply.body;
    if (fault?.kind === 'tamper' && payload) {
      const copy = structuredClone(payload) as Record<string, unknown>;
      fault.edit(copy);
      payload = copy;
    }
    const body = payload === undefined ? '' : JSON.stringify(payload);
    let headers: Record<string, string> = fault?.kind === 'unsigned' ? {} : signedHeaders(body, fault?.kind === 'unknownSerial' ? 'PUB_KEY_ID_0114UNKNOWN' : undefined);
    if (fault?.kind === 'badSignature') headers = { ...headers, 'Wechatpay-Signature': rsaSign('something else', platformKey) };
    response.writeHead(reply.status, { ...(body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}), 'Request-ID': randomUUID(), ...headers }).end(body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, rawBody: string): Promise<void> {
    const method = request.method ?? 'GET';
    const parsedUrl = new URL(request.url ?? '/', 'http://simulator');
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
    const problem = authorizationProblem(request, rawBody);
    if (problem) {
      // WeChat does not sign an answer to a request whose own signature failed.
      record({ method, url: request.url ?? '', status: 401, body });
      response.writeHead(401, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ code: 'SIGN_ERROR', message: problem }));
      return;
    }
    const fault = takeFault(method, parsedUrl.pathname);
    if (fault?.kind === 'hang') return record({ method, url: request.url ?? '', status: 0, body });
    if (fault?.kind === 'error') {
      record({ method, url: request.url ?? '', status: fault.status, body });
      return answer(response, errorReply(fault.status, fault.code, fault.message ?? fault.code), null);
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const reply = route(method, parsedUrl.pathname, parsedUrl.searchParams, body);
    record({ method, url: request.url ?? '', status: 'file' in reply ? 200 : reply.status, body });
    if (fault?.kind === 'hangAfterApply' || response.destroyed) return;
    if ('file' in reply) {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(reply.file);
      return;
    }
    answer(response, reply, fault);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Callbacks

  function buildCallback(eventType: string, summary: string, originalType: string, resource: object, callbackOptions: CallbackOptions = {}): SignedCallback {
    const resourceNonce = randomBytes(9).toString('base64url');
    const rawBody = JSON.stringify({
      id: callbackOptions.id ?? randomUUID(),
      create_time: formatBeijingTime(now()),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary,
      resource: {
        original_type: originalType,
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: aeadEncrypt(JSON.stringify(resource), callbackOptions.apiV3Key ?? credentials.apiV3Key, resourceNonce, originalType),
        associated_data: originalType,
        nonce: resourceNonce,
      },
    });
    const timestamp = String(callbackOptions.timestampSeconds ?? Math.floor(now().getTime() / 1000));
    const nonce = callbackOptions.nonce ?? randomBytes(16).toString('hex');
    const key: KeyObject = callbackOptions.signingKeyPem ? createPrivateKey(callbackOptions.signingKeyPem) : platformKey;
    return {
      rawBody,
      headers: {
        'Content-Type': 'application/json',
        'Wechatpay-Timestamp': timestamp,
        'Wechatpay-Nonce': nonce,
        'Wechatpay-Signature': rsaSign(signedMessage(timestamp, nonce, rawBody), key),
        'Wechatpay-Serial': callbackOptions.serial ?? credentials.platformPublicKeyId,
        'Wechatpay-Signature-Type': signatureScheme,
      },
    };
  }

  const refundEvents: Record<string, [string, string]> = {
    SUCCESS: ['REFUND.SUCCESS', '退款成功'],
    ABNORMAL: ['REFUND.ABNORMAL', '退款异常'],
    CLOSED: ['REFUND.CLOSED', '退款关闭'],
  };

  function callbackFor(subject: { outTradeNo: string } | { outRefundNo: string }, callbackOptions?: CallbackOptions): SignedCallback {
    if ('outTradeNo' in subject) {
      const order = books.orders.get(subject.outTradeNo);
      if (!order) throw new Error(`simulator: no order ${subject.outTradeNo}`);
      return buildCallback('TRANSACTION.SUCCESS', '支付成功', 'transaction', transactionJson(order), callbackOptions);
    }
    const record = books.refunds.get(subject.outRefundNo);
    if (!record) throw new Error(`simulator: no refund ${subject.outRefundNo}`);
    const [eventType, summary] = refundEvents[record.status] ?? ['REFUND.SUCCESS', '退款成功'];
    return buildCallback(eventType, summary, 'refund', refundResourceJson(record), callbackOptions);
  }

  /** Posts a callback, retrying on the schedule until WeChat's idea of success: HTTP 200 or 204. */
  function deliver(target: string, eventType: string, subjectNo: string, callback: SignedCallback, attempt = 0): void {
    if (closed) return;
    void fetch(target, { method: 'POST', headers: callback.headers, body: callback.rawBody, signal: AbortSignal.timeout(5000) })
      .then(async (reply) => ({ statusCode: reply.status, responseBody: await reply.text() }))
      .catch(() => ({ statusCode: null, responseBody: '' }))
      .then(({ statusCode, responseBody }) => {
        deliveries.push({ url: target, eventType, subjectNo, statusCode, responseBody });
        if (statusCode === 200 || statusCode === 204 || attempt >= retryDelaysMs.length || closed) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          deliver(target, eventType, subjectNo, resign(callback), attempt + 1);
        }, retryDelaysMs[attempt]);
        timers.add(timer);
      });
  }

  /** A retry is the same notification (same body and id) with a fresh timestamp, nonce and signature. */
  function resign(callback: SignedCallback): SignedCallback {
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const nonce = randomBytes(16).toString('hex');
    return { rawBody: callback.rawBody, headers: { ...callback.headers, 'Wechatpay-Timestamp': timestamp, 'Wechatpay-Nonce': nonce, 'Wechatpay-Signature': rsaSign(signedMessage(timestamp, nonce, callback.rawBody), platformKey) } };
  }

  function sendRefundCallback(record: RefundRecord): void {
    if (!record.notifyUrl) return;
    const callback = callbackFor({ outRefundNo: record.outRefundNo });
    deliver(record.notifyUrl, refundEvents[record.status]![0], record.outRefundNo, callback);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The server

  const server = createServer((request, response) => {
    let rawBody = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (rawBody += chunk));
    request.on('end', () => {
      handle(request, response, rawBody).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: 'SYSTEM_ERROR', message: String(error) }));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    peakConnections = Math.max(peakConnections, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    books,
    requests,
    deliveries,
    get peakConnections() {
      return peakConnections;
    },
    resetPeak() {
      peakConnections = sockets.size;
    },
    injectFault(match, fault, times = 1) {
      faults.push({ match, fault, remaining: times });
    },
    pay(outTradeNo) {
      const order = books.payOrder(outTradeNo);
      deliver(order.notifyUrl, 'TRANSACTION.SUCCESS', outTradeNo, callbackFor({ outTradeNo }));
      return order;
    },
    setTradeState(outTradeNo, state) {
      const order = books.orders.get(outTradeNo);
      if (!order) throw new Error(`simulator: no order ${outTradeNo}`);
      books.setState(order, state);
    },
    settleRefund(outRefundNo, status) {
      const record = books.refunds.get(outRefundNo);
      if (!record) throw new Error(`simulator: no refund ${outRefundNo}`);
      record.status = status;
      record.successTime = status === 'SUCCESS' ? now() : undefined;
      sendRefundCallback(record);
      return record;
    },
    callbackFor,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
