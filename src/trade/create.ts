import { addSeconds, now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvents, type EventRecord } from '../events/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { currencyExponent, formatAmount, isSupportedCurrency, parseAmount } from '../shared/money.js';
import * as escrowRepository from './escrow-repository.js';
import { tradeTerms, type TradeTerms, type TradeTermsInput } from './escrow.js';
import * as repository from './repository.js';
import type { TradeRow } from './repository.js';
import { checkReceivers, royaltyTotal, sameSplits } from './royalty.js';

export interface CreateTradeInput extends TradeTermsInput {
  out_trade_no: string;
  total_amount: string | number;
  currency?: string | undefined;
  subject: string;
  body?: string | undefined;
  timeout_express?: string | undefined;
  notify_url?: string | undefined;
  passback_params?: string | undefined;
}

const maxTimeoutSeconds = 15 * 24 * 3600;

/** Parses Alipay's timeout_express ("90m", "2h", "1d"; at most 15 days) into seconds. */
export function parseTimeoutExpress(text: string | undefined): number | null {
  if (text === undefined) return 30 * 60;
  const match = /^([1-9]\d{0,5})([mhd])$/.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * { m: 60, h: 3600, d: 86400 }[match[2] as 'm' | 'h' | 'd'];
  return seconds <= maxTimeoutSeconds ? seconds : null;
}

/**
 * The app limit is kept in hundredths of a major unit and applies to whichever currency the trade is
 * in ("10000.00" means 10000 CNY, 10000 USD or 10000 JPY): both sides are compared in thousandths, so
 * the currency's exponent (0, 2 or 3) cannot shift the limit by a factor of 100.
 */
export function aboveAppLimit(amountMinor: bigint, currency: string, limitHundredths: bigint): boolean {
  return amountMinor * 10n ** BigInt(3 - currencyExponent(currency)) > limitHundredths * 10n;
}

/** Validates the amount against the currency and the app's per-order limit; returns minor units. */
export function tradeAmount(app: GatewayAppRow, value: unknown, currency: string, field = 'total_amount'): bigint {
  const parsed = parseAmount(value, currency);
  if (!parsed.ok) fail(errors.invalidAmount, `${field} ${parsed.reason}`);
  if (aboveAppLimit(parsed.amountMinor, currency, app.max_amount_minor)) {
    fail(errors.amountOverLimit, `${field} is above this app's limit of ${formatAmount(app.max_amount_minor, 'CNY')} ${currency}`);
  }
  return parsed.amountMinor;
}

export function tradeCurrency(currency: string | undefined): string {
  const code = currency ?? 'CNY';
  if (!isSupportedCurrency(code)) fail(errors.currencyNotSupported, `currency ${code} is not supported`);
  return code;
}

/** Refuses an existing trade whose terms differ from this request's (amount, currency, type, escrow, splits). */
async function checkSameTrade(context: Context, existing: TradeRow, amountMinor: bigint, currency: string, terms: TradeTerms): Promise<TradeRow> {
  const existingSplits = existing.royalty_amount_minor > 0n ? await escrowRepository.listSplits(context.pool, existing.trade_no, null) : [];
  const same = existing.total_amount_minor === amountMinor && existing.currency === currency && existing.trade_type === terms.tradeType
    && existing.escrow_amount_minor === terms.escrowAmountMinor && sameSplits(existingSplits, terms.splits);
  if (!same) {
    const escrow = existing.trade_type === 'ESCROW' ? `, escrow_amount ${formatAmount(existing.escrow_amount_minor, existing.currency)}` : '';
    const splits = existingSplits.length > 0 ? `, ${existingSplits.length} royalty receivers` : '';
    fail(errors.contextInconsistent, `out_trade_no ${existing.out_trade_no} already exists with total_amount ${formatAmount(existing.total_amount_minor, existing.currency)} ${existing.currency}, trade_type ${existing.trade_type}${escrow}${splits}`);
  }
  return existing;
}

/**
 * Creates the order awaiting payment, or returns the existing one for the same out_trade_no when the
 * request is the same; different terms are refused. Safe under parallel identical calls: the unique key
 * decides, the losers read the winner's row.
 */
export async function createTrade<T = undefined>(
  context: Context,
  app: GatewayAppRow,
  input: CreateTradeInput,
  commonNotifyUrl: string | null,
  /** More work for the same transaction when the trade is new (create-and-pay starts its attempt here). */
  alsoWhenCreated?: (client: Client, trade: TradeRow) => Promise<{ value: T; events: EventRecord[] }>,
): Promise<{ trade: TradeRow; extra?: T }> {
  const currency = tradeCurrency(input.currency);
  const amountMinor = tradeAmount(app, input.total_amount, currency);
  const timeoutSeconds = parseTimeoutExpress(input.timeout_express);
  if (timeoutSeconds === null) fail(errors.invalidParameter, 'timeout_express must be like 30m, 2h or 1d, at most 15d');
  const terms = tradeTerms(input, amountMinor, currency);

  const inserted = await withTransaction(context.pool, async (client) => {
    const trade = await repository.insertTrade(client, {
      appId: app.app_id,
      merchantId: app.merchant_id,
      outTradeNo: input.out_trade_no,
      currency,
      totalAmountMinor: amountMinor,
      tradeType: terms.tradeType,
      escrowAmountMinor: terms.escrowAmountMinor,
      royaltyAmountMinor: royaltyTotal(terms.splits),
      subject: input.subject,
      body: input.body ?? null,
      notifyUrl: input.notify_url ?? commonNotifyUrl,
      passbackParams: input.passback_params ?? null,
      expiresAt: addSeconds(now(), timeoutSeconds),
    });
    if (!trade) return undefined;
    // Receivers are checked only for a new trade (a refusal rolls it back): a retry gets the trade it made.
    await checkReceivers(client, terms.splits, app.merchant_id);
    await escrowRepository.insertSplits(client, trade.trade_no, null, terms.splits, currency);
    // No expiry job per order: the periodic sweep closes overdue orders (see jobs.ts).
    // trade.created first: the extra work may record events of its own (a local payment records the trade paid).
    await recordEvents(client, [{
      aggregateType: 'trade', aggregateId: trade.trade_no, eventType: 'trade.created',
      payload: { out_trade_no: trade.out_trade_no, amount_minor: amountMinor, currency, trade_type: terms.tradeType, escrow_amount_minor: terms.escrowAmountMinor, royalty_amount_minor: trade.royalty_amount_minor },
    }]);
    const extra = alsoWhenCreated ? await alsoWhenCreated(client, trade) : undefined;
    if (extra && extra.events.length > 0) await recordEvents(client, extra.events);
    return { trade, extra: extra?.value };
  });
  if (inserted) {
    context.log.info({ trade_no: inserted.trade.trade_no, out_trade_no: inserted.trade.out_trade_no }, 'trade created');
    return { trade: inserted.trade, extra: inserted.extra };
  }

  const existing = (await repository.findTrade(context.pool, app.app_id, { outTradeNo: input.out_trade_no }))!;
  return { trade: await checkSameTrade(context, existing, amountMinor, currency, terms) };
}
