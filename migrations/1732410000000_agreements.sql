-- Up Migration

-- Cards a payer bound for an app, identified by the app's own user id (out_user_id). The number is never stored:
-- card_token is an HMAC-SHA256 of it under a key derived from the master key (the same card, the same token),
-- plus its last four digits and what the BIN table says about it.
create table agreement_cards (
  card_id text primary key,
  app_id text not null references apps,
  out_user_id text not null,
  card_token text not null check (card_token ~ '^[0-9a-f]{64}$'),
  card_last4 text not null check (card_last4 ~ '^[0-9]{4}$'),
  bank_code text not null,
  bank_name text not null,
  card_type text not null check (card_type in ('DEBIT', 'CREDIT')),
  region text not null,
  created_at timestamptz not null default now(),
  unique (app_id, out_user_id, card_token)
);

-- Agreements (签约) for quick pay (快捷支付) and withholding (代扣), signed at a channel in two steps.
create table agreements (
  agreement_no text primary key,
  app_id text not null references apps,
  merchant_id text not null references merchants,
  out_agreement_no text not null,
  out_user_id text not null,
  card_id text not null references agreement_cards,
  channel text not null,
  agreement_type text not null check (agreement_type in ('QUICK_PAY', 'WITHHOLDING')),
  -- SIGNING: written before the channel is asked; WAIT_CONFIRM: the bank texted a code; ACTIVE: signed;
  -- UNSIGNING: written before the channel is told; TERMINATED: ended; FAILED: refused or the code step failed
  status text not null check (status in ('SIGNING', 'WAIT_CONFIRM', 'ACTIVE', 'FAILED', 'UNSIGNING', 'TERMINATED')),
  channel_agreement_no text,
  currency text not null,
  -- limits: per payment (both types); per period, in amount and count (withholding)
  single_limit_minor bigint check (single_limit_minor > 0),
  period text check (period in ('DAY', 'MONTH')),
  period_limit_minor bigint check (period_limit_minor > 0),
  period_count_limit int check (period_count_limit > 0),
  code_expires_at timestamptz,
  wrong_code_count int not null default 0,
  failure_code text,
  failure_message text,
  notify_url text,
  signed_at timestamptz,
  terminated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (app_id, out_agreement_no),
  check ((status = 'ACTIVE') <= (channel_agreement_no is not null)),
  check (period is not null or (period_limit_minor is null and period_count_limit is null))
);
-- A card has at most one live agreement of a type per app and channel.
create unique index agreements_one_live_per_card on agreements (app_id, card_id, agreement_type, channel)
  where status in ('SIGNING', 'WAIT_CONFIRM', 'ACTIVE', 'UNSIGNING');

-- Withholding usage per agreement and period (yyyy-MM-dd or yyyy-MM in the gateway zone). A debit reserves its
-- amount here before the channel is called and gives it back if the payment fails, so parallel debits can never
-- exceed the period's limits: the guarded UPDATE that reserves checks them in one statement.
create table agreement_periods (
  agreement_no text not null references agreements,
  period_key text not null,
  reserved_minor bigint not null default 0 check (reserved_minor >= 0),
  reserved_count int not null default 0 check (reserved_count >= 0),
  primary key (agreement_no, period_key)
);

-- One withholding debit per (agreement, out_trade_no): RESERVED while its payment may still succeed,
-- CONSUMED once paid, RELEASED when it failed (the reservation returned to the period).
create table agreement_debits (
  agreement_no text not null references agreements,
  out_trade_no text not null,
  trade_no text references trades,
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  period_key text not null,
  status text not null check (status in ('RESERVED', 'CONSUMED', 'RELEASED')),
  reserved_at timestamptz not null,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (agreement_no, out_trade_no),
  foreign key (agreement_no, period_key) references agreement_periods
);

alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync', 'recharge_status_sync', 'withdraw_status_sync', 'agreement_status_sync'));

-- Down Migration
delete from notification_attempts where notify_id in (select notify_id from notifications where notify_type = 'agreement_status_sync');
delete from notifications where notify_type = 'agreement_status_sync';
alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync', 'recharge_status_sync', 'withdraw_status_sync'));
drop table agreement_debits, agreement_periods, agreements, agreement_cards;
