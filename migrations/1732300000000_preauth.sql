-- Up Migration

-- Pre-authorization (预授权): a hold on the payer's means of payment, then captured in part or in full
-- (the rest released), released whole, or left to expire. One row per hold, unique per (app_id, out_order_no).
create table preauth_auths (
  auth_no text primary key,
  app_id text not null references apps,
  merchant_id text not null references merchants,
  out_order_no text not null,
  channel text not null,
  -- the channel's number of the hold, known once the freeze succeeded; steps name the hold by it
  channel_auth_ref text,
  currency text not null,
  -- what the freeze holds (total_freeze_amount)
  amount_minor bigint not null check (amount_minor > 0),
  -- what the current completion captured (total_pay_amount); zero unless COMPLETED
  completed_amount_minor bigint not null default 0,
  status text not null check (status in ('PROCESSING', 'AUTHORIZED', 'COMPLETED', 'UNFROZEN', 'EXPIRED', 'FAILED')),
  subject text not null,
  notify_url text,
  -- the paid trade the current completion created
  trade_no text references trades,
  -- after this the hold may no longer be completed; the expiry job releases it
  expires_at timestamptz not null,
  authorized_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (app_id, out_order_no),
  check (completed_amount_minor between 0 and amount_minor),
  check ((status = 'COMPLETED') = (completed_amount_minor > 0 and trade_no is not null))
);
create index preauth_auths_authorized_expiry on preauth_auths (expires_at) where status = 'AUTHORIZED';

-- One row per step on a hold, written PROCESSING before the channel is called.
create table preauth_operations (
  operation_no text primary key,
  auth_no text not null references preauth_auths,
  kind text not null check (kind in ('FREEZE', 'UNFREEZE', 'COMPLETE', 'COMPLETE_CANCEL')),
  -- MERCHANT: asked through the gateway; EXPIRY: Tongbao releases a hold past its expires_at
  initiator text not null default 'MERCHANT' check (initiator in ('MERCHANT', 'EXPIRY')),
  -- the caller's request number: the idempotency key of the step
  out_request_no text not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  status text not null check (status in ('PROCESSING', 'SUCCEEDED', 'FAILED')),
  -- the channel's number of this operation (for COMPLETE, also the number of the captured payment)
  channel_ref text,
  failure_code text,
  failure_message text,
  -- COMPLETE: the trade it created; COMPLETE_CANCEL: the trade it reverses
  trade_no text references trades,
  -- COMPLETE_CANCEL: the completion it reverses
  reverses_operation_no text references preauth_operations,
  query_count int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (auth_no, out_request_no),
  check ((kind = 'COMPLETE_CANCEL') = (reverses_operation_no is not null))
);
-- The in-progress marker: at most one operation of a hold may be at the channel at a time.
create unique index preauth_operations_one_in_flight on preauth_operations (auth_no) where status = 'PROCESSING';

alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync'));

-- Down Migration
alter table notifications drop constraint notifications_notify_type_check;
delete from notification_attempts where notify_id in (select notify_id from notifications where notify_type = 'preauth_status_sync');
delete from notifications where notify_type = 'preauth_status_sync';
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync'));
drop table preauth_operations, preauth_auths;
