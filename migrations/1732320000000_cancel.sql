-- Up Migration

-- CANCEL: the full reversal of a trade paid before the day's cut-off (tongbao.trade.cancel); one per trade.
alter table refunds drop constraint refunds_kind_check;
alter table refunds add constraint refunds_kind_check check (kind in ('MERCHANT', 'REVERSAL', 'CANCEL'));

-- Down Migration
delete from refunds where kind = 'CANCEL';
alter table refunds drop constraint refunds_kind_check;
alter table refunds add constraint refunds_kind_check check (kind in ('MERCHANT', 'REVERSAL'));
