-- Up Migration

-- Channel instances: a configured channel has its own name and says which adapter it is built with, so one
-- adapter can be in service several times with different credentials (the platform's own Alipay account and a
-- merchant's). An instance that belongs to a merchant collects straight into that merchant's account: only that
-- merchant's trades may use it, and it can hold no escrow.
alter table channel_configs add column adapter text;
update channel_configs set adapter = channel;
alter table channel_configs alter column adapter set not null;
alter table channel_configs add column merchant_id text references merchants;
alter table channel_configs add constraint channel_configs_name check (channel ~ '^[a-z][a-z0-9-]{1,31}$');

-- How a channel is offered to a merchant or one of its apps (支付路由 settings): the most specific row wins
-- (app, then merchant, then the platform row with neither); a channel without any row is offered with the
-- defaults (no fee, no limits, every product, weight 50). Amounts are minor units of the trade's currency.
create table channel_routes (
  route_id bigserial primary key,
  channel text not null,
  merchant_id text references merchants,
  app_id text references apps,
  enabled boolean not null default true,
  -- null: every product the channel has
  products text[] check (products is null or cardinality(products) between 1 and 32),
  fee_rate_basis_points int not null default 0 check (fee_rate_basis_points between 0 and 10000),
  fee_fixed_minor bigint not null default 0 check (fee_fixed_minor between 0 and 100000000),
  single_limit_minor bigint check (single_limit_minor > 0),
  daily_limit_minor bigint check (daily_limit_minor > 0),
  weight int not null default 50 check (weight between 0 and 100),
  updated_at timestamptz not null default now(),
  check (app_id is null or merchant_id is not null)
);
create unique index channel_routes_scope on channel_routes (channel, coalesce(merchant_id, ''), coalesce(app_id, ''));

-- The fee the route promised for this attempt, and what a daily limit counts: amounts per channel per day.
alter table pay_attempts add column fee_minor bigint check (fee_minor >= 0);
create index pay_attempts_channel_day on pay_attempts (channel, created_at) where status <> 'FAILED';

-- Down Migration
drop index pay_attempts_channel_day;
alter table pay_attempts drop column fee_minor;
drop table channel_routes;
alter table channel_configs drop constraint channel_configs_name;
alter table channel_configs drop column merchant_id;
alter table channel_configs drop column adapter;
