/**
 * A local Alipay OpenAPI gateway for tests: a node:http server on 127.0.0.1 that speaks Alipay's real
 * protocol — POST /gateway.do with the common parameters in the query string and biz_content in the form
 * body, RSA2 request signatures checked against the app's public key, every answer signed with this
 * simulator's own Alipay key as `{"<method>_response": {...}, "sign": "..."}`. It also serves the page-pay
 * cashier (GET or POST /gateway.do with method alipay.trade.page.pay), the bill download URL, and sends
 * signed notifications. Scenario controls (see AlipaySimulator) stand in for what a payer or a failing
 * Alipay would do.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rsaSign, rsaVerify, signContent } from '../../../src/shared/crypto.js';
import { billZip } from './bill.js';
import { beijing, Books, failure, parseBeijing, transferOrderFields, yuan, type Fields, type HandlerResult, type Order, type Payee, type Refund } from './books.js';
import { Notifier, type Delivery } from './notifier.js';

export interface AlipaySimulatorOptions {
  readonly appId: string;
  readonly appPublicKeyPem: string;
  readonly alipayPrivateKeyPem: string;
  /** Accounts transfers may pay; others answer PAYEE_NOT_EXIST. */
  readonly payees?: readonly Payee[];
  /** Where alipay.fund.trans.order.changed messages go (the app's gateway address on the open platform). */
  readonly appGatewayUrl?: string;
  /** Delays between notification retries; defaults to three quick retries. */
  readonly notifyRetryDelaysMs?: readonly number[];
  readonly clock?: () => Date;
}

/** How the next call of one method goes wrong. `effect: true` applies the request before the answer is lost. */
export type Scenario =
  | { readonly kind: 'hang'; readonly effect?: boolean }
  | { readonly kind: 'http'; readonly status: number; readonly effect?: boolean }
  | { readonly kind: 'badSignature' }
  | { readonly kind: 'fail'; readonly subCode: string; readonly subMsg?: string; readonly code?: string }
  | { readonly kind: 'mutate'; readonly mutate: (body: Fields) => void };

export interface AlipaySimulator {
  /** The gateway URL the adapter is configured with. */
  readonly gatewayUrl: string;
  readonly books: Books;
  readonly deliveries: readonly Delivery[];
  /** Every OpenAPI method called, in order, signature checks passed or not. */
  readonly calls: readonly string[];
  /** The next call of `method` follows the scenario instead of the books. */
  next(method: string, scenario: Scenario): void;
  setHangAll(on: boolean): void;
  /** The payer scans the QR code or logs in on the cashier page. */
  payerOpens(outTradeNo: string): void;
  /** The payer pays (now, or after delayMs); the notification follows when the order has a notify_url. */
  payerPays(outTradeNo: string, options?: { readonly delayMs?: number }): void;
  /** Forces a trade into any trade_status, known or not. */
  setTradeStatus(outTradeNo: string, status: string): void;
  deferRefunds(on: boolean): void;
  settleRefund(outTradeNo: string, outRequestNo: string): void;
  deferTransfers(on: boolean): void;
  settleTransfer(outBizNo: string, outcome: 'SUCCESS' | 'FAIL'): void;
  /** Signs notification content as this Alipay would now, for tests that craft or replay notifications. */
  signNotification(content: Readonly<Record<string, string>>, notifyId?: string): Record<string, string>;
  /** The content of the trade notification Alipay would send for this order now. */
  tradeNotificationContent(outTradeNo: string): Record<string, string>;
  close(): Promise<void>;
}

const knownMethods = new Set([
  'alipay.trade.precreate', 'alipay.trade.page.pay', 'alipay.trade.query', 'alipay.trade.refund', 'alipay.trade.fastpay.refund.query',
  'alipay.trade.close', 'alipay.trade.cancel', 'alipay.fund.trans.uni.transfer', 'alipay.fund.trans.common.query',
  'alipay.data.dataservice.bill.downloadurl.query',
]);
/** Alipay refuses request timestamps far from its own clock; the simulator allows half an hour either way. */
const timestampToleranceMs = 30 * 60 * 1000;
const billUrlLifetimeMs = 30 * 1000;

