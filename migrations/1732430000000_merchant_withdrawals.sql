-- Up Migration

-- Merchants' withdrawals (商户提现) of their settlement balance, in a table of their own as seed 001 advises
-- (B-side withdrawal records kept apart from users'). The amount is held (the merchant's pending account ->
-- its withdrawing account) in the transaction that writes the row, then paid out by the channel; success
-- takes the held money out to the channel, failure releases it. The columns follow withdrawals'.
create table merchant_withdrawals (
  withdraw_no text primary key,
  -- the app that asked: out_biz_no is unique per app, like every gateway order number
  app_id text not null references apps,
  out_biz_no text not null,
  merchant_id text not null references merchants,
  currency text not null,
  amount_minor bigint not null check (amount_minor > 0),
  payee_type text not null check (payee_type in ('BANK_CARD', 'ALIPAY_ACCOUNT', 'WECHAT_OPENID')),
  -- masked: the full card number or account goes to the channel only, never into the database
  payee_identity_masked text not null,
  payee_name text,
  remark text,
  -- where merchant_withdraw_status_sync goes: the request's notify_url, else the app's
  notify_url text,
  channel text not null,
  status text not null check (status in ('PROCESSING', 'SUCCESS', 'FAILED')),
  channel_ref text,
  failure_code text,
  failure_message text,
  query_count int not null default 0,
  -- the business day (TONGBAO_TIMEZONE) TONGBAO_MERCHANT_WITHDRAW_DAILY_LIMIT counts it in
  business_date date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (app_id, out_biz_no)
);
-- The daily limit is the merchant's, whichever of its apps asks.
create index merchant_withdrawals_merchant_day on merchant_withdrawals (merchant_id, currency, business_date) where status <> 'FAILED';
create index merchant_withdrawals_processing on merchant_withdrawals (updated_at) where status = 'PROCESSING';
create index merchant_withdrawals_created on merchant_withdrawals (created_at);

-- The list is the union of every type the earlier migrations allow, plus the merchant's.
alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync', 'recharge_status_sync',
                         'withdraw_status_sync', 'agreement_status_sync', 'merchant_withdraw_status_sync'));

-- Down Migration
delete from notification_attempts where notify_id in (select notify_id from notifications where notify_type = 'merchant_withdraw_status_sync');
delete from notifications where notify_type = 'merchant_withdraw_status_sync';
alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync', 'recharge_status_sync',
                         'withdraw_status_sync', 'agreement_status_sync'));
drop table merchant_withdrawals;
