/**
 * The sandbox bank: a small simulated bank with its own Fastify server, its own Ed25519 key and its own books.
 * Tongbao's sandbox adapter talks to it over real HTTP exactly as it would to a real channel, and the magic
 * amounts in scenarios.ts make it decline, fail, hang or answer late on purpose. docs/sandbox.md has the protocol.
 *
 * Example:
 *   const credentials = generateSandboxCredentials();
 *   const bank = await startSandboxBank({ port: 0, bankPrivateKeyPem: credentials.bankPrivateKeyPem,
 *     merchants: [{ mchId: credentials.mchId, publicKeyPem: credentials.merchantPublicKeyPem }] });
 *   // ... createSandboxAdapter({ baseUrl: bank.url, ... }) ...
 *   await bank.close();
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { agreementRoutes, smsOutboxPath } from './agreement-routes.js';
import { BankAgreements } from './bank-agreements.js';
import { BankLedger, type Settlement } from './bank-ledger.js';
import { paymentObject, preauthOperationObject, refundObject } from './bank-records.js';
import { CallbackSender } from './callbacks.js';
import { payoutRoutes } from './payout-routes.js';
import { preauthRoutes } from './preauth-routes.js';
import {
  bankErrors,
  CloseAnswer,
  ErrorAnswer,
  isFresh,
  OutRefundNoParams,
  OutTradeNoParams,
  PaymentObject,
  PaymentRequestBody,
  readSignatureHeaders,
  RefundObject,
  RefundRequestBody,
  sandboxHeaders,
  signedHeaders,
  StatementParams,
  stringToSign,
  verifyMessage,
  type BankErrorCode,
} from './protocol.js';
import { NonceWindow } from './replay.js';
import { paymentScenario, refundScenario } from './scenarios.js';

export interface SandboxBankOptions {
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port; read it back from `SandboxBank.port`. */
  readonly port: number;
  /** When given, every change is journaled to `<dataDir>/journal.jsonl` and replayed at start. */
  readonly dataDir?: string;
  readonly bankPrivateKeyPem: string;
  readonly merchants: ReadonlyArray<{ readonly mchId: string; readonly publicKeyPem: string }>;
  /** How long delayed outcomes (6001, 6002, 6003, refund 6001, preauth 6001-6003, 7001 and 7003) take; defaults to 2000 ms. */
  readonly callbackDelayMs?: number;
  /** Waits before each callback retry; defaults to 1 s, 3 s, 10 s. */
  readonly callbackRetryDelaysMs?: readonly number[];
  /** Payments, refunds, closed numbers, holds and pre-authorization operations the bank holds at most; defaults to one million. */
  readonly maxRecords?: number;
  /** How long a verification code the bank texts for an agreement stays valid; defaults to 5 minutes. */
  readonly smsCodeTtlMs?: number;
  /** Fastify's and the callback sender's logger; the bank logs nothing without one. */
  readonly logger?: Logger;
}

export interface SandboxBank {
  /** The base URL to give the adapter, such as http://127.0.0.1:8081. */
  readonly url: string;
  readonly port: number;
  /** Ends hanging requests, stops timers and callbacks, and closes the server. */
  close(): Promise<void>;
  /** While on, every request hangs unanswered: a channel outage, for isolation tests. */
  setHangAll(on: boolean): void;
  registerMerchant(mchId: string, publicKeyPem: string): void;
}

const defaults = {
  host: '127.0.0.1',
  callbackDelayMs: 2000,
  callbackRetryDelaysMs: [1000, 3000, 10_000],
  callbackAttemptTimeoutMs: 5000,
  maxOutstandingCallbacks: 10_000,
  maxRecords: 1_000_000,
  smsCodeTtlMs: 5 * 60 * 1000,
  bodyLimitBytes: 64 * 1024,
} as const;

