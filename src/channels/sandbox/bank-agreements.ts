/**
 * The sandbox bank's agreements (签约): the two-step sign with a text-message code, termination, and the check a
 * payment naming an agreement goes through. In memory and journaled to `<dataDir>/agreements.jsonl`, like the
 * payment books. The bank keeps the last four digits of the card and never the number, the expiry or the CVV.
 *
 * The codes the bank "texts" go to an outbox per mobile number that only the sandbox has: tests and demos read
 * it through GET /sandbox/sms/:mobile (agreement-routes.ts). A real bank sends an SMS instead.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { AgreementObject, SignRequestBody } from './agreement-protocol.js';
import { maxCodeAttempts } from './agreement-protocol.js';
import { Journal } from './journal.js';

export interface BankAgreement {
  readonly mchId: string;
  readonly outAgreementNo: string;
  readonly agreementType: string;
  readonly cardLast4: string;
  readonly mobile: string;
  readonly status: 'WAIT_CONFIRM' | 'ACTIVE' | 'FAILED' | 'TERMINATED';
  readonly code: string;
  readonly codeExpiresAtMs: number;
  readonly wrongAttempts: number;
  readonly bankAgreementNo: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly signedAtMs: number | null;
  readonly terminatedAtMs: number | null;
}

export interface SentCode {
  readonly outAgreementNo: string;
  readonly code: string;
  readonly sentAt: string;
}

/** The sign of a card ending in these digits is declined, as the magic amounts decline payments. */
export const declinedCardLast4 = '4004';
/** Texts kept per mobile number in the outbox; older ones are dropped. */
const outboxLimit = 20;

export type SignOutcome = { readonly kind: 'created' | 'existing'; readonly agreement: BankAgreement } | { readonly kind: 'conflict' | 'full' };

export class BankAgreements {
  private readonly byOutNo = new Map<string, BankAgreement>();
  private readonly byBankNo = new Map<string, BankAgreement>();
  private readonly outbox = new Map<string, SentCode[]>();

  private constructor(private readonly journal: Journal<{ agreement: BankAgreement }>, private readonly options: { codeTtlMs: number; maxRecords: number }) {}

  static open(options: { dataDir?: string; codeTtlMs: number; maxRecords: number }): BankAgreements {
    const book = new BankAgreements(Journal.open(options.dataDir, 'agreements.jsonl'), options);
    for (const entry of book.journal.read()) book.apply(entry.agreement);
    return book;
  }

  sign(mchId: string, body: SignRequestBody, nowMs: number): SignOutcome {
    const existing = this.find(mchId, body.out_agreement_no);
    if (existing) {
      const same = existing.cardLast4 === body.card_no.slice(-4) && existing.agreementType === body.agreement_type && existing.mobile === body.mobile;
      return same ? { kind: 'existing', agreement: existing } : { kind: 'conflict' };
    }
    if (this.byOutNo.size >= this.options.maxRecords) return { kind: 'full' };
    const declined = body.card_no.endsWith(declinedCardLast4);
    const agreement: BankAgreement = {
      mchId,
      outAgreementNo: body.out_agreement_no,
      agreementType: body.agreement_type,
      cardLast4: body.card_no.slice(-4),
      mobile: body.mobile,
      status: declined ? 'FAILED' : 'WAIT_CONFIRM',
      code: String(randomInt(0, 1_000_000)).padStart(6, '0'),
      codeExpiresAtMs: nowMs + this.options.codeTtlMs,
      wrongAttempts: 0,
      bankAgreementNo: null,
      errorCode: declined ? 'SIGN_DECLINED' : null,
      errorMessage: declined ? 'the issuing bank declined to sign this card' : null,
      signedAtMs: null,
      terminatedAtMs: null,
    };
    this.record(agreement);
    if (!declined) this.text(agreement, nowMs);
    return { kind: 'created', agreement };
  }