export async function startAlipaySimulator(options: AlipaySimulatorOptions): Promise<AlipaySimulator> {
  const clock = options.clock ?? (() => new Date());
  const books = new Books(clock, options.payees ?? []);
  const sellerId = `2088${Array.from(randomBytes(12), (byte) => String(byte % 10)).join('')}`;
  const notifier = new Notifier({ appId: options.appId, alipayPrivateKeyPem: options.alipayPrivateKeyPem, retryDelaysMs: options.notifyRetryDelaysMs ?? [50, 100, 200], clock });
  const scenarios = new Map<string, Scenario[]>();
  const billTokens = new Map<string, { date: string; expiresAtMs: number }>();
  const calls: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let hangAll = false;
  let origin = '';

  function tradeContent(order: Order, refund?: Refund): Record<string, string> {
    const content: Record<string, string> = {
      notify_type: 'trade_status_sync', trade_no: order.tradeNo ?? '', out_trade_no: order.outTradeNo, seller_id: sellerId,
      buyer_id: '2088102177846880', buyer_logon_id: 'buy***@example.com', trade_status: order.status, total_amount: yuan(order.amountMinor),
      subject: order.subject, gmt_create: beijing(order.createdAt),
    };
    if (order.paidAt) {
      Object.assign(content, {
        receipt_amount: yuan(order.amountMinor), buyer_pay_amount: yuan(order.amountMinor), invoice_amount: yuan(order.amountMinor), point_amount: '0.00',
        gmt_payment: beijing(order.paidAt), fund_bill_list: JSON.stringify([{ amount: yuan(order.amountMinor), fundChannel: 'ALIPAYACCOUNT' }]),
      });
    }
    if (refund?.finishedAt) Object.assign(content, { out_biz_no: refund.outRequestNo, refund_fee: yuan(order.refundedMinor), gmt_refund: `${beijing(refund.finishedAt)}.000` });
    if (order.status === 'TRADE_CLOSED') content.gmt_close = beijing(clock());
    return content;
  }

  function notifyAbout(items: HandlerResult['notify']): void {
    for (const { order, refund } of items ?? []) {
      if (order.notifyUrl) notifier.send(order.notifyUrl, tradeContent(order, refund), 'trade');
    }
  }

  function handle(method: string, biz: Fields, params: Record<string, string>): HandlerResult {
    switch (method) {
      case 'alipay.trade.precreate': return books.precreate(biz, params.notify_url ?? null);
      case 'alipay.trade.query': return books.query(biz);
      case 'alipay.trade.refund': return books.refund(biz);
      case 'alipay.trade.fastpay.refund.query': return books.refundQuery(biz);
      case 'alipay.trade.close': return books.close(biz);
      case 'alipay.trade.cancel': return books.cancel(biz);
      case 'alipay.fund.trans.uni.transfer': return books.transfer(biz);
      case 'alipay.fund.trans.common.query': return books.transferQuery(biz);
      case 'alipay.data.dataservice.bill.downloadurl.query': return billUrl(biz);
      default: return { body: failure('isv.invalid-method', '不存在的方法名', '40002') };
    }
  }

  function billUrl(biz: Fields): HandlerResult {
    const date = typeof biz.bill_date === 'string' ? biz.bill_date : '';
    if (biz.bill_type !== 'trade' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return { body: failure('isv.invalid-parameter', 'bill_type 或 bill_date 不合法', '40002') };
    // Deviation: real Alipay publishes a day's bill the next morning; the simulator serves today's too.
    if (date > beijing(clock()).slice(0, 10)) return { body: failure('isp.bill_not_exist', '账单不存在') };
    const token = randomBytes(16).toString('hex');
    billTokens.set(token, { date, expiresAtMs: clock().getTime() + billUrlLifetimeMs });
    const query = new URLSearchParams({ bizType: 'trade', userId: sellerId, fileType: 'csv.zip', bizDates: date.replace(/-/g, ''), downloadFileName: `${sellerId}0156_${date.replace(/-/g, '')}.csv.zip`, fileId: randomBytes(8).toString('hex'), timestamp: String(clock().getTime()), token });
    return { body: { code: '10000', msg: 'Success', bill_download_url: `${origin}/downloadBillFile.resource?${query}` } };
  }

  /** The common-parameter checks Alipay applies before any method runs, as its own error answers. */
  function checkRequest(params: Record<string, string>): Fields | null {
    if (params.app_id !== options.appId) return failure('isv.invalid-app-id', '无效的AppID参数', '40002');
    if (params.charset && params.charset.toLowerCase() !== 'utf-8') return failure('isv.invalid-charset', '字符集错误', '40002');
    if (params.sign_type !== 'RSA2') return failure('isv.invalid-signature-type', '无效的签名类型', '40002');
    const content = signContent(params, ['sign']);
    if (!params.sign || !rsaVerify(content, params.sign, options.appPublicKeyPem)) {
      return failure('isv.invalid-signature', `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${content.slice(0, 200)}`, '40002');
    }
    const stamped = parseBeijing(params.timestamp ?? '');
    if (!stamped || Math.abs(stamped.getTime() - clock().getTime()) > timestampToleranceMs) return failure('isv.invalid-timestamp', '非法的时间戳参数', '40002');
    return null;
  }

  function signedAnswer(method: string, body: Fields, corruptSignature = false): string {
    const key = knownMethods.has(method) ? `${method.replace(/\./g, '_')}_response` : 'error_response';
    const json = JSON.stringify(body);
    const sign = rsaSign(corruptSignature ? `${json} ` : json, options.alipayPrivateKeyPem);
    return `{"${key}":${json},"sign":"${sign}"}`;
  }

  function answerApi(method: string, params: Record<string, string>, response: ServerResponse): void {
    calls.push(method);
    const refusal = checkRequest(params);
    if (refusal) return void send(response, 200, 'application/json;charset=utf-8', signedAnswer(method, refusal));
    let biz: Fields;
    try {
      biz = JSON.parse(params.biz_content ?? '{}') as Fields;
    } catch {
      return void send(response, 200, 'application/json;charset=utf-8', signedAnswer(method, failure('isv.invalid-parameter', 'biz_content 不是合法的 JSON', '40002')));
    }
    const scenario = scenarios.get(method)?.shift();
    if (scenario?.kind === 'fail') {
      return void send(response, 200, 'application/json;charset=utf-8', signedAnswer(method, failure(scenario.subCode, scenario.subMsg ?? scenario.subCode, scenario.code ?? '40004')));
    }
    const applies = !scenario || scenario.kind === 'badSignature' || scenario.kind === 'mutate' || scenario.effect === true;
    const result = applies ? handle(method, biz, params) : null;
    if (result) notifyAbout(result.notify);
    if (scenario?.kind === 'hang') return; // the socket stays open until the client gives up or the simulator closes
    if (scenario?.kind === 'http') return void send(response, scenario.status, 'text/html', '<html><body>502 Bad Gateway</body></html>');
    const body = { ...result!.body };
    if (scenario?.kind === 'mutate') scenario.mutate(body);
    send(response, 200, 'application/json;charset=utf-8', signedAnswer(method, body, scenario?.kind === 'badSignature'));
  }

  function answerCashier(params: Record<string, string>, response: ServerResponse): void {
    calls.push('alipay.trade.page.pay');
    const errorPage = (fields: Fields) => send(response, 200, 'text/html; charset=utf-8', `<!doctype html><html><body><h1>支付宝 - 错误</h1><p>错误代码 ${String(fields.sub_code)}</p><p>${String(fields.sub_msg)}</p></body></html>`);
    const refusal = checkRequest(params);
    if (refusal) return errorPage(refusal);
    let biz: Fields;
    try {
      biz = JSON.parse(params.biz_content ?? '{}') as Fields;
    } catch {
      return errorPage(failure('isv.invalid-parameter', 'biz_content 不是合法的 JSON', '40002'));
    }
    if (biz.product_code !== 'FAST_INSTANT_TRADE_PAY') return errorPage(failure('ACQ.INVALID_PARAMETER', 'product_code 必须是 FAST_INSTANT_TRADE_PAY'));
    const registered = books.register('PAGE', biz, params.notify_url ?? null);
    if ('error' in registered) return errorPage(registered.error);
    const order = registered.order;
    send(response, 200, 'text/html; charset=utf-8', [
      '<!doctype html><html><head><meta charset="utf-8"><title>支付宝 - 网上支付 安全快速！</title></head><body>',
      `<h1>收银台</h1><p id="out_trade_no">${escapeHtml(order.outTradeNo)}</p><p id="total_amount">${yuan(order.amountMinor)}</p>`,
      `<p id="subject">${escapeHtml(order.subject)}</p><p id="return_url">${escapeHtml(params.return_url ?? '')}</p></body></html>`,
    ].join(''));
  }

  function answerBill(url: URL, response: ServerResponse): void {
    const grant = billTokens.get(url.searchParams.get('token') ?? '');
    if (!grant || grant.expiresAtMs < clock().getTime()) return void send(response, 403, 'text/plain', 'the download link has expired');
    send(response, 200, 'application/oct-stream', Buffer.from(billZip(books, sellerId, grant.date, clock())));
  }

  const server = createServer((incoming, response) => {
    void readBody(incoming).then((body) => {
      if (hangAll) return;
      const url = new URL(incoming.url ?? '/', origin);
      if (url.pathname === '/downloadBillFile.resource' && incoming.method === 'GET') return answerBill(url, response);
      if (url.pathname !== '/gateway.do') return void send(response, 404, 'text/plain', 'not found');
      const params = mergeParams(url.searchParams, incoming.headers['content-type']?.includes('application/x-www-form-urlencoded') ? body : '');
      if (!params) return void send(response, 400, 'text/plain', 'a parameter appears twice');
      if (params.method === 'alipay.trade.page.pay') return answerCashier(params, response);
      if (incoming.method !== 'POST') return void send(response, 405, 'text/plain', 'POST only');
      answerApi(params.method ?? '', params, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function order(outTradeNo: string): Order {
    const found = books.orders.get(outTradeNo);
    if (!found) throw new Error(`no order ${outTradeNo}`);
    return found;
  }

  return {
    gatewayUrl: `${origin}/gateway.do`,
    books,
    deliveries: notifier.deliveries,
    calls,
    next(method, scenario) {
      scenarios.set(method, [...(scenarios.get(method) ?? []), scenario]);
    },
    setHangAll(on) {
      hangAll = on;
    },
    payerOpens(outTradeNo) {
      books.open(outTradeNo);
    },
    payerPays(outTradeNo, payOptions = {}) {
      const settle = () => notifyAbout([{ order: books.pay(outTradeNo) }]);
      if (!payOptions.delayMs) return settle();
      books.open(outTradeNo);
      const timer = setTimeout(() => {
        timers.delete(timer);
        settle();
      }, payOptions.delayMs);
      timers.add(timer);
    },
    setTradeStatus(outTradeNo, status) {
      books.open(outTradeNo).status = status;
    },
    deferRefunds(on) {
      books.deferRefunds = on;
    },
    settleRefund(outTradeNo, outRequestNo) {
      const found = order(outTradeNo);
      const refund = found.refunds.get(outRequestNo);
      if (!refund || refund.status !== 'PROCESSING') throw new Error(`no processing refund ${outRequestNo}`);
      books.finishRefund(found, refund);
      notifyAbout([{ order: found, refund }]);
    },
    deferTransfers(on) {
      books.deferTransfers = on;
    },
    settleTransfer(outBizNo, outcome) {
      const transfer = books.settleTransfer(outBizNo, outcome);
      const content = { msg_method: 'alipay.fund.trans.order.changed', biz_content: JSON.stringify({ ...transferOrderFields(transfer), biz_scene: 'DIRECT_TRANSFER', product_code: 'TRANS_ACCOUNT_NO_PWD' }) };
      if (options.appGatewayUrl) notifier.send(options.appGatewayUrl, content, 'message');
    },
    signNotification(content, notifyId = randomBytes(16).toString('hex')) {
      return notifier.sign(content, notifyId, content.msg_method ? 'message' : 'trade');
    },
    tradeNotificationContent(outTradeNo) {
      return tradeContent(order(outTradeNo));
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await notifier.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => resolve(body));
    incoming.on('error', () => resolve(body));
  });
}

/** Query-string and form parameters together; a name given twice is refused, as Alipay's gateway does. */
function mergeParams(query: URLSearchParams, formBody: string): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (const [key, value] of [...query, ...new URLSearchParams(formBody)]) {
    if (Object.hasOwn(params, key)) return null;
    params[key] = value;
  }
  return params;
}

function send(response: ServerResponse, statusCode: number, contentType: string, body: string | Buffer): void {
  response.writeHead(statusCode, { 'content-type': contentType }).end(body);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