export async function startSandboxBank(options: SandboxBankOptions): Promise<SandboxBank> {
  const bankPrivateKey = createPrivateKey(options.bankPrivateKeyPem);
  if (bankPrivateKey.asymmetricKeyType !== 'ed25519') throw new Error('the sandbox bank key must be an Ed25519 private key');
  const merchantKeys = new Map<string, KeyObject>();
  const registerMerchant = (mchId: string, publicKeyPem: string): void => {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`merchant ${mchId}: the key must be an Ed25519 public key`);
    merchantKeys.set(mchId, key);
  };
  for (const merchant of options.merchants) registerMerchant(merchant.mchId, merchant.publicKeyPem);

  const callbacks = new CallbackSender({
    bankPrivateKey,
    retryDelaysMs: options.callbackRetryDelaysMs ?? defaults.callbackRetryDelaysMs,
    attemptTimeoutMs: defaults.callbackAttemptTimeoutMs,
    maxOutstanding: defaults.maxOutstandingCallbacks,
    logger: options.logger,
  });
  const sendCallback = (settlement: Settlement): void => {
    const { record } = settlement;
    callbacks.send({ mchId: record.mchId, notifyUrl: record.notifyUrl, ...callbackOf(settlement) });
  };
  const ledger = BankLedger.open({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    delayMs: options.callbackDelayMs ?? defaults.callbackDelayMs,
    maxRecords: options.maxRecords ?? defaults.maxRecords,
    onSettled: sendCallback,
  });

  const agreements = BankAgreements.open({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    codeTtlMs: options.smsCodeTtlMs ?? defaults.smsCodeTtlMs,
    maxRecords: options.maxRecords ?? defaults.maxRecords,
  });

  // Delayed outcomes are applied by timers (and, should a timer run late, by the next read of the record).
  const settlementTimers = new Set<NodeJS.Timeout>();
  const scheduleSettlement = (kind: Settlement['kind'], mchId: string, outNo: string, settleAt: string): void => {
    const settleAtMs = Date.parse(settleAt);
    const timer = setTimeout(() => {
      settlementTimers.delete(timer);
      ledger.settle(kind, mchId, outNo, Math.max(Date.now(), settleAtMs));
    }, Math.max(0, settleAtMs - Date.now()));
    settlementTimers.add(timer);
  };
  for (const pending of ledger.pendingSettlements()) {
    scheduleSettlement(pending.kind, pending.mchId, pending.outNo, new Date(pending.settleAtMs).toISOString());
  }

  // Hanging requests are hijacked and never answered; their sockets are kept so close() can end them.
  let hangAll = false;
  const hungSockets = new Set<Socket>();
  const hang = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack();
    const socket = request.raw.socket;
    hungSockets.add(socket);
    socket.once('close', () => hungSockets.delete(socket));
  };

  const nonces = new NonceWindow();
  const rawBodies = new WeakMap<IncomingMessage, string>();
  const authenticate = (request: FastifyRequest): BankErrorCode | null => {
    const reading = readSignatureHeaders(request.headers);
    if (!reading.ok) return 'MISSING_SIGNATURE';
    const { mchId, timestamp, timestampMs, nonce, signature } = reading.value;
    const key = merchantKeys.get(mchId);
    if (!key) return 'UNKNOWN_MERCHANT';
    const nowMs = Date.now();
    if (!isFresh(timestampMs, nowMs)) return 'STALE_REQUEST';
    const message = stringToSign({ timestamp, nonce, method: request.method, path: request.url, body: rawBodies.get(request.raw) ?? '' });
    if (!verifyMessage(message, signature, key)) return 'INVALID_SIGNATURE';
    if (!nonces.use(`${mchId}:${nonce}`, nowMs)) return 'REPLAYED_NONCE';
    return null;
  };
  // Only called after authenticate() accepted the request, so the header is present and verified.
  const merchantOf = (request: FastifyRequest): string => readSignatureHeaders(request.headers).ok ? String(request.headers[sandboxHeaders.mchId.toLowerCase()]) : '';

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : {}),
    forceCloseConnections: true,
    bodyLimit: defaults.bodyLimitBytes,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The signature covers the body exactly as sent, so the bank keeps the raw text beside the parsed JSON.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    rawBodies.set(request.raw, text);
    try {
      done(null, text === '' ? {} : JSON.parse(text));
    } catch {
      done(Object.assign(new Error('the body is not JSON'), { statusCode: 400 }), undefined);
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    if (hangAll) return hang(request, reply);
    done();
  });
  app.addHook('preValidation', async (request, reply) => {
    // The sandbox's stand-in for the payer's phone is read by people and tests, not by a merchant.
    if (request.method === 'GET' && request.url.startsWith(smsOutboxPath)) return;
    const rejection = authenticate(request);
    if (rejection) return reply.code(bankErrors[rejection].httpStatus).send(errorBody(rejection));
  });
  // Every answer, errors included, is signed over the path that was called.
  app.addHook('onSend', async (request, reply, payload) => {
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : null;
    if (body === null) throw new Error('the sandbox bank answers only with text it can sign');
    const echoedMchId = merchantOf(request);
    reply.headers(signedHeaders({ mchId: echoedMchId, method: request.method, path: request.url, body, privateKey: bankPrivateKey, nowMs: Date.now(), nonce: randomBytes(16).toString('hex') }));
    return body;
  });
  app.setErrorHandler<FastifyError>((error, request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (error.validation || (statusCode >= 400 && statusCode < 500)) return reply.code(400).send(errorBody('INVALID_REQUEST', error.message));
    request.log.error({ err: error }, 'sandbox bank: unexpected error');
    return reply.code(500).send(errorBody('INTERNAL_ERROR'));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('NO_SUCH_ENDPOINT')));

  const errors = { '4xx': ErrorAnswer, '5xx': ErrorAnswer };

  app.post('/v1/payments', { schema: { body: PaymentRequestBody, response: { 200: PaymentObject, ...errors } } }, async (request, reply) => {
    const body = request.body;
    if (Number.isNaN(Date.parse(body.expire_at)) || !URL.canParse(body.notify_url)) {
      return reply.code(400).send(errorBody('INVALID_REQUEST', 'expire_at or notify_url is not valid'));
    }
    const mchId = merchantOf(request);
    if (body.agreement_no !== undefined && !agreements.isActive(mchId, body.agreement_no)) {
      return reply.code(409).send(errorBody('AGREEMENT_NOT_ACTIVE', `agreement ${body.agreement_no} is not signed for this merchant`));
    }
    const scenario = paymentScenario(BigInt(body.amount));
    if (scenario.kind === 'server-error') return reply.code(500).send(errorBody('INTERNAL_ERROR', 'simulated failure (amount 5003); nothing was recorded'));
    const outcome = ledger.createPayment(mchId, body, scenario, Date.now());
    switch (outcome.kind) {
      case 'conflict':
        return reply.code(409).send(errorBody('DUPLICATE_OUT_TRADE_NO'));
      case 'closed-unpaid':
        return reply.code(409).send(errorBody('OUT_TRADE_NO_CLOSED'));
      case 'full':
        return reply.code(503).send(errorBody('CAPACITY_EXCEEDED'));
      case 'existing':
        return paymentObject(outcome.payment);
      case 'created': {
        const { payment } = outcome;
        if (payment.pending) scheduleSettlement('payment', mchId, payment.outTradeNo, payment.pending.settleAt);
        if (scenario.kind === 'hang') {
          hang(request, reply);
          return reply;
        }
        return paymentObject(payment);
      }
    }
  });

  app.get('/v1/payments/:out_trade_no', { schema: { params: OutTradeNoParams, response: { 200: PaymentObject, ...errors } } }, async (request, reply) => {
    const payment = ledger.findPayment(merchantOf(request), request.params.out_trade_no, Date.now());
    return payment ? paymentObject(payment) : reply.code(404).send(errorBody('NOT_FOUND'));
  });

  app.post('/v1/payments/:out_trade_no/close', { schema: { params: OutTradeNoParams, response: { 200: CloseAnswer, ...errors } } }, async (request, reply) => {
    const outTradeNo = request.params.out_trade_no;
    const status = ledger.closePayment(merchantOf(request), outTradeNo, Date.now());
    if (status === 'full') return reply.code(503).send(errorBody('CAPACITY_EXCEEDED'));
    return { out_trade_no: outTradeNo, status };
  });

  app.post('/v1/refunds', { schema: { body: RefundRequestBody, response: { 200: RefundObject, ...errors } } }, async (request, reply) => {
    const body = request.body;
    if (!URL.canParse(body.notify_url)) return reply.code(400).send(errorBody('INVALID_REQUEST', 'notify_url is not valid'));
    const mchId = merchantOf(request);
    const outcome = ledger.createRefund(mchId, body, refundScenario(BigInt(body.amount)), Date.now());
    switch (outcome.kind) {
      case 'conflict':
        return reply.code(409).send(errorBody('DUPLICATE_OUT_REFUND_NO'));
      case 'full':
        return reply.code(503).send(errorBody('CAPACITY_EXCEEDED'));
      case 'existing':
        return refundObject(outcome.refund);
      case 'created': {
        const { refund } = outcome;
        if (refund.pending) scheduleSettlement('refund', mchId, refund.outRefundNo, refund.pending.settleAt);
        return refundObject(refund);
      }
    }
  });

  app.get('/v1/refunds/:out_refund_no', { schema: { params: OutRefundNoParams, response: { 200: RefundObject, ...errors } } }, async (request, reply) => {
    const refund = ledger.findRefund(merchantOf(request), request.params.out_refund_no, Date.now());
    return refund ? refundObject(refund) : reply.code(404).send(errorBody('NOT_FOUND'));
  });

  await app.register(preauthRoutes, { ledger, merchantOf, hang, scheduleSettlement, errorBody });
  await app.register(payoutRoutes, { ledger, merchantOf, hang, errorBody });
  await app.register(agreementRoutes, { agreements, merchantOf, errorBody });

  // Fastify sends a string with a non-JSON content type as it is, so the CSV is not JSON-encoded.
  app.get('/v1/statements/:date', { schema: { params: StatementParams, response: { 200: Type.String(), ...errors } } }, async (request, reply) => {
    const date = request.params.date;
    if (new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) return reply.code(400).send(errorBody('INVALID_REQUEST', `${date} is not a calendar date`));
    return reply.type('text/csv; charset=utf-8').send(ledger.statementCsv(merchantOf(request), date, Date.now()));
  });

  const host = options.host ?? defaults.host;
  await app.listen({ host, port: options.port });
  const port = (app.server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    setHangAll(on: boolean) {
      hangAll = on;
    },
    registerMerchant,
    close() {
      closing ??= (async () => {
        for (const socket of hungSockets) socket.destroy();
        hungSockets.clear();
        for (const timer of settlementTimers) clearTimeout(timer);
        settlementTimers.clear();
        await callbacks.close();
        await app.close();
      })();
      return closing;
    },
  };
}

/** The callback body of a settled record (`{ event, ...the object a query answers with }`) and its out number. */
function callbackOf(settlement: Settlement): { body: Record<string, unknown>; outNo: string } {
  switch (settlement.kind) {
    case 'payment':
      return { body: { event: 'payment', ...paymentObject(settlement.record) }, outNo: settlement.record.outTradeNo };
    case 'refund':
      return { body: { event: 'refund', ...refundObject(settlement.record) }, outNo: settlement.record.outRefundNo };
    case 'preauth':
      return { body: { event: 'preauth', ...preauthOperationObject(settlement.record) }, outNo: settlement.record.outOperationNo };
  }
}

function errorBody(code: BankErrorCode, message?: string): ErrorAnswer {
  return { code, message: message ?? bankErrors[code].message };
}

/** The host to put in the bank's URL: a wildcard address is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
