import { addSeconds, now } from '../clock.js';
import type { ChannelAdapter, ChannelPayResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { isUniqueViolation, withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvents, type EventRecord } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { closeLockedTrade } from './close.js';
import { planRoute, reserveDailyLimit, type RoutedChannel } from '../routing/router.js';
import { isLocalChannel, payByAccount, type LocalPayerInput } from '../localpay/index.js';
import type { RouteRequest } from '../routing/rank.js';
import { createTrade, tradeAmount, tradeCurrency, type CreateTradeInput } from './create.js';
import { jobKeys } from './job-keys.js';
import { recordPayOutcome } from './outcomes.js';
import * as repository from './repository.js';
import type { AttemptRow, TradeRow } from './repository.js';

/** How the payer pays at the channel: passed to the adapter as they are, never stored. */
export interface PayerInput {
  product?: string | undefined;
  payer_type?: string | undefined;
  payer_id?: string | undefined;
}

/**
 * A payer another domain resolved (a signed agreement): who pays at the channel, through which channel, and a
 * check of the trade that runs before any attempt is written, so a trade the payer may not pay is refused with
 * nothing changed.
 */
export interface ResolvedPayer {
  readonly channel: string;
  readonly payer: { readonly type: string; readonly id: string };
  checkTrade(trade: TradeRow): void;
}

export interface PayInput extends Partial<CreateTradeInput>, PayerInput, LocalPayerInput {
  trade_no?: string | undefined;
  /** Absent: the router chooses among the channels that can take the payment, and fails over. */
  channel?: string | undefined;
  /** The payer's own choice, which the router favours among channels that can serve the payment. */
  preferred_channel?: string | undefined;
  resolvedPayer?: ResolvedPayer | undefined;
}

/** A recharge (充值): the trade tops up a user account instead of paying the merchant. */
export interface RechargeTarget {
  readonly accountNo: string;
  /** What the account receives: minor units of money (WALLET) or coins (COIN). */
  readonly units: bigint;
}

export interface PayOutcome {
  trade: TradeRow;
  attempt: AttemptRow | null;
  /** What the channel answered this time; null when the trade was already paid and nothing was sent. */
  result: ChannelPayResult | null;
}

export function channelNotifyUrl(context: Context, channel: string): string {
  return `${context.urls.publicUrl}/channels/${channel}/notify`;
}

function requireCreateFields(input: PayInput): CreateTradeInput {
  if (input.out_trade_no === undefined) fail(errors.missingParameter, 'out_trade_no is required to create and pay in one call');
  if (input.total_amount === undefined) fail(errors.missingParameter, 'total_amount is required to create and pay in one call');
  if (input.subject === undefined) fail(errors.missingParameter, 'subject is required to create and pay in one call');
  return input as CreateTradeInput;
}

/** The payment as the router sees it, worked out before anything is written; `existing` when paying a known trade. */
interface PayTarget {
  readonly existing: TradeRow | null;
  readonly request: RouteRequest;
}

type RouteFields = Pick<PayInput, 'total_amount' | 'currency' | 'trade_type' | 'product' | 'preferred_channel'>;

function payerRouteFields(input: RouteFields) {
  return {
    needsPreauth: false,
    ...(input.product === undefined ? {} : { product: input.product }),
    ...(input.preferred_channel === undefined ? {} : { preferredChannel: input.preferred_channel }),
  };
}

/** A payment of an order still to be created, as the router sees it; the amount is checked as create checks it. */
export function newPaymentRequest(app: GatewayAppRow, input: RouteFields & { total_amount: string | number }): RouteRequest {
  const currency = tradeCurrency(input.currency);
  return { ...payerRouteFields(input), amountMinor: tradeAmount(app, input.total_amount, currency), currency, tradeType: input.trade_type ?? 'INSTANT' };
}

/** A payment of an existing order, as the router sees it. */
export function existingPaymentRequest(trade: TradeRow, input: RouteFields): RouteRequest {
  return { ...payerRouteFields(input), amountMinor: trade.total_amount_minor, currency: trade.currency, tradeType: trade.trade_type };
}

async function payTarget(context: Context, app: GatewayAppRow, input: PayInput): Promise<PayTarget> {
  if (input.trade_no === undefined && input.out_trade_no === undefined) fail(errors.missingParameter, 'out_trade_no or trade_no is required');
  const wantsCreate = input.total_amount !== undefined || input.subject !== undefined;
  if (!wantsCreate || input.trade_no !== undefined) {
    const existing = await repository.findTrade(context.pool, app.app_id, { tradeNo: input.trade_no, outTradeNo: input.out_trade_no });
    if (!existing) fail(errors.tradeNotExist, `no trade ${input.trade_no ?? input.out_trade_no} for this app`);
    if (!wantsCreate) return { existing, request: existingPaymentRequest(existing, input) };
  }
  return { existing: null, request: newPaymentRequest(app, requireCreateFields(input)) };
}

const refusalErrors = { NOT_SUPPORTED: errors.channelNotSupported, LIMIT: errors.channelLimitExceeded, UNAVAILABLE: errors.channelUnavailable };

/**
 * The channels to try, in order, checked before anything is written. A named channel must be enabled for this
 * merchant, take the currency, product and trade type, fit its limits and be in service; without a name the
 * router ranks every channel and the payment goes to the best, then to the next ones on a failover.
 */
async function chooseChannels(context: Context, app: GatewayAppRow, request: RouteRequest, named: string | undefined): Promise<readonly RoutedChannel[]> {
  const plan = await planRoute(context, { merchantId: app.merchant_id, appId: app.app_id }, request, named);
  if (named !== undefined) {
    const [ranked] = plan.ranked;
    if (!ranked) fail(errors.channelNotSupported, `channel ${named} is not enabled; enabled: ${context.channels.names().filter((name) => context.channels.usableBy(name, app.merchant_id)).join(', ') || 'none'}`);
    if (!ranked.eligible) {
      const kind = (['NOT_SUPPORTED', 'LIMIT', 'UNAVAILABLE'] as const).find((candidate) => ranked.refusals.includes(candidate))!;
      fail(refusalErrors[kind], `channel ${named}: ${ranked.reasons.join('; ')}`);
    }
    return plan.choices;
  }
  if (plan.choices.length === 0) {
    const why = plan.ranked.map((row) => `${row.channel} ${row.reasons.join(', ')}`).join('; ');
    fail(errors.channelNotSupported, `no channel can take this payment${why ? `: ${why}` : ': none is enabled'}`);
  }
  return plan.choices;
}

/**
 * Writes the attempt of a trade whose row this transaction holds locked; the event is returned for the caller
 * to record. A daily limit is checked here, serialized with every other attempt it counts.
 */
async function insertAttempt(context: Context, client: Client, trade: TradeRow, choice: RoutedChannel): Promise<{ value: AttemptRow; events: EventRecord[] }> {
  const { channel, route } = choice;
  const used = await reserveDailyLimit(context, client, channel.name, trade.currency, { merchantId: trade.merchant_id, appId: trade.app_id }, route);
  if (used !== null && used + trade.total_amount_minor > route.dailyLimitMinor!) {
    fail(errors.channelLimitExceeded, `channel ${channel.name}: daily limit ${route.dailyLimitMinor} (${used} used)`);
  }
  const attempt = await repository.insertAttempt(client, trade.trade_no, channel.name, trade.total_amount_minor, trade.currency, choice.feeMinor);
  return {
    value: attempt,
    events: [{ aggregateType: 'pay_attempt', aggregateId: attempt.attempt_no, eventType: 'pay_attempt.started', payload: { trade_no: trade.trade_no, channel: channel.name } }],
  };
}

/**
 * Starts an attempt on an existing trade: the trade row is locked, must still be waiting and unexpired,
 * and no other attempt may be at the channel (the in-progress marker is a unique index).
 */
async function startAttempt(context: Context, trade: TradeRow, choice: RoutedChannel): Promise<{ attempt: AttemptRow } | { paid: TradeRow }> {
  const started = await withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    if (locked.status === 'TRADE_CLOSED') fail(errors.tradeHasClose, `trade ${trade.trade_no} is closed`);
    // Another call paid it since we looked: answer as that call did.
    if (locked.status !== 'WAIT_BUYER_PAY') return { paid: locked };
    if (locked.expires_at <= now()) {
      // An attempt still at the channel must be closed there first; the expiry job does that.
      if (await repository.findInFlightAttempt(client, locked.trade_no)) fail(errors.payInProgress, `trade ${trade.trade_no} is past its deadline with a payment attempt in progress; query it`);
      await closeLockedTrade(context, client, locked, 'EXPIRED');
      return undefined;
    }
    const { value: attempt, events } = await insertAttempt(context, client, locked, choice);
    await recordEvents(client, events);
    return { attempt };
  });
  return started ?? fail(errors.tradeHasClose, `trade ${trade.trade_no} expired at ${trade.expires_at.toISOString()} and is closed`);
}

