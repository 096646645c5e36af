import type { TestInstance } from './instance.js';

/** Calls to the agreement methods and reads of their tables, for test/agreements*.test.ts. */
export function agreementClient(t: () => TestInstance, notifyUrl: () => string | undefined = () => undefined) {
  const call = (method: string, biz: Record<string, unknown>, sdk = t().sdk()) => sdk.exec(method, { bizContent: biz }, { validateSign: true }) as Promise<Record<string, any>>;
  let mobiles = 13900000000;
  return {
    call,
    /** A fresh mobile number, so each sign's texted code is easy to find. */
    mobile: () => String((mobiles += 1)),
    sign(outAgreementNo: string, cardNo: string, mobile: string, extra: Record<string, unknown> = {}) {
      const url = notifyUrl();
      return call('tongbao.agreement.sign', {
        out_agreement_no: outAgreementNo, out_user_id: 'user-1', agreement_type: 'QUICK_PAY', channel: 'sandbox', card_no: cardNo,
        card_holder_name: 'Zhang San', mobile, ...(url === undefined ? {} : { notify_url: url }), ...extra,
      });
    },
    confirm: (outAgreementNo: string, code: string) => call('tongbao.agreement.sign.confirm', { out_agreement_no: outAgreementNo, verify_code: code }),
    unsign: (outAgreementNo: string) => call('tongbao.agreement.unsign', { out_agreement_no: outAgreementNo }),
    query: (outAgreementNo: string) => call('tongbao.agreement.query', { out_agreement_no: outAgreementNo }),
    /** The code the sandbox bank texted for this sign, read from its sandbox-only outbox. */
    async code(mobile: string, agreementNo: string): Promise<string> {
      const answer = await (await fetch(`${t().instance.sandboxBankUrl}/sandbox/sms/${mobile}`)).json() as { messages: { out_agreement_no: string; code: string }[] };
      const message = answer.messages.find((sent) => sent.out_agreement_no === agreementNo);
      if (!message) throw new Error(`no code was texted to ${mobile} for ${agreementNo}`);
      return message.code;
    },
    /** Signs and confirms; returns the active agreement's answer. */
    async signed(outAgreementNo: string, cardNo: string, extra: Record<string, unknown> = {}) {
      const mobile = String((mobiles += 1));
      const sent = await this.sign(outAgreementNo, cardNo, mobile, extra);
      if (sent.code !== '10000') throw new Error(`sign failed: ${JSON.stringify(sent)}`);
      const confirmed = await this.confirm(outAgreementNo, await this.code(mobile, sent.agreementNo));
      if (confirmed.code !== '10000') throw new Error(`confirm failed: ${JSON.stringify(confirmed)}`);
      return confirmed;
    },
    pay: (outTradeNo: string, amount: string, agreementNo: string, extra: Record<string, unknown> = {}) =>
      call('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: amount, subject: 'tea', channel: 'sandbox', agreement_no: agreementNo, ...extra }),
    withhold: (outTradeNo: string, amount: string, agreementNo: string, extra: Record<string, unknown> = {}) =>
      call('tongbao.agreement.withhold', { out_trade_no: outTradeNo, total_amount: amount, subject: 'water bill', agreement_no: agreementNo, ...extra }),
    /** Everything a refused call must leave as it was. */
    async snapshot() {
      const [state] = await t().query(`select
        (select count(*) from agreement_cards) as cards, (select count(*) from trades) as trades, (select count(*) from pay_attempts) as attempts,
        (select count(*) from journal_transactions) as postings, (select count(*) from notifications) as notifications,
        (select string_agg(agreement_no || ':' || status || ':' || wrong_code_count, ',' order by agreement_no) from agreements) as agreements,
        (select string_agg(agreement_no || ':' || period_key || ':' || reserved_minor || ':' || reserved_count, ',' order by agreement_no, period_key) from agreement_periods) as periods,
        (select string_agg(agreement_no || ':' || out_trade_no || ':' || status, ',' order by agreement_no, out_trade_no) from agreement_debits) as debits`);
      return state;
    },
  };
}
