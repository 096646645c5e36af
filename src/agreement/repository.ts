/** SQL of the agreement domain: cards, agreements, and the withholding periods and debits. One function per query. */
import type { Queryable } from '../db/pool.js';
import type { CardType } from './cards.js';

export type AgreementType = 'QUICK_PAY' | 'WITHHOLDING';
export type AgreementStatus = 'SIGNING' | 'WAIT_CONFIRM' | 'ACTIVE' | 'FAILED' | 'UNSIGNING' | 'TERMINATED';
export type Period = 'DAY' | 'MONTH';
export type DebitStatus = 'RESERVED' | 'CONSUMED' | 'RELEASED';

export interface CardRow {
  card_id: string;
  app_id: string;
  out_user_id: string;
  card_token: string;
  card_last4: string;
  bank_code: string;
  bank_name: string;
  card_type: CardType;
  region: string;
  created_at: Date;
}

export interface AgreementRow {
  agreement_no: string;
  app_id: string;
  merchant_id: string;
  out_agreement_no: string;
  out_user_id: string;
  card_id: string;
  channel: string;
  agreement_type: AgreementType;
  status: AgreementStatus;
  channel_agreement_no: string | null;
  currency: string;
  single_limit_minor: bigint | null;
  period: Period | null;
  period_limit_minor: bigint | null;
  period_count_limit: number | null;
  code_expires_at: Date | null;
  wrong_code_count: number;
  failure_code: string | null;
  failure_message: string | null;
  notify_url: string | null;
  signed_at: Date | null;
  terminated_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** An agreement with its card, as every answer shows it. */
export type AgreementWithCard = AgreementRow & Pick<CardRow, 'card_last4' | 'bank_code' | 'bank_name' | 'card_type' | 'region'>;

export interface DebitRow {
  agreement_no: string;
  out_trade_no: string;
  trade_no: string | null;
  amount_minor: bigint;
  currency: string;
  period_key: string;
  status: DebitStatus;
  reserved_at: Date;
  finished_at: Date | null;
}

export interface NewCard {
  appId: string;
  outUserId: string;
  token: string;
  last4: string;
  bankCode: string;
  bankName: string;
  cardType: CardType;
  region: string;
}

/** The card of this user and token, created on first use. */
export async function upsertCard(client: Queryable, card: NewCard): Promise<CardRow> {
  await client.query(
    `insert into agreement_cards (card_id, app_id, out_user_id, card_token, card_last4, bank_code, bank_name, card_type, region)
     values (next_business_no(), $1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (app_id, out_user_id, card_token) do nothing`,
    [card.appId, card.outUserId, card.token, card.last4, card.bankCode, card.bankName, card.cardType, card.region],
  );
  const { rows } = await client.query<CardRow>('select * from agreement_cards where app_id = $1 and out_user_id = $2 and card_token = $3', [card.appId, card.outUserId, card.token]);
  return rows[0]!;
}

export interface NewAgreement {
  appId: string;
  merchantId: string;
  outAgreementNo: string;
  outUserId: string;
  cardId: string;
  channel: string;
  agreementType: AgreementType;
  currency: string;
  singleLimitMinor: bigint | null;
  period: Period | null;
  periodLimitMinor: bigint | null;
  periodCountLimit: number | null;
  notifyUrl: string | null;
}

/** Inserts the agreement SIGNING unless (app_id, out_agreement_no) exists; undefined when it did. */
export async function insertAgreement(client: Queryable, agreement: NewAgreement): Promise<AgreementRow | undefined> {
  const { rows } = await client.query<AgreementRow>(
    `insert into agreements (agreement_no, app_id, merchant_id, out_agreement_no, out_user_id, card_id, channel, agreement_type, status, currency,
       single_limit_minor, period, period_limit_minor, period_count_limit, notify_url)
     values (next_business_no(), $1, $2, $3, $4, $5, $6, $7, 'SIGNING', $8, $9, $10, $11, $12, $13)
     on conflict (app_id, out_agreement_no) do nothing
     returning *`,
    [agreement.appId, agreement.merchantId, agreement.outAgreementNo, agreement.outUserId, agreement.cardId, agreement.channel, agreement.agreementType,
      agreement.currency, agreement.singleLimitMinor, agreement.period, agreement.periodLimitMinor, agreement.periodCountLimit, agreement.notifyUrl],
  );
  return rows[0];
}

/**
 * Fails the card's earlier signs of this type whose code has expired unconfirmed, so they no longer block a new
 * sign of the same card. Returns them for their notifications.
 */
export async function expireStaleSigns(client: Queryable, appId: string, cardId: string, agreementType: AgreementType, channel: string, at: Date): Promise<AgreementRow[]> {
  const { rows } = await client.query<AgreementRow>(
    `update agreements set status = 'FAILED', failure_code = 'VERIFY_CODE_EXPIRED', failure_message = 'the verification code expired unconfirmed', updated_at = now()
     where app_id = $1 and card_id = $2 and agreement_type = $3 and channel = $4 and status = 'WAIT_CONFIRM' and code_expires_at <= $5
     returning *`,
    [appId, cardId, agreementType, channel, at],
  );
  return rows;
}

export interface AgreementLookup {
  agreementNo?: string | undefined;
  outAgreementNo?: string | undefined;
}

const withCard = `select a.*, c.card_last4, c.bank_code, c.bank_name, c.card_type, c.region
  from agreements a join agreement_cards c on c.card_id = a.card_id`;

/** An app's agreement by agreement_no or out_agreement_no; another app's agreement is never found. */
export async function findAgreement(client: Queryable, appId: string, lookup: AgreementLookup): Promise<AgreementWithCard | undefined> {
  const { rows } = await client.query<AgreementWithCard>(
    `${withCard} where a.app_id = $1 and ($2::text is null or a.agreement_no = $2) and ($3::text is null or a.out_agreement_no = $3)`,
    [appId, lookup.agreementNo ?? null, lookup.outAgreementNo ?? null],
  );
  return rows[0];
}

export async function findAgreementByNo(client: Queryable, agreementNo: string, lock: 'share' | 'update' | null = null): Promise<AgreementWithCard | undefined> {
  const { rows } = await client.query<AgreementWithCard>(`${withCard} where a.agreement_no = $1 ${lock ? `for ${lock} of a` : ''}`, [agreementNo]);
  return rows[0];
}

export interface AgreementChange {
  status: AgreementStatus;
  channelAgreementNo?: string | undefined;
  codeExpiresAt?: Date | undefined;
  failureCode?: string | undefined;
  failureMessage?: string | undefined;
  signedAt?: Date | undefined;
  terminatedAt?: Date | undefined;
}

/** The guarded transition: applied only while the agreement is in `from`; undefined when a racer moved it first. */
export async function transition(client: Queryable, agreementNo: string, from: readonly AgreementStatus[], change: AgreementChange): Promise<AgreementRow | undefined> {
  const { rows } = await client.query<AgreementRow>(
    `update agreements set status = $3,
       channel_agreement_no = coalesce($4, channel_agreement_no), code_expires_at = coalesce($5, code_expires_at),
       failure_code = coalesce($6, failure_code), failure_message = coalesce($7, failure_message),
       signed_at = coalesce($8, signed_at), terminated_at = coalesce($9, terminated_at), updated_at = now()
     where agreement_no = $1 and status = any($2::text[])
     returning *`,
    [agreementNo, from, change.status, change.channelAgreementNo ?? null, change.codeExpiresAt ?? null, change.failureCode ?? null,
      change.failureMessage ?? null, change.signedAt ?? null, change.terminatedAt ?? null],
  );
  return rows[0];
}

export async function countWrongCode(client: Queryable, agreementNo: string): Promise<void> {
  await client.query(`update agreements set wrong_code_count = wrong_code_count + 1, updated_at = now() where agreement_no = $1 and status = 'WAIT_CONFIRM'`, [agreementNo]);
}

// ---------------------------------------------------------------------------------------------------------
// Withholding: periods and debits

export async function findDebit(client: Queryable, agreementNo: string, outTradeNo: string, lock = false): Promise<DebitRow | undefined> {
  const { rows } = await client.query<DebitRow>(
    `select * from agreement_debits where agreement_no = $1 and out_trade_no = $2 ${lock ? 'for update' : ''}`, [agreementNo, outTradeNo],
  );
  return rows[0];
}

/**
 * Adds one debit to the period's usage if the limits allow it, in one guarded statement: parallel debits
 * serialize on the period row, and the loser of a race over the last room finds no row to update.
 */
export async function reservePeriod(
  client: Queryable, agreementNo: string, periodKey: string, amountMinor: bigint, limitMinor: bigint | null, countLimit: number | null,
): Promise<boolean> {
  await client.query('insert into agreement_periods (agreement_no, period_key) values ($1, $2) on conflict do nothing', [agreementNo, periodKey]);
  const { rowCount } = await client.query(
    `update agreement_periods set reserved_minor = reserved_minor + $3, reserved_count = reserved_count + 1
     where agreement_no = $1 and period_key = $2
       and ($4::bigint is null or reserved_minor + $3 <= $4) and ($5::int is null or reserved_count + 1 <= $5)`,
    [agreementNo, periodKey, amountMinor, limitMinor, countLimit],
  );
  return rowCount === 1;
}

export async function releasePeriod(client: Queryable, agreementNo: string, periodKey: string, amountMinor: bigint): Promise<void> {
  await client.query(
    'update agreement_periods set reserved_minor = reserved_minor - $3, reserved_count = reserved_count - 1 where agreement_no = $1 and period_key = $2',
    [agreementNo, periodKey, amountMinor],
  );
}

export async function insertDebit(client: Queryable, debit: { agreementNo: string; outTradeNo: string; amountMinor: bigint; currency: string; periodKey: string; reservedAt: Date }): Promise<void> {
  await client.query(
    `insert into agreement_debits (agreement_no, out_trade_no, amount_minor, currency, period_key, status, reserved_at)
     values ($1, $2, $3, $4, $5, 'RESERVED', $6)`,
    [debit.agreementNo, debit.outTradeNo, debit.amountMinor, debit.currency, debit.periodKey, debit.reservedAt],
  );
}

/** A released debit reserved again, in the current period. */
export async function reReserveDebit(client: Queryable, agreementNo: string, outTradeNo: string, periodKey: string, reservedAt: Date): Promise<void> {
  await client.query(
    `update agreement_debits set status = 'RESERVED', period_key = $3, reserved_at = $4, finished_at = null, updated_at = now()
     where agreement_no = $1 and out_trade_no = $2 and status = 'RELEASED'`,
    [agreementNo, outTradeNo, periodKey, reservedAt],
  );
}

export async function finishDebit(client: Queryable, agreementNo: string, outTradeNo: string, status: 'CONSUMED' | 'RELEASED', tradeNo: string | null): Promise<void> {
  await client.query(
    `update agreement_debits set status = $3, trade_no = coalesce($4, trade_no), finished_at = now(), updated_at = now()
     where agreement_no = $1 and out_trade_no = $2 and status = 'RESERVED'`,
    [agreementNo, outTradeNo, status, tradeNo],
  );
}

export async function noteDebitTrade(client: Queryable, agreementNo: string, outTradeNo: string, tradeNo: string): Promise<void> {
  await client.query('update agreement_debits set trade_no = $3, updated_at = now() where agreement_no = $1 and out_trade_no = $2', [agreementNo, outTradeNo, tradeNo]);
}

// ---------------------------------------------------------------------------------------------------------
// Operators' lists

export interface AgreementFilter {
  appId?: string | undefined;
  outUserId?: string | undefined;
  status?: AgreementStatus | undefined;
}

export async function listAgreements(client: Queryable, filter: AgreementFilter, limit: number, offset: number): Promise<AgreementWithCard[]> {
  const { rows } = await client.query<AgreementWithCard>(
    `${withCard} where ($1::text is null or a.app_id = $1) and ($2::text is null or a.out_user_id = $2) and ($3::text is null or a.status = $3)
     order by a.created_at desc, a.agreement_no desc limit $4 offset $5`,
    [filter.appId ?? null, filter.outUserId ?? null, filter.status ?? null, limit, offset],
  );
  return rows;
}

export async function listCards(client: Queryable, filter: { appId?: string | undefined; outUserId?: string | undefined }, limit: number, offset: number): Promise<CardRow[]> {
  const { rows } = await client.query<CardRow>(
    `select * from agreement_cards where ($1::text is null or app_id = $1) and ($2::text is null or out_user_id = $2)
     order by created_at desc, card_id desc limit $3 offset $4`,
    [filter.appId ?? null, filter.outUserId ?? null, limit, offset],
  );
  return rows;
}

export async function listDebits(client: Queryable, agreementNo: string): Promise<DebitRow[]> {
  const { rows } = await client.query<DebitRow>('select * from agreement_debits where agreement_no = $1 order by created_at, out_trade_no', [agreementNo]);
  return rows;
}

export async function listPeriods(client: Queryable, agreementNo: string): Promise<{ period_key: string; reserved_minor: bigint; reserved_count: number }[]> {
  const { rows } = await client.query<{ period_key: string; reserved_minor: bigint; reserved_count: number }>(
    'select period_key, reserved_minor, reserved_count from agreement_periods where agreement_no = $1 order by period_key', [agreementNo],
  );
  return rows;
}