/** The trade and its new attempt through `choice`; null attempt when the trade needs none (already paid). */
async function beginAttempt(
  context: Context, app: GatewayAppRow, input: PayInput, commonNotifyUrl: string | null, target: PayTarget, choice: RoutedChannel, recharge: RechargeTarget | undefined,
): Promise<{ trade: TradeRow; attempt: AttemptRow | null }> {
  let trade = target.existing;
  if (trade === null) {
    // createTrade returns the existing trade when the parameters agree and refuses when they differ; a new
    // trade gets its first attempt in the same transaction.
    const created = await createTrade(context, app, requireCreateFields(input), commonNotifyUrl, async (client, fresh) => {
      input.resolvedPayer?.checkTrade(fresh);
      const marked = recharge ? await repository.setRechargeTarget(client, fresh.trade_no, recharge.accountNo, recharge.units) : fresh;
      return insertAttempt(context, client, marked, choice);
    });
    if (created.extra) return { trade: created.trade, attempt: created.extra };
    trade = created.trade;
    // An order number names one thing: a recharge is never paid as an ordinary trade, nor the reverse.
    const sameTarget = recharge
      ? trade.purpose === 'RECHARGE' && trade.recharge_account_no === recharge.accountNo && trade.recharge_units === recharge.units
      : trade.purpose === 'PAY';
    if (!sameTarget) fail(errors.contextInconsistent, `out_trade_no ${trade.out_trade_no} already names a ${trade.purpose === 'RECHARGE' ? 'recharge of another account or amount' : 'trade that is not a recharge'}`);
  }
  if (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED') return { trade, attempt: null };
  if (trade.status === 'TRADE_CLOSED') fail(errors.tradeHasClose, `trade ${trade.trade_no} is closed`);
  input.resolvedPayer?.checkTrade(trade);
  try {
    const started = await startAttempt(context, trade, choice);
    return 'paid' in started ? { trade: started.paid, attempt: null } : { trade, attempt: started.attempt };
  } catch (error) {
    if (isUniqueViolation(error, 'pay_attempts_one_in_flight')) {
      fail(errors.payInProgress, `trade ${trade.trade_no} has a payment attempt in progress; query the trade for its result`);
    }
    throw error;
  }
}

/** Sends the attempt to the channel, outside any transaction, and records the answer. */
async function sendAttempt(context: Context, trade: TradeRow, attempt: AttemptRow, channel: ChannelAdapter, input: PayInput): Promise<PayOutcome> {
  const log = context.log.child({ trade_no: trade.trade_no, attempt_no: attempt.attempt_no, channel: channel.name });
  log.info('calling channel');
  let result: ChannelPayResult;
  try {
    result = await channel.pay({
      attemptNo: attempt.attempt_no,
      tradeNo: trade.trade_no,
      amountMinor: attempt.amount_minor,
      currency: attempt.currency,
      subject: trade.subject,
      expiresAt: trade.expires_at,
      notifyUrl: channelNotifyUrl(context, channel.name),
      ...(input.product === undefined ? {} : { product: input.product }),
      ...(input.payer_id === undefined ? {} : { payer: { type: input.payer_type ?? 'default', id: input.payer_id } }),
      ...(input.resolvedPayer === undefined ? {} : { payer: input.resolvedPayer.payer }),
    });
  } catch (error) {
    // An adapter must not throw, but if one does the money may have moved: treat it as unknown.
    log.error({ err: error }, 'channel adapter threw');
    result = { status: 'UNKNOWN', reason: (error as Error).message };
  }
  const updated = await recordPayOutcome(context, attempt, result);
  if (result.status === 'PENDING' || result.status === 'UNKNOWN') {
    await enqueue(context.pool, 'trade.pay.query', { attempt_no: attempt.attempt_no }, {
      runAt: addSeconds(now(), context.config.compensationRetrySeconds[0]!), jobKey: jobKeys.payQuery(attempt.attempt_no),
    });
  }
  return { trade: updated, attempt, result };
}

/** A refusal that charged nothing and says nothing about the payer: another channel may take the payment. */
function safeToFailOver(outcome: PayOutcome): boolean {
  return outcome.result?.status === 'FAILED' && outcome.result.code === 'CHANNEL_UNAVAILABLE';
}

/**
 * tongbao.trade.pay: create-if-needed, record an attempt, call the channel outside any transaction,
 * and record its answer. Paying a trade that is already paid returns it unchanged (the call is idempotent).
 * When the answer is not final, a compensation query is scheduled; if the process dies before that,
 * the periodic sweep finds the attempt still processing and queries it.
 *
 * Without a named channel the router chooses; when that channel refuses without charging (its breaker opened
 * or its bulkhead is full since the ranking), the payment fails over to the next one as a new attempt.
 */
export async function payTrade(context: Context, app: GatewayAppRow, input: PayInput, commonNotifyUrl: string | null, recharge?: RechargeTarget): Promise<PayOutcome> {
  const target = await payTarget(context, app, input);
  if (target.existing?.status === 'TRADE_CLOSED') fail(errors.tradeHasClose, `trade ${target.existing.trade_no} is closed`);
  if (target.existing && target.existing.status !== 'WAIT_BUYER_PAY') return { trade: target.existing, attempt: null, result: null };
  if (isLocalChannel(input.channel)) {
    // Balance, coins and credit run inside Tongbao and are never chosen by the router: they need the payer.
    if (recharge) fail(errors.channelNotSupported, `a recharge is paid through a payment channel, not from an account (${input.channel})`);
    if (input.resolvedPayer) fail(errors.invalidParameter, `agreement_no pays through the agreement's channel, not from an account (${input.channel})`);
    return payByAccount(context, app, input.channel, input, commonNotifyUrl, {
      existing: target.existing, create: target.existing ? null : requireCreateFields(input), amountMinor: target.request.amountMinor, currency: target.request.currency,
    });
  }
  const choices = await chooseChannels(context, app, target.request, input.channel ?? input.resolvedPayer?.channel);
  let outcome: PayOutcome | undefined;
  for (const choice of choices) {
    const { trade, attempt } = await beginAttempt(context, app, input, commonNotifyUrl, outcome ? { ...target, existing: outcome.trade } : target, choice, recharge);
    if (!attempt) return { trade, attempt: null, result: null };
    outcome = await sendAttempt(context, trade, attempt, choice.channel, input);
    if (input.channel !== undefined || input.resolvedPayer !== undefined || !safeToFailOver(outcome)) return outcome;
    context.log.warn({ trade_no: trade.trade_no, attempt_no: attempt.attempt_no, channel: choice.channel.name }, 'channel refused without charging; failing over to the next channel');
  }
  return outcome!;
}
