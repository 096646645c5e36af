import { errors, fail } from '../errors.js';
import { formatAmount, parseAmount } from '../shared/money.js';
import type { TradeRow, TradeType } from './repository.js';
import { checkRoyaltyFits, parseRoyalty, type RoyaltyParameter, type RoyaltySplit } from './royalty.js';

/**
 * The rules of escrow trades (担保交易) as plain functions. An escrow payment credits the platform's escrow
 * account for `escrow_amount` (all of the order, or part of it: the rest goes to the merchant at once); the
 * escrowed money then leaves by settlements (to the merchant and any split receivers) or by refunds.
 */

export interface TradeTermsInput {
  trade_type?: TradeType | undefined;
  escrow_amount?: string | number | undefined;
  royalty_parameters?: RoyaltyParameter[] | undefined;
}

export interface TradeTerms {
  tradeType: TradeType;
  escrowAmountMinor: bigint;
  splits: RoyaltySplit[];
}

/** Reads trade_type, escrow_amount and royalty_parameters of a new trade against its total. */
export function tradeTerms(input: TradeTermsInput, totalMinor: bigint, currency: string): TradeTerms {
  const tradeType = input.trade_type ?? 'INSTANT';
  if (tradeType === 'INSTANT') {
    if (input.escrow_amount !== undefined) fail(errors.escrowAmountNotAllowed, 'escrow_amount is only for trade_type ESCROW');
    const splits = parseRoyalty(input.royalty_parameters, currency);
    checkRoyaltyFits(splits, totalMinor, currency, 'total_amount');
    return { tradeType, escrowAmountMinor: 0n, splits };
  }
  if (input.royalty_parameters !== undefined) fail(errors.royaltyNotAllowed, 'royalty_parameters at creation are only for INSTANT trades; give them to tongbao.trade.settle');
  let escrowAmountMinor = totalMinor;
  if (input.escrow_amount !== undefined) {
    const parsed = parseAmount(input.escrow_amount, currency);
    if (!parsed.ok) fail(errors.invalidAmount, `escrow_amount ${parsed.reason}`);
    if (parsed.amountMinor > totalMinor) {
      fail(errors.escrowAmountExceed, `escrow_amount ${formatAmount(parsed.amountMinor, currency)} is above total_amount ${formatAmount(totalMinor, currency)}`);
    }
    escrowAmountMinor = parsed.amountMinor;
  }
  return { tradeType, escrowAmountMinor, splits: [] };
}

/** Escrowed money a settlement may still take: neither settled nor reserved by a refund. */
export function escrowUnsettledMinor(trade: TradeRow): bigint {
  return trade.escrow_amount_minor - trade.settled_amount_minor - trade.escrow_refund_reserved_minor;
}

/**
 * How much of a refund comes back out of escrow: as much as is still unsettled, the rest out of the
 * merchant's account (which received the unescrowed part and every settlement).
 */
export function refundEscrowPart(trade: TradeRow, refundMinor: bigint): bigint {
  const unsettled = escrowUnsettledMinor(trade);
  return refundMinor < unsettled ? refundMinor : unsettled;
}

/** Settle and confirm need a paid escrow trade; each other case has its own code. */
export function checkSettleable(trade: TradeRow): void {
  if (trade.trade_type !== 'ESCROW') fail(errors.tradeNotEscrow, `trade ${trade.trade_no} is an ${trade.trade_type} trade; only ESCROW trades are settled or confirmed`);
  if (trade.status === 'TRADE_CLOSED') fail(errors.tradeHasClose, `trade ${trade.trade_no} is closed`);
  if (trade.status !== 'TRADE_SUCCESS') fail(errors.tradeStatusError, `trade ${trade.trade_no} is ${trade.status}; only a paid trade can be settled or confirmed`);
}
