/**
 * The benchmark's load generator, run as a child process of bench/payments.ts so that signing requests and
 * parsing answers do not share an event loop with the Tongbao server it measures. It also plays the merchant's
 * notification endpoint (a sink answering "success"), so notifications are enqueued and delivered during the run.
 *
 * Each of N virtual clients loops: build a tongbao.trade.pay request that creates and pays a new order, sign it
 * now (RSA2 with the demo app's key, live timestamp), send it over a keep-alive undici pool, and check the answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { paymentMagicAmounts } from '../src/channels/sandbox/index.js';
import { rsaSign, signContent } from '../src/shared/crypto.js';
import { formatWallClock } from '../src/shared/time.js';
import type { FromLoadGenerator, LatencySummary, LoadPlan, LoadResult, ToLoadGenerator } from './messages.js';

const maxDistinctErrors = 10;
const requestTimeoutMs = 30_000;
const magicAmountsMinor = new Set(paymentMagicAmounts.map((magic) => Number(magic.amountMinor)));

function send(message: FromLoadGenerator, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}

/** Amounts from 1.00 to 999.99, spread out, never one of the sandbox's magic amounts (those decline or hang). */
export function benchAmount(sequence: number): string {
  let minor = 100 + ((sequence * 7919) % 99_900);
  while (magicAmountsMinor.has(minor)) minor += 1;
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

/** The wall-clock text changes once a second, so it is formatted once per second, always for the current second. */
function liveTimestamp(zone: string): () => string {
  let second = -1;
  let text = '';
  return () => {
    const current = Math.floor(Date.now() / 1000);
    if (current !== second) {
      second = current;
      text = formatWallClock(new Date(current * 1000), zone);
    }
    return text;
  };
}

export function summarizeLatencies(samplesMs: number[]): LatencySummary {
  if (samplesMs.length === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 };
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]!;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    count: sorted.length,
    meanMs: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
    p50Ms: round(at(0.5)),
    p90Ms: round(at(0.9)),
    p99Ms: round(at(0.99)),
    maxMs: round(sorted[sorted.length - 1]!),
  };
}

/** What is wrong with one gateway answer, or null when it is a successful payment of this order. */
function checkAnswer(statusCode: number, text: string, outTradeNo: string): string | null {
  if (statusCode !== 200) return `HTTP ${statusCode}`;
  let parsed: { tongbao_trade_pay_response?: Record<string, unknown>; error_response?: Record<string, unknown> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return 'the answer is not JSON';
  }
  const body = parsed.tongbao_trade_pay_response ?? parsed.error_response;
  if (!body) return 'the answer has no tongbao_trade_pay_response';
  if (body.code !== '10000') return `code ${String(body.code)} ${String(body.sub_code ?? '')} ${String(body.sub_msg ?? '').slice(0, 120)}`.trim();
  if (body.trade_status !== 'TRADE_SUCCESS') return `trade_status ${String(body.trade_status)}`;
  if (body.out_trade_no !== outTradeNo) return 'the answer is for another order';
  return null;
}