  /** A wrong code counts against the sign; the last allowed wrong code, or an expired code, ends it. */
  confirm(mchId: string, outAgreementNo: string, code: string, nowMs: number): { agreement: BankAgreement; wrongCode: boolean } | null {
    const agreement = this.find(mchId, outAgreementNo);
    if (!agreement) return null;
    if (agreement.status !== 'WAIT_CONFIRM') return { agreement, wrongCode: false };
    if (nowMs > agreement.codeExpiresAtMs) {
      return { agreement: this.record({ ...agreement, status: 'FAILED', errorCode: 'VERIFY_CODE_EXPIRED', errorMessage: 'the verification code expired' }), wrongCode: false };
    }
    if (code !== agreement.code) {
      const wrongAttempts = agreement.wrongAttempts + 1;
      if (wrongAttempts >= maxCodeAttempts) {
        return {
          agreement: this.record({ ...agreement, wrongAttempts, status: 'FAILED', errorCode: 'VERIFY_CODE_LOCKED', errorMessage: `${maxCodeAttempts} wrong verification codes; sign again` }),
          wrongCode: false,
        };
      }
      return { agreement: this.record({ ...agreement, wrongAttempts }), wrongCode: true };
    }
    return { agreement: this.record({ ...agreement, status: 'ACTIVE', bankAgreementNo: `sba_${randomBytes(8).toString('hex')}`, signedAtMs: nowMs }), wrongCode: false };
  }

  /** Ends an agreement, signed or still waiting for its code; terminating twice changes nothing. */
  terminate(mchId: string, outAgreementNo: string, nowMs: number): BankAgreement | null {
    const agreement = this.find(mchId, outAgreementNo);
    if (!agreement) return null;
    if (agreement.status === 'TERMINATED' || agreement.status === 'FAILED') return agreement;
    return this.record({ ...agreement, status: 'TERMINATED', terminatedAtMs: nowMs });
  }

  find(mchId: string, outAgreementNo: string): BankAgreement | undefined {
    return this.byOutNo.get(`${mchId}:${outAgreementNo}`);
  }

  /** Whether a payment may name this agreement: it exists for the merchant and is signed. */
  isActive(mchId: string, bankAgreementNo: string): boolean {
    const agreement = this.byBankNo.get(bankAgreementNo);
    return agreement !== undefined && agreement.mchId === mchId && agreement.status === 'ACTIVE';
  }

  sentCodes(mobile: string): readonly SentCode[] {
    return this.outbox.get(mobile) ?? [];
  }

  private text(agreement: BankAgreement, nowMs: number): void {
    const sent = [...this.sentCodes(agreement.mobile), { outAgreementNo: agreement.outAgreementNo, code: agreement.code, sentAt: new Date(nowMs).toISOString() }];
    this.outbox.set(agreement.mobile, sent.slice(-outboxLimit));
  }

  private record(agreement: BankAgreement): BankAgreement {
    this.journal.append({ agreement });
    this.apply(agreement);
    return agreement;
  }

  private apply(agreement: BankAgreement): void {
    this.byOutNo.set(`${agreement.mchId}:${agreement.outAgreementNo}`, agreement);
    if (agreement.bankAgreementNo) this.byBankNo.set(agreement.bankAgreementNo, agreement);
  }
}

/** The agreement as the bank answers it; the code itself is never in an answer. */
export function agreementObject(agreement: BankAgreement, wrongCode = false): AgreementObject {
  const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
  return {
    out_agreement_no: agreement.outAgreementNo,
    status: agreement.status,
    agreement_type: agreement.agreementType,
    card_last4: agreement.cardLast4,
    ...(agreement.bankAgreementNo ? { bank_agreement_no: agreement.bankAgreementNo } : {}),
    ...(agreement.status === 'WAIT_CONFIRM' ? { code_expire_at: new Date(agreement.codeExpiresAtMs).toISOString(), attempts_left: maxCodeAttempts - agreement.wrongAttempts } : {}),
    ...(wrongCode ? { error_code: 'VERIFY_CODE_INVALID', error_message: 'the verification code is wrong' } : {}),
    ...(agreement.signedAtMs === null ? {} : { signed_at: iso(agreement.signedAtMs) }),
    ...(agreement.terminatedAtMs === null ? {} : { terminated_at: iso(agreement.terminatedAtMs) }),
    ...(agreement.errorCode ? { error_code: agreement.errorCode, error_message: agreement.errorMessage ?? undefined } : {}),
  } as AgreementObject;
}
