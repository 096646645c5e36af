/**
 * A local Stripe: a real node:http server on 127.0.0.1 speaking the subset of Stripe's REST API that Tongbao
 * uses (form-encoded bodies, Bearer secret-key authentication, Idempotency-Key replay, Stripe's error bodies
 * and HTTP statuses), holding one test account in memory and sending signed webhooks. The secret key is
 * generated at start. Scenario controls make it hang, answer 5xx, alter an answer, settle later, lag its
 * search index, or fail refunds; the magic test PaymentMethods (pm_card_visa, pm_card_chargeDeclined, ...)
 * behave as in Stripe's test mode. docs/channels/stripe.md lists them.
 *
 * Example:
 *   const stripe = await startStripeSimulator();
 *   const adapter = createStripeAdapter({ secretKey: stripe.secretKey, webhookSecret, apiBaseUrl: stripe.url, timeoutMs: 500 });
 *   stripe.addWebhookEndpoint(receiverUrl, webhookSecret);
 *   await stripe.close();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StripeAccount } from './account.js';
import { decodeForm, type FormObject } from './form.js';
import { apiVersion, invalidRequest, newId, stripeError, type ApiResult, type EventRecord, type IntentRecord } from './objects.js';
import { WebhookSender, type Delivery, type WebhookEndpoint } from './webhooks.js';

export interface StripeSimulatorOptions {
  /** Generated when absent. */
  readonly secretKey?: string;
  /** Waits before each webhook retry; no retries when empty (the default). */
  readonly webhookRetryDelaysMs?: readonly number[];
  /** How long a refund of a pm_card_refundFail charge stays succeeded before failing; defaults to 200 ms. */
  readonly refundFailDelayMs?: number;
}

/** Which requests a scenario applies to: a method and a path prefix or pattern. */
export interface RequestMatch {
  readonly method?: 'GET' | 'POST';
  readonly path?: string | RegExp;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly authorized: boolean;
  readonly params: FormObject;
}

interface Scenario {
  readonly match: RequestMatch;
  /** When true the request takes effect before the simulator hangs or fails it. */
  readonly afterProcessing: boolean;
  readonly action: { kind: 'hang' } | { kind: 'fail'; status: number } | { kind: 'alter'; alter: (body: unknown) => unknown };
  remaining: number;
}

const maxBodyBytes = 1024 * 1024;

export interface StripeSimulator {
  readonly url: string;
  readonly port: number;
  readonly secretKey: string;
  readonly account: StripeAccount;
  readonly requests: readonly RecordedRequest[];
  readonly events: readonly EventRecord[];
  readonly deliveries: readonly Delivery[];
  addWebhookEndpoint(url: string, secret: string, enabledEvents?: readonly string[]): void;
  /** Sends an event already emitted to an endpoint again, signed afresh (Stripe's "resend"). */
  resendEvent(eventId: string, url: string): void;
  /** The next `count` matching requests are never answered; with afterProcessing they still take effect. */
  hangNext(options?: RequestMatch & { count?: number; afterProcessing?: boolean }): void;
  /** The next `count` matching requests are answered `status` (500 by default) with an api_error. */
  failNext(options?: RequestMatch & { count?: number; status?: number; afterProcessing?: boolean }): void;
  /** The next matching successful answer's JSON body is replaced by what `alter` returns (the books keep the truth). */
  alterNextAnswer(alter: (body: unknown) => unknown, options?: RequestMatch): void;
  /** While on, every request hangs unanswered: an outage. */
  setHangAll(on: boolean): void;
  intent(id: string): IntentRecord | undefined;
  /** The PaymentIntent carrying a metadata value, such as Tongbao's attempt number. */
  intentByMetadata(key: string, value: string): IntentRecord | undefined;
  close(): Promise<void>;
}

