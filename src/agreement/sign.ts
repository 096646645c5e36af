/**
 * Signing (签约) in two steps, each persisted before the channel is asked: sign writes the agreement SIGNING and
 * sends the card to the bank, which texts the payer a code (WAIT_CONFIRM); confirm hands the code back (ACTIVE).
 * The card number, expiry and CVV live only in this call's memory: they go to the bank and nowhere else.
 */
import { clockOffsetMs, now } from '../clock.js';
import type { ChannelAgreementResult, ChannelAgreements } from '../channels/types.js';
import type { Context } from '../context.js';
import { isUniqueViolation, withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { createPresenter, tradeAmount, tradeCurrency } from '../trade/index.js';
import { cardToken, inspectCard } from './cards.js';
import { notifyAgreement, withCardOf } from './present.js';
import * as repository from './repository.js';
import type { AgreementStatus, AgreementType, AgreementWithCard, NewAgreement, Period } from './repository.js';

export interface SignInput {
  out_agreement_no: string;
  out_user_id: string;
  agreement_type: AgreementType;
  channel: string;
  card_no: string;
  card_holder_name: string;
  mobile: string;
  card_expiry?: string | undefined;
  card_cvv?: string | undefined;
  currency?: string | undefined;
  single_limit?: string | number | undefined;
  period?: Period | undefined;
  period_limit?: string | number | undefined;
  period_count?: number | undefined;
  notify_url?: string | undefined;
}

function presenter(context: Context) {
  return createPresenter(context.config.TONGBAO_TIMEZONE);
}

export function requireAgreementChannel(context: Context, name: string, currency: string): ChannelAgreements {
  const channel = context.channels.get(name);
  if (!channel) fail(errors.channelNotSupported, `channel ${name} is not enabled; enabled: ${context.channels.names().join(', ') || 'none'}`);
  if (!channel.capabilities.agreements || !channel.agreements) fail(errors.channelNotSupported, `channel ${name} does not sign agreements`);
  if (!channel.capabilities.currencies.includes(currency)) fail(errors.channelNotSupported, `channel ${name} does not take ${currency}`);
  return channel.agreements;
}

/** The limits as stored: withholding needs a period and at least one limit on it; quick pay has no period. */
function limitsOf(app: GatewayAppRow, input: SignInput, currency: string): Pick<NewAgreement, 'singleLimitMinor' | 'period' | 'periodLimitMinor' | 'periodCountLimit'> {
  const singleLimitMinor = input.single_limit === undefined ? null : tradeAmount(app, input.single_limit, currency, 'single_limit');
  const periodLimitMinor = input.period_limit === undefined ? null : tradeAmount(app, input.period_limit, currency, 'period_limit');
  const periodCountLimit = input.period_count ?? null;
  const hasPeriodLimit = periodLimitMinor !== null || periodCountLimit !== null;
  if (input.agreement_type === 'QUICK_PAY' && (input.period !== undefined || hasPeriodLimit)) {
    fail(errors.invalidParameter, 'period, period_limit and period_count are for WITHHOLDING agreements; a QUICK_PAY agreement takes single_limit only');
  }
  if (input.agreement_type === 'WITHHOLDING') {
    if (singleLimitMinor === null) fail(errors.missingParameter, 'single_limit is required for a WITHHOLDING agreement');
    if (input.period === undefined || !hasPeriodLimit) fail(errors.missingParameter, 'period and period_limit or period_count are required for a WITHHOLDING agreement');
    if (periodLimitMinor !== null && singleLimitMinor > periodLimitMinor) fail(errors.invalidParameter, 'single_limit is above period_limit');
  }
  return { singleLimitMinor, period: input.period ?? null, periodLimitMinor, periodCountLimit };
}

/** The same out_agreement_no must name the same sign; anything else is a conflict. */
function sameSign(existing: AgreementWithCard, wanted: NewAgreement): boolean {
  return existing.card_id === wanted.cardId && existing.out_user_id === wanted.outUserId && existing.agreement_type === wanted.agreementType
    && existing.channel === wanted.channel && existing.currency === wanted.currency && existing.single_limit_minor === wanted.singleLimitMinor
    && existing.period === wanted.period && existing.period_limit_minor === wanted.periodLimitMinor && existing.period_count_limit === wanted.periodCountLimit;
}

/**
 * tongbao.agreement.sign. Idempotent on out_agreement_no: a repeat answers the agreement as it stands, and a
 * repeat of a sign whose bank answer was lost (still SIGNING) sends it to the bank again, which is idempotent too.
 */
export async function signAgreement(context: Context, app: GatewayAppRow, input: SignInput, commonNotifyUrl: string | null): Promise<AgreementWithCard> {
  const inspection = inspectCard(input.card_no);
  if (!inspection.ok) fail(inspection.problem === 'UNKNOWN_BIN' ? errors.cardBinUnknown : errors.invalidCardNo, inspection.message);
  const { card } = inspection;
  if (card.cardType === 'CREDIT' && (input.card_expiry === undefined || input.card_cvv === undefined)) {
    fail(errors.missingParameter, `card_expiry and card_cvv are required for a credit card (${card.bank} card ending ${card.last4})`);
  }
  const currency = tradeCurrency(input.currency);
  const channel = requireAgreementChannel(context, input.channel, currency);
  const limits = limitsOf(app, input, currency);
  const present = presenter(context);

  const agreement = await withTransaction(context.pool, async (client) => {
    const cardRow = await repository.upsertCard(client, {
      appId: app.app_id, outUserId: input.out_user_id, token: cardToken(context.secrets.deriveKey('card-token'), input.card_no), last4: card.last4,
      bankCode: card.bank, bankName: card.bankName, cardType: card.cardType, region: card.region,
    });
    const wanted: NewAgreement = {
      appId: app.app_id, merchantId: app.merchant_id, outAgreementNo: input.out_agreement_no, outUserId: input.out_user_id, cardId: cardRow.card_id,
      channel: input.channel, agreementType: input.agreement_type, currency, ...limits, notifyUrl: input.notify_url ?? commonNotifyUrl,
    };
    const existing = await repository.findAgreement(client, app.app_id, { outAgreementNo: input.out_agreement_no });
    if (existing) {
      if (!sameSign(existing, wanted)) fail(errors.agreementConflict, `out_agreement_no ${input.out_agreement_no} already names another sign (agreement ${existing.agreement_no})`);
      return existing;
    }
    for (const stale of await repository.expireStaleSigns(client, app.app_id, cardRow.card_id, input.agreement_type, input.channel, now())) {
      await notifyAgreement(client, present, withCardOf(stale, cardRow));
    }
    const inserted = await insertOrRefuse(client, wanted, card.last4);
    if (inserted) return withCardOf(inserted, cardRow);
    // A parallel identical sign inserted it first and committed: this statement's snapshot sees it.
    const winner = (await repository.findAgreement(client, app.app_id, { outAgreementNo: input.out_agreement_no }))!;
    if (!sameSign(winner, wanted)) fail(errors.agreementConflict, `out_agreement_no ${input.out_agreement_no} already names another sign (agreement ${winner.agreement_no})`);
    return winner;
  });
  if (agreement.status !== 'SIGNING') return agreement;

  const log = context.log.child({ agreement_no: agreement.agreement_no, channel: agreement.channel, card_last4: card.last4 });
  log.info('asking the channel to sign');
  const result = await callSafely(log, () => channel.sign({
    agreementNo: agreement.agreement_no,
    agreementType: agreement.agreement_type,
    card: {
      number: input.card_no, cardType: card.cardType, holderName: input.card_holder_name, mobile: input.mobile,
      ...(card.cardType === 'CREDIT' ? { expiry: input.card_expiry!, cvv: input.card_cvv! } : {}),
    },
  }));
  return recordResult(context, agreement, ['SIGNING'], result);
}

async function insertOrRefuse(client: Client, wanted: NewAgreement, last4: string) {
  try {
    return await repository.insertAgreement(client, wanted);
  } catch (error) {
    if (isUniqueViolation(error, 'agreements_one_live_per_card')) {
      fail(errors.agreementCardSigned, `the card ending ${last4} of user ${wanted.outUserId} already has a live ${wanted.agreementType} agreement through ${wanted.channel}; unsign it first`);
    }
    throw error;
  }
}

/** tongbao.agreement.sign.confirm: hands the texted code to the bank. */
export async function confirmAgreement(context: Context, agreement: AgreementWithCard, code: string): Promise<AgreementWithCard> {
  if (agreement.status === 'ACTIVE') return agreement;
  if (agreement.status === 'FAILED') failWithCode(agreement.agreement_no, agreement.failure_code, agreement.failure_message);
  if (agreement.status !== 'WAIT_CONFIRM') fail(errors.agreementStatusError, `agreement ${agreement.agreement_no} is ${agreement.status}; only a WAIT_CONFIRM agreement takes a verification code`);
  if (agreement.code_expires_at !== null && agreement.code_expires_at <= now()) {
    await recordResult(context, agreement, ['WAIT_CONFIRM'], { status: 'FAILED', code: 'VERIFY_CODE_EXPIRED', message: 'the verification code expired' });
    fail(errors.agreementCodeExpired, `the verification code of agreement ${agreement.agreement_no} expired; sign again with a new out_agreement_no`);
  }
  const channel = requireAgreementChannel(context, agreement.channel, agreement.currency);
  const log = context.log.child({ agreement_no: agreement.agreement_no, channel: agreement.channel });
  const result = await callSafely(log, () => channel.confirm({ agreementNo: agreement.agreement_no, code }));
  if (result.status === 'CODE_INVALID') {
    await repository.countWrongCode(context.pool, agreement.agreement_no);
    fail(errors.agreementCodeInvalid, `the verification code is wrong; ${result.attemptsLeft} tries left before the sign is ended`);
  }
  return recordResult(context, agreement, ['WAIT_CONFIRM'], result);
}

function failWithCode(agreementNo: string, code: string | null, message: string | null): never {
  const detail = `agreement ${agreementNo} failed: ${code} ${message}`;
  if (code === 'VERIFY_CODE_EXPIRED') fail(errors.agreementCodeExpired, `${detail}; sign again with a new out_agreement_no`);
  if (code === 'VERIFY_CODE_LOCKED') fail(errors.agreementCodeLocked, `${detail}; sign again with a new out_agreement_no`);
  fail(errors.agreementSignFailed, detail);
}

async function callSafely(log: Context['log'], call: () => Promise<ChannelAgreementResult>): Promise<ChannelAgreementResult> {
  try {
    return await call();
  } catch (error) {
    // An adapter must not throw; if one does, the bank may have acted: the caller asks again.
    log.error({ err: error }, 'channel adapter threw');
    return { status: 'UNKNOWN', reason: (error as Error).message };
  }
}

/**
 * Records the bank's answer with a guarded transition from `from`, and the notification of a final state in the
 * same transaction; then answers as the agreement now stands, failures as their errors.
 */
export async function recordResult(context: Context, agreement: AgreementWithCard, from: readonly AgreementStatus[], result: ChannelAgreementResult): Promise<AgreementWithCard> {
  const change = changeOf(result);
  if (change === null) {
    const reason = result.status === 'UNKNOWN' ? result.reason : `unexpected answer ${result.status}`;
    fail(errors.systemError, `the channel's answer is not known yet (${reason}); call again with the same agreement to continue`);
  }
  const present = presenter(context);
  const updated = await withTransaction(context.pool, async (client) => {
    const row = await repository.transition(client, agreement.agreement_no, from, change);
    if (!row) return undefined;
    const shown = withCardOf(row, agreement);
    if (['ACTIVE', 'FAILED', 'TERMINATED'].includes(row.status)) await notifyAgreement(client, present, shown);
    return shown;
  });
  // A racer recorded an answer first: answer as the agreement now stands.
  const current = updated ?? (await repository.findAgreementByNo(context.pool, agreement.agreement_no))!;
  if (current.status === 'FAILED') failWithCode(current.agreement_no, current.failure_code, current.failure_message);
  return current;
}

function changeOf(result: ChannelAgreementResult): repository.AgreementChange | null {
  switch (result.status) {
    // The bank states the expiry on its own (real) clock; Tongbao compares it with business time.
    case 'CODE_SENT': return { status: 'WAIT_CONFIRM', codeExpiresAt: new Date(result.codeExpiresAt.getTime() + clockOffsetMs()) };
    case 'ACTIVE': return { status: 'ACTIVE', channelAgreementNo: result.channelAgreementNo, signedAt: result.signedAt };
    case 'TERMINATED': return { status: 'TERMINATED', terminatedAt: result.terminatedAt };
    case 'FAILED': return { status: 'FAILED', failureCode: result.code, failureMessage: result.message };
    default: return null;
  }
}
