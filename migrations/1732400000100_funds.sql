-- Up Migration

-- Recharge (充值) is a trade with a purpose: it is paid through a channel like any trade, and only its
-- success posting differs (the user's account is credited instead of the merchant's pending account).
alter table trades
  add column purpose text not null default 'PAY' check (purpose in ('PAY', 'RECHARGE')),
  add column recharge_account_no text references user_accounts,
  -- what the recharge credits to the account: minor units of money (WALLET) or coins (COIN)
  add column recharge_units bigint check (recharge_units > 0),
  add constraint trades_recharge_target check (
    (purpose = 'RECHARGE') = (recharge_account_no is not null and recharge_units is not null)
    and (purpose = 'PAY' or (trade_type = 'INSTANT' and royalty_amount_minor = 0)));

-- Transfers inside Tongbao (tongbao.fund.transfer) and payouts into a user's wallet (tongbao.fund.payout):
-- one posting each, in the transaction that inserts the row, so a row exists exactly when money moved.
create table fund_transfers (
  transfer_no text primary key,
  app_id text not null references apps,
  kind text not null check (kind in ('TRANSFER', 'PAYOUT')),
  out_biz_no text not null,
  payer_type text not null check (payer_type in ('USER', 'MERCHANT', 'PLATFORM')),
  payer_account_no text references user_accounts,
  payer_merchant_id text references merchants,
  payee_account_no text not null references user_accounts,
  -- the ledger currency (an ISO 4217 code or a coin currency)
  currency text not null,
  amount_minor bigint not null check (amount_minor > 0),
  remark text,
  created_at timestamptz not null default now(),
  unique (app_id, kind, out_biz_no),
  check ((payer_type = 'USER') = (payer_account_no is not null)),
  check ((payer_type = 'MERCHANT') = (payer_merchant_id is not null)),
  check (payer_account_no is distinct from payee_account_no)
);
create index fund_transfers_payer on fund_transfers (payer_account_no);
create index fund_transfers_payee on fund_transfers (payee_account_no);

-- Withdrawals (提现/出款) of users' wallets (merchants' withdrawals will get a table of their own, as seed 001
-- advises). The amount is held (available -> frozen) in the transaction that writes the row, then paid
-- out by the channel; success takes the held money out to the channel, failure releases it.
create table withdrawals (
  withdraw_no text primary key,
  app_id text not null references apps,
  out_biz_no text not null,
  user_id text not null references users,
  account_no text not null references user_accounts,
  currency text not null,
  amount_minor bigint not null check (amount_minor > 0),
  payee_type text not null check (payee_type in ('BANK_CARD', 'ALIPAY_ACCOUNT', 'WECHAT_OPENID')),
  -- masked: the full card number or account goes to the channel only, never into the database
  payee_identity_masked text not null,
  payee_name text,
  remark text,
  -- where withdraw_status_sync goes: the request's notify_url, else the app's
  notify_url text,
  channel text not null,
  status text not null check (status in ('PROCESSING', 'SUCCESS', 'FAILED')),
  channel_ref text,
  failure_code text,
  failure_message text,
  query_count int not null default 0,
  -- the business day (TONGBAO_TIMEZONE) the daily limit counts it in
  business_date date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (app_id, out_biz_no)
);
create index withdrawals_account_day on withdrawals (account_no, business_date) where status <> 'FAILED';
create index withdrawals_processing on withdrawals (updated_at) where status = 'PROCESSING';


alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync', 'recharge_status_sync', 'withdraw_status_sync'));

-- Down Migration
delete from notification_attempts where notify_id in (select notify_id from notifications where notify_type in ('recharge_status_sync', 'withdraw_status_sync'));
delete from notifications where notify_type in ('recharge_status_sync', 'withdraw_status_sync');
alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync'));
drop table withdrawals, fund_transfers;
alter table trades drop constraint trades_recharge_target, drop column recharge_units, drop column recharge_account_no, drop column purpose;