function matches(match: RequestMatch, method: string, path: string): boolean {
  if (match.method && match.method !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? path.startsWith(match.path) : match.path.test(path);
}

export async function startStripeSimulator(options: StripeSimulatorOptions = {}): Promise<StripeSimulator> {
  const secretKey = options.secretKey ?? `sk_test_${randomBytes(24).toString('hex')}`;
  const events: EventRecord[] = [];
  const requests: RecordedRequest[] = [];
  const scenarios: Scenario[] = [];
  const sender = new WebhookSender(options.webhookRetryDelaysMs ?? []);
  let url = '';
  let hangAll = false;
  const account = new StripeAccount({
    baseUrl: () => url,
    refundFailDelayMs: options.refundFailDelayMs ?? 200,
    emit: (event) => {
      events.push(event);
      sender.send(event);
    },
  });
  /** Idempotency-Key → the stored answer, per secret key, as Stripe keeps them for 24 hours. */
  const remembered = new Map<string, { method: string; path: string; params: string; result: ApiResult }>();
  const inFlight = new Set<string>();

  function takeScenario(method: string, path: string, afterProcessing: boolean, kinds: readonly string[]): Scenario | undefined {
    const scenario = scenarios.find((candidate) => candidate.remaining > 0 && candidate.afterProcessing === afterProcessing && kinds.includes(candidate.action.kind) && matches(candidate.match, method, path));
    if (scenario) scenario.remaining -= 1;
    return scenario;
  }

  function route(method: string, path: string, params: FormObject): ApiResult {
    const parts = path.split('/').slice(1);
    const [version, resource, id, verb] = parts;
    if (version === 'v1' && parts.length <= 4) {
      if (resource === 'payment_intents') {
        if (method === 'POST' && id === undefined) return account.createIntent(params);
        if (method === 'GET' && id === undefined) return account.listIntents(params, path);
        if (method === 'GET' && id === 'search' && verb === undefined) return account.searchIntents(params, path);
        if (method === 'GET' && id && verb === undefined) return account.retrieveIntent(id);
        if (method === 'POST' && id && verb === undefined) return account.updateIntent(id, params);
        if (method === 'POST' && id && verb === 'cancel') return account.cancelIntent(id, params);
        if (method === 'POST' && id && verb === 'capture') return account.captureIntent(id, params);
      }
      if (resource === 'refunds' && verb === undefined) {
        if (method === 'POST' && id === undefined) return account.createRefund(params);
        if (method === 'GET' && id === undefined) return account.listRefunds(params, path);
        if (method === 'GET' && id) return account.retrieveRefund(id);
      }
      if (resource === 'balance_transactions' && method === 'GET' && id === undefined) return account.listBalanceTransactions(params, path);
    }
    return stripeError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` }, false);
  }

  function authorize(incoming: IncomingMessage): ApiResult | null {
    const header = incoming.headers.authorization;
    if (!header) return stripeError(401, { type: 'invalid_request_error', message: 'You did not provide an API key.' }, false);
    const key = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (key === secretKey) return null;
    return stripeError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}` }, false);
  }

  /** Runs the call under its idempotency key: a repeat replays the stored answer, a changed repeat is refused. */
  function idempotent(method: string, path: string, params: FormObject, key: string | undefined): { result: ApiResult; replayed: boolean } {
    if (method !== 'POST' || key === undefined) return { result: route(method, path, params), replayed: false };
    const canonical = JSON.stringify(params);
    const stored = remembered.get(key);
    if (stored) {
      if (stored.method === method && stored.path === path && stored.params === canonical) return { result: stored.result, replayed: true };
      return {
        result: stripeError(400, { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.` }, false),
        replayed: false,
      };
    }
    if (inFlight.has(key)) {
      return { result: stripeError(409, { type: 'invalid_request_error', code: 'idempotency_key_in_use', message: 'There is currently another in-progress request using this Idempotent Key.' }, false), replayed: false };
    }
    inFlight.add(key);
    try {
      const result = route(method, path, params);
      if (result.remember !== false) remembered.set(key, { method, path, params: canonical, result });
      return { result, replayed: false };
    } finally {
      inFlight.delete(key);
    }
  }

  function answer(outgoing: ServerResponse, result: ApiResult, headers: Record<string, string> = {}): void {
    outgoing.writeHead(result.status, { 'content-type': 'application/json', 'request-id': newId('req'), 'stripe-version': apiVersion, ...headers });
    outgoing.end(JSON.stringify(result.body, null, 2));
  }

  function handle(incoming: IncomingMessage, outgoing: ServerResponse, body: string): void {
    const target = new URL(incoming.url ?? '/', 'http://simulator');
    const method = incoming.method ?? 'GET';
    const path = target.pathname;
    if (hangAll) return;
    if (method === 'GET' && path.startsWith('/3ds/')) {
      outgoing.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>3-D Secure test page</body></html>');
      return;
    }
    const refusal = authorize(incoming);
    const form = decodeForm(method === 'POST' ? body : target.search.slice(1));
    const idempotencyKey = typeof incoming.headers['idempotency-key'] === 'string' ? incoming.headers['idempotency-key'] : undefined;
    requests.push({ method, path, idempotencyKey, authorized: refusal === null, params: form.ok ? form.params : {} });
    if (refusal) return answer(outgoing, refusal);
    if (!form.ok) return answer(outgoing, invalidRequest(`Invalid request: unparsable key ${form.key}`));
    const before = takeScenario(method, path, false, ['hang', 'fail']);
    if (before?.action.kind === 'hang') return;
    if (before?.action.kind === 'fail') return answer(outgoing, stripeError(before.action.status, { type: 'api_error', message: 'An unknown error occurred' }));
    const { result, replayed } = idempotent(method, path, form.params, idempotencyKey);
    const after = takeScenario(method, path, true, ['hang', 'fail']);
    if (after?.action.kind === 'hang') return;
    if (after?.action.kind === 'fail') return answer(outgoing, stripeError(after.action.status, { type: 'api_error', message: 'An unknown error occurred' }));
    const alter = result.status === 200 ? takeScenario(method, path, false, ['alter']) : undefined;
    const shown = alter?.action.kind === 'alter' ? { ...result, body: alter.action.alter(structuredClone(result.body)) } : result;
    answer(outgoing, shown, {
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
    });
  }

  const server = createServer((incoming, outgoing) => {
    let body = '';
    let size = 0;
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => {
      size += Buffer.byteLength(chunk);
      if (size <= maxBodyBytes) body += chunk;
    });
    incoming.on('end', () => {
      if (size > maxBodyBytes) return answer(outgoing, invalidRequest('Request body too large'));
      try {
        handle(incoming, outgoing, body);
      } catch (error) {
        answer(outgoing, stripeError(500, { type: 'api_error', message: `simulator failure: ${(error as Error).message}` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;

  const addScenario = (match: RequestMatch, count: number | undefined, afterProcessing: boolean | undefined, action: Scenario['action']) => {
    scenarios.push({ match: { ...(match.method ? { method: match.method } : {}), ...(match.path ? { path: match.path } : {}) }, afterProcessing: afterProcessing ?? false, action, remaining: count ?? 1 });
  };

  return {
    url,
    port,
    secretKey,
    account,
    requests,
    events,
    deliveries: sender.deliveries,
    addWebhookEndpoint(endpointUrl, secret, enabledEvents = ['*']) {
      sender.endpoints.push({ url: endpointUrl, secret, enabledEvents } satisfies WebhookEndpoint);
    },
    resendEvent(eventId, endpointUrl) {
      const event = events.find((candidate) => candidate.id === eventId);
      const endpoint = sender.endpoints.find((candidate) => candidate.url === endpointUrl);
      if (!event || !endpoint) throw new Error(`no event ${eventId} or endpoint ${endpointUrl}`);
      sender.resend(event, endpoint);
    },
    hangNext: (scenario = {}) => addScenario(scenario, scenario.count, scenario.afterProcessing, { kind: 'hang' }),
    failNext: (scenario = {}) => addScenario(scenario, scenario.count, scenario.afterProcessing, { kind: 'fail', status: scenario.status ?? 500 }),
    alterNextAnswer: (alter, match = {}) => addScenario(match, 1, false, { kind: 'alter', alter }),
    setHangAll(on) {
      hangAll = on;
    },
    intent: (id) => account.intents.get(id),
    intentByMetadata: (key, value) => [...account.intents.values()].find((intent) => intent.metadata[key] === value),
    async close() {
      account.close();
      sender.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export { stripeSignatureHeader } from './webhooks.js';
