/** How an agreement is shown: in answers, in agreement_status_sync notifications and (as JSON) to operators. */
import type { Client } from '../db/pool.js';
import { findApp } from '../merchant/index.js';
import { enqueueNotification } from '../notify/index.js';
import type { Presenter } from '../trade/index.js';
import { compact } from '../trade/index.js';
import { maskedCardNo } from './cards.js';
import type { AgreementRow, AgreementWithCard } from './repository.js';

export function agreementFields(present: Presenter, agreement: AgreementWithCard): Record<string, string> {
  const amount = (minor: bigint | null) => (minor === null ? undefined : present.amount(minor, agreement.currency));
  return compact({
    agreement_no: agreement.agreement_no,
    out_agreement_no: agreement.out_agreement_no,
    out_user_id: agreement.out_user_id,
    agreement_type: agreement.agreement_type,
    agreement_status: agreement.status,
    channel: agreement.channel,
    channel_agreement_no: agreement.channel_agreement_no ?? undefined,
    card_no: maskedCardNo(agreement.card_last4),
    bank_code: agreement.bank_code,
    bank_name: agreement.bank_name,
    card_type: agreement.card_type,
    card_region: agreement.region,
    currency: agreement.currency,
    single_limit: amount(agreement.single_limit_minor),
    period: agreement.period ?? undefined,
    period_limit: amount(agreement.period_limit_minor),
    period_count: agreement.period_count_limit === null ? undefined : String(agreement.period_count_limit),
    code_expire_time: agreement.status === 'WAIT_CONFIRM' && agreement.code_expires_at ? present.time(agreement.code_expires_at) : undefined,
    gmt_sign: agreement.signed_at ? present.time(agreement.signed_at) : undefined,
    gmt_terminate: agreement.terminated_at ? present.time(agreement.terminated_at) : undefined,
    failure_code: agreement.failure_code ?? undefined,
    failure_reason: agreement.failure_message ?? undefined,
  });
}

/** The row after a transition, with the card fields it had. */
export function withCardOf(row: AgreementRow, card: Pick<AgreementWithCard, 'card_last4' | 'bank_code' | 'bank_name' | 'card_type' | 'region'>): AgreementWithCard {
  return { ...row, card_last4: card.card_last4, bank_code: card.bank_code, bank_name: card.bank_name, card_type: card.card_type, region: card.region };
}

/** agreement_status_sync when an agreement becomes ACTIVE, FAILED or TERMINATED, to its notify_url or the app's. */
export async function notifyAgreement(client: Client, present: Presenter, agreement: AgreementWithCard): Promise<void> {
  await enqueueNotification(client, {
    appId: agreement.app_id,
    notifyType: 'agreement_status_sync',
    tradeNo: null,
    refundNo: null,
    url: agreement.notify_url ?? (await findApp(client, agreement.app_id))?.notify_url ?? null,
    fields: agreementFields(present, agreement),
  });
}
