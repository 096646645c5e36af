-- Up Migration

-- The refund window (3 months by default, per merchant): refunds are accepted until refund_deadline, set
-- when the trade is paid; past it, a paid trade that has nothing left in escrow becomes TRADE_FINISHED.
alter table merchants add column refund_window_days int check (refund_window_days between 1 and 3650);
alter table trades add column refund_deadline timestamptz;
create index trades_refund_deadline on trades (refund_deadline) where status = 'TRADE_SUCCESS';

-- Down Migration
drop index trades_refund_deadline;
alter table trades drop column refund_deadline;
alter table merchants drop column refund_window_days;