async function runLoad(plan: LoadPlan, notifyUrl: string): Promise<LoadResult> {
  const gateway = new URL(plan.gatewayUrl);
  const pool = new Pool(gateway.origin, { connections: plan.clients, pipelining: 1, keepAliveTimeout: 60_000 });
  const timestamp = liveTimestamp(plan.timeZone);
  type Phase = 'warmup' | 'measure' | 'drain';
  let phase: Phase = 'warmup';
  let windowStartMs = 0;
  let windowEndMs = 0;
  let cpuAtStart = process.cpuUsage();
  let cpuMs = 0;
  let loopAtStart = performance.eventLoopUtilization();
  let eventLoopUtilization = 0;
  const latenciesMs: number[] = [];
  const perSecond: number[] = [];
  const errors = new Map<string, number>();
  let requestsTotal = 0;
  let errorsTotal = 0;
  let errorsInWindow = 0;
  let sequence = 0;

  const recordError = (description: string) => {
    errorsTotal += 1;
    if (phase === 'measure') errorsInWindow += 1;
    if (errors.has(description) || errors.size < maxDistinctErrors) errors.set(description, (errors.get(description) ?? 0) + 1);
  };

  async function payOnce(client: number): Promise<void> {
    sequence += 1;
    const outTradeNo = `b${plan.runId}-${client}-${sequence}`;
    const params: Record<string, string> = {
      app_id: plan.appId,
      method: 'tongbao.trade.pay',
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: timestamp(),
      version: '1.0',
      notify_url: notifyUrl,
      biz_content: JSON.stringify({ out_trade_no: outTradeNo, total_amount: benchAmount(sequence), subject: 'bench order', channel: 'sandbox' }),
    };
    params.sign = rsaSign(signContent(params), plan.appPrivateKeyPem);
    const body = new URLSearchParams(params).toString();
    const startedMs = performance.now();
    requestsTotal += 1;
    try {
      const response = await pool.request({
        path: gateway.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body,
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
      });
      const text = await response.body.text();
      const finishedMs = performance.now();
      const problem = checkAnswer(response.statusCode, text, outTradeNo);
      if (problem) return recordError(problem);
      if (phase !== 'measure') return;
      latenciesMs.push(finishedMs - startedMs);
      const second = Math.floor((finishedMs - windowStartMs) / 1000);
      perSecond[second] = (perSecond[second] ?? 0) + 1;
    } catch (error) {
      const code = (error as { code?: string }).code;
      recordError(`${code ?? (error as Error).name}: ${(error as Error).message.slice(0, 120)}`);
    }
  }

  async function virtualClient(client: number): Promise<void> {
    while (phase !== 'drain') await payOnce(client);
  }

  const measureTimer = setTimeout(() => {
    phase = 'measure';
    windowStartMs = performance.now();
    cpuAtStart = process.cpuUsage();
    loopAtStart = performance.eventLoopUtilization();
    send({ type: 'measuring' });
  }, plan.warmupSeconds * 1000);
  const drainTimer = setTimeout(() => {
    phase = 'drain';
    windowEndMs = performance.now();
    const cpu = process.cpuUsage(cpuAtStart);
    cpuMs = (cpu.user + cpu.system) / 1000;
    eventLoopUtilization = performance.eventLoopUtilization(loopAtStart).utilization;
    send({ type: 'draining' });
  }, (plan.warmupSeconds + plan.measureSeconds) * 1000);

  try {
    await Promise.all(Array.from({ length: plan.clients }, (_, client) => virtualClient(client)));
  } finally {
    clearTimeout(measureTimer);
    clearTimeout(drainTimer);
    await pool.close();
  }
  const windowSeconds = (windowEndMs - windowStartMs) / 1000;
  return {
    paymentsInWindow: latenciesMs.length,
    windowSeconds,
    latency: summarizeLatencies(latenciesMs),
    requestsTotal,
    errorsTotal,
    errorsInWindow,
    errorSamples: [...errors].map(([description, count]) => ({ description, count })),
    perSecond: Array.from({ length: Math.max(1, Math.round(windowSeconds)) }, (_, second) => perSecond[second] ?? 0),
    cpuMs: Math.round(cpuMs),
    eventLoopUtilization: Math.round(eventLoopUtilization * 1000) / 1000,
  };
}

/** The merchant's notification endpoint: reads each notification and acknowledges it with "success". */
function startSink(onNotification: () => void): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      onNotification();
      response.writeHead(200, { 'content-type': 'text/plain' }).end('success');
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<void> {
  let notificationsReceived = 0;
  const sink = await startSink(() => { notificationsReceived += 1; });
  const { port } = sink.address() as AddressInfo;
  const notifyUrl = `http://127.0.0.1:${port}/notify`;
  process.on('message', (message: ToLoadGenerator) => {
    if (message.type === 'run') {
      runLoad(message.plan, notifyUrl).then(
        (result) => send({ type: 'result', result }),
        (error: unknown) => send({ type: 'failed', message: (error as Error).stack ?? String(error) }),
      );
    } else if (message.type === 'finish') {
      sink.closeAllConnections();
      sink.close(() => {
        send({ type: 'finished', notificationsReceived }, () => process.disconnect());
      });
    }
  });
  // The parent's death must not leave this process running.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'sink-ready', notifyUrl });
}

if (process.send) {
  main().catch((error: unknown) => {
    send({ type: 'failed', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  });
}
