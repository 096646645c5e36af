import { addSeconds, now } from '../clock.js';
import type { GuardedChannel } from '../channels/guard.js';
import type { ChannelAdapter, ChannelPayResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { isUniqueViolation, withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvents, type EventRecord } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { closeLockedTrade } from './close.js';
import { createTrade, tradeCurrency, type CreateTradeInput } from './create.js';
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
 * A payer another domain resolved (a signed agreement): who pays at the channel, and a check of the trade that
 * runs before any attempt is written, so a trade the payer may not pay is refused with nothing changed.
 */
export interface ResolvedPayer {
  readonly payer: { readonly type: string; readonly id: string };
  checkTrade(trade: TradeRow): void;
}

export interface PayInput extends Partial<CreateTradeInput>, PayerInput {
  trade_no?: string | undefined;
  channel: string;
  resolvedPayer?: ResolvedPayer | undefined;
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

/** The channel, checked before anything is written: enabled, taking the currency and product, in service. */
function requireChannel(context: Context, name: string, currency: string, product: string | undefined): GuardedChannel {
  const channel = context.channels.get(name);
  if (!channel) fail(errors.channelNotSupported, `channel ${name} is not enabled; enabled: ${context.channels.names().join(', ') || 'none'}`);
  if (!channel.capabilities.currencies.includes(currency)) fail(errors.channelNotSupported, `channel ${name} does not take ${currency}`);
  if (product !== undefined && !channel.capabilities.products.includes(product)) {
    fail(errors.channelNotSupported, `channel ${name} has no product ${product}; it has ${channel.capabilities.products.join(', ')}`);
  }
  // Refused before anything is written: an open breaker means the channel is known to be down.
  if (!channel.available()) fail(errors.channelUnavailable, `channel ${name} is out of service (circuit breaker open); pay later or through another channel`);
  return channel;
}

function requireCreateFields(input: PayInput): CreateTradeInput {
  if (input.out_trade_no === undefined) fail(errors.missingParameter, 'out_trade_no is required to create and pay in one call');
  if (input.total_amount === undefined) fail(errors.missingParameter, 'total_amount is required to create and pay in one call');
  if (input.subject === undefined) fail(errors.missingParameter, 'subject is required to create and pay in one call');
  return input as CreateTradeInput;
}

function checkChannelLimit(channel: ChannelAdapter, trade: TradeRow): void {
  if (channel.capabilities.maxAmountMinor !== null && trade.total_amount_minor > channel.capabilities.maxAmountMinor) {
    fail(errors.channelNotSupported, `channel ${channel.name} takes at most ${channel.capabilities.maxAmountMinor} minor units`);
  }
}

/** Writes the attempt of a trade whose row this transaction holds locked; the event is returned for the caller to record. */
async function insertAttempt(client: Client, trade: TradeRow, channel: ChannelAdapter): Promise<{ value: AttemptRow; events: EventRecord[] }> {
  const attempt = await repository.insertAttempt(client, trade.trade_no, channel.name, trade.total_amount_minor, trade.currency);
  return {
    value: attempt,
    events: [{ aggregateType: 'pay_attempt', aggregateId: attempt.attempt_no, eventType: 'pay_attempt.started', payload: { trade_no: trade.trade_no, channel: channel.name } }],
  };
}

/**
 * Starts an attempt on an existing trade: the trade row is locked, must still be waiting and unexpired,
 * and no other attempt may be at the channel (the in-progress marker is a unique index).
 */
async function startAttempt(context: Context, trade: TradeRow, channel: ChannelAdapter): Promise<{ attempt: AttemptRow } | { paid: TradeRow }> {
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
    const { value: attempt, events } = await insertAttempt(client, locked, channel);
    await recordEvents(client, events);
    return { attempt };
  });
  return started ?? fail(errors.tradeHasClose, `trade ${trade.trade_no} expired at ${trade.expires_at.toISOString()} and is closed`);
}

/**
 * Finds the trade, or creates it together with its first attempt in one transaction (create and pay in
 * one call). Returns the attempt when it was started here.
 */
async function findOrCreate(context: Context, app: GatewayAppRow, input: PayInput, commonNotifyUrl: string | null): Promise<{ trade: TradeRow; channel: ChannelAdapter; attempt?: AttemptRow }> {
  if (input.trade_no === undefined && input.out_trade_no === undefined) fail(errors.missingParameter, 'out_trade_no or trade_no is required');
  const wantsCreate = input.total_amount !== undefined || input.subject !== undefined;
  if (!wantsCreate || input.trade_no !== undefined) {
    const existing = await repository.findTrade(context.pool, app.app_id, { tradeNo: input.trade_no, outTradeNo: input.out_trade_no });
    if (!existing) fail(errors.tradeNotExist, `no trade ${input.trade_no ?? input.out_trade_no} for this app`);
    if (!wantsCreate) return { trade: existing, channel: requireChannel(context, input.channel, existing.currency, input.product) };
  }
  const createInput = requireCreateFields(input);
  const channel = requireChannel(context, input.channel, tradeCurrency(createInput.currency), input.product);
  // createTrade returns the existing trade when the parameters agree and refuses when they differ.
  const { trade, extra } = await createTrade(context, app, createInput, commonNotifyUrl, async (client, fresh) => {
    checkChannelLimit(channel, fresh);
    input.resolvedPayer?.checkTrade(fresh);
    return insertAttempt(client, fresh, channel);
  });
  return { trade, channel, attempt: extra };
}

/**
 * tongbao.trade.pay: create-if-needed, record an attempt, call the channel outside any transaction,
 * and record its answer. Paying a trade that is already paid returns it unchanged (the call is idempotent).
 * When the answer is not final, a compensation query is scheduled; if the process dies before that,
 * the periodic sweep finds the attempt still processing and queries it.
 */
export async function payTrade(context: Context, app: GatewayAppRow, input: PayInput, commonNotifyUrl: string | null): Promise<PayOutcome> {
  const found = await findOrCreate(context, app, input, commonNotifyUrl);
  const { trade, channel } = found;

  let attempt = found.attempt;
  if (!attempt) {
    if (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED') return { trade, attempt: null, result: null };
    if (trade.status === 'TRADE_CLOSED') fail(errors.tradeHasClose, `trade ${trade.trade_no} is closed`);
    checkChannelLimit(channel, trade);
    input.resolvedPayer?.checkTrade(trade);
    let started;
    try {
      started = await startAttempt(context, trade, channel);
    } catch (error) {
      if (isUniqueViolation(error, 'pay_attempts_one_in_flight')) {
        fail(errors.payInProgress, `trade ${trade.trade_no} has a payment attempt in progress; query the trade for its result`);
      }
      throw error;
    }
    if ('paid' in started) return { trade: started.paid, attempt: null, result: null };
    attempt = started.attempt;
  }

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
