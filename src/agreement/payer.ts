/**
 * The one call tongbao.trade.pay makes into this domain: turn an agreement_no into the channel's payer. The
 * agreement must be the app's, ACTIVE, of the expected type, signed through the channel the payment uses, and
 * the trade must be in its currency and within its limit per payment. Checked before anything is written.
 */
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import type { GatewayAppRow } from '../merchant/index.js';
import type { ResolvedPayer, TradeRow } from '../trade/index.js';
import { formatAmount } from '../shared/money.js';
import * as repository from './repository.js';
import type { AgreementRow, AgreementType } from './repository.js';

/** The agreement of this app, usable now for a payment of this type through this channel (any when not named). */
export function requireUsable(agreement: AgreementRow | undefined, agreementNo: string, type: AgreementType, channel: string | undefined): AgreementRow & { channel_agreement_no: string } {
  if (!agreement) fail(errors.agreementNotExist, `no agreement ${agreementNo} for this app`);
  if (agreement.agreement_type !== type) {
    const use = agreement.agreement_type === 'WITHHOLDING' ? 'debit it with tongbao.agreement.withhold' : 'pay with it through tongbao.trade.pay';
    fail(errors.agreementTypeMismatch, `agreement ${agreement.agreement_no} is ${agreement.agreement_type}, not ${type}; ${use}`);
  }
  if (agreement.status !== 'ACTIVE') fail(errors.agreementNotActive, `agreement ${agreement.agreement_no} is ${agreement.status}; only an ACTIVE agreement can pay`);
  if (channel !== undefined && agreement.channel !== channel) fail(errors.agreementChannelMismatch, `agreement ${agreement.agreement_no} was signed through channel ${agreement.channel}, not ${channel}`);
  return agreement as AgreementRow & { channel_agreement_no: string };
}

/** Refuses an amount in another currency or above the agreement's limit per payment. */
export function checkAmount(agreement: AgreementRow, amountMinor: bigint, currency: string): void {
  if (currency !== agreement.currency) fail(errors.agreementCurrencyMismatch, `agreement ${agreement.agreement_no} is in ${agreement.currency}, the payment in ${currency}`);
  if (agreement.single_limit_minor !== null && amountMinor > agreement.single_limit_minor) {
    fail(errors.agreementSingleLimitExceeded, `agreement ${agreement.agreement_no} allows at most ${formatAmount(agreement.single_limit_minor, currency)} ${currency} per payment`);
  }
}

export function payerOf(agreement: AgreementRow & { channel_agreement_no: string }): ResolvedPayer {
  return {
    channel: agreement.channel,
    payer: { type: 'AGREEMENT', id: agreement.channel_agreement_no },
    checkTrade: (trade: TradeRow) => checkAmount(agreement, trade.total_amount_minor, trade.currency),
  };
}

export async function resolveAgreementPayer(context: Context, app: GatewayAppRow, agreementNo: string, channel: string | undefined, type: AgreementType): Promise<ResolvedPayer> {
  const agreement = await repository.findAgreement(context.pool, app.app_id, { agreementNo });
  return payerOf(requireUsable(agreement, agreementNo, type, channel));
}
