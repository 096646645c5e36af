import { describe, expect, it } from 'vitest';
import { TongbaoError } from '../errors.js';
import { assertBalanced, type Entry } from '../ledger/index.js';
import { escrowUnsettledMinor, refundEscrowPart, tradeTerms } from './escrow.js';
import { paymentEntries, refundEntries, settlementEntries } from './postings.js';
import type { RefundRow, TradeRow } from './repository.js';
import { parseRoyalty, sameSplits } from './royalty.js';

function trade(fields: Partial<TradeRow>): TradeRow {
  return {
    trade_no: 'T1', merchant_id: 'M1', currency: 'CNY', trade_type: 'ESCROW', total_amount_minor: 10000n, escrow_amount_minor: 10000n,
    settled_amount_minor: 0n, escrow_refund_reserved_minor: 0n, escrow_refunded_minor: 0n, royalty_amount_minor: 0n, ...fields,
  } as TradeRow;
}

function subCodeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof TongbaoError ? error.subCode : `not a TongbaoError: ${String(error)}`;
  }
}

const summary = (entries: Entry[]) => entries.map((entry) => `${entry.side} ${entry.account.code} ${entry.amountMinor}`);

describe('tradeTerms', () => {
  it('defaults to an instant trade and to escrowing all of an escrow trade', () => {
    expect(tradeTerms({}, 10000n, 'CNY')).toEqual({ tradeType: 'INSTANT', escrowAmountMinor: 0n, splits: [] });
    expect(tradeTerms({ trade_type: 'ESCROW' }, 10000n, 'CNY')).toEqual({ tradeType: 'ESCROW', escrowAmountMinor: 10000n, splits: [] });
    expect(tradeTerms({ trade_type: 'ESCROW', escrow_amount: '100.00' }, 10000n, 'CNY').escrowAmountMinor).toBe(10000n);
  });

  it('refuses escrow terms that do not fit', () => {
    expect(subCodeOf(() => tradeTerms({ escrow_amount: '1.00' }, 10000n, 'CNY'))).toBe('isv.escrow-amount-not-allowed');
    expect(subCodeOf(() => tradeTerms({ trade_type: 'ESCROW', escrow_amount: '100.01' }, 10000n, 'CNY'))).toBe('ACQ.ESCROW_AMOUNT_EXCEED');
    expect(subCodeOf(() => tradeTerms({ trade_type: 'ESCROW', royalty_parameters: [{ trans_in_type: 'PLATFORM', amount: '1' }] }, 10000n, 'CNY'))).toBe('isv.royalty-not-allowed');
    expect(subCodeOf(() => tradeTerms({ royalty_parameters: [{ trans_in_type: 'PLATFORM', amount: '100.01' }] }, 10000n, 'CNY'))).toBe('ACQ.ROYALTY_AMOUNT_EXCEED');
  });
});

describe('parseRoyalty', () => {
  it('keeps the order asked, reads amounts in the currency, and compares lists by receiver and amount', () => {
    const splits = parseRoyalty([{ trans_in_type: 'MERCHANT', trans_in: 'M2', amount: '500' }, { trans_in_type: 'PLATFORM', amount: 3 }], 'JPY');
    expect(splits).toEqual([{ receiver: { type: 'MERCHANT', merchantId: 'M2' }, amountMinor: 500n }, { receiver: { type: 'PLATFORM' }, amountMinor: 3n }]);
    expect(sameSplits(splits, [...splits].reverse())).toBe(false);
    expect(sameSplits(splits, parseRoyalty([{ trans_in_type: 'MERCHANT', trans_in: 'M2', amount: '500' }, { trans_in_type: 'PLATFORM', amount: '3' }], 'JPY'))).toBe(true);
  });

  it('allows ten receivers and refuses eleven', () => {
    const receivers = Array.from({ length: 11 }, (_, index) => ({ trans_in_type: 'MERCHANT' as const, trans_in: `M${index}`, amount: '1' }));
    expect(parseRoyalty(receivers.slice(0, 10), 'CNY')).toHaveLength(10);
    expect(subCodeOf(() => parseRoyalty(receivers, 'CNY'))).toBe('isv.royalty-too-many-receivers');
  });
});

describe('postings', () => {
  it('a partial escrow payment with no splits: escrow and merchant share the clearing debit', () => {
    const entries = paymentEntries(trade({ escrow_amount_minor: 6000n }), 'sandbox', 10000n, []);
    assertBalanced({ kind: 'PAYMENT', reference: 'A1', currency: 'CNY', entries });
    expect(summary(entries)).toEqual(['DEBIT channel:sandbox:clearing:CNY 10000', 'CREDIT platform:escrow:CNY 6000', 'CREDIT merchant:M1:pending:CNY 4000']);
  });

  it('an instant payment with splits credits each receiver and the merchant the rest', () => {
    const splits = parseRoyalty([{ trans_in_type: 'MERCHANT', trans_in: 'M2', amount: '10' }, { trans_in_type: 'PLATFORM', amount: '2.5' }], 'CNY');
    const entries = paymentEntries(trade({ trade_type: 'INSTANT', escrow_amount_minor: 0n }), 'sandbox', 10000n, splits);
    assertBalanced({ kind: 'PAYMENT', reference: 'A2', currency: 'CNY', entries });
    expect(summary(entries)).toEqual([
      'DEBIT channel:sandbox:clearing:CNY 10000', 'CREDIT merchant:M2:pending:CNY 1000', 'CREDIT platform:fee-income:CNY 250', 'CREDIT merchant:M1:pending:CNY 8750',
    ]);
  });

  it('a settlement split in full leaves the merchant no entry; splits above it are a programming error', () => {
    const splits = parseRoyalty([{ trans_in_type: 'PLATFORM', amount: '30' }], 'CNY');
    expect(summary(settlementEntries(trade({}), 3000n, splits))).toEqual(['DEBIT platform:escrow:CNY 3000', 'CREDIT platform:fee-income:CNY 3000']);
    expect(() => settlementEntries(trade({}), 2999n, splits)).toThrow(/exceed/);
  });

  it('a refund takes what escrow still holds first, the rest from the merchant', () => {
    const settled = trade({ settled_amount_minor: 7000n, escrow_refund_reserved_minor: 1000n });
    expect(escrowUnsettledMinor(settled)).toBe(2000n);
    expect(refundEscrowPart(settled, 1500n)).toBe(1500n);
    expect(refundEscrowPart(settled, 5000n)).toBe(2000n);
    const refund = { amount_minor: 5000n, from_escrow_minor: 2000n, currency: 'CNY', channel: 'sandbox' } as RefundRow;
    const entries = refundEntries(settled, refund);
    assertBalanced({ kind: 'REFUND', reference: 'R1', currency: 'CNY', entries });
    expect(summary(entries)).toEqual(['DEBIT platform:escrow:CNY 2000', 'DEBIT merchant:M1:pending:CNY 3000', 'CREDIT channel:sandbox:clearing:CNY 5000']);
  });
});
