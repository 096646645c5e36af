/**
 * The simulated trade bill: a zip holding `<pid>_<yyyyMMdd>_业务明细.csv` and `…_业务明细(汇总).csv`, laid
 * out as Alipay lays them out ('#' comment lines around the table, amounts in yuan, numbers padded with a
 * tab so spreadsheets keep them as text). One deviation: real bills are GBK, these are UTF-8, because Node
 * can decode GBK but not encode it; the adapter reads both.
 */
import { strToU8, zipSync } from 'fflate';
import { beijing, yuan, type Books } from './books.js';

export const billDetailHeader = [
  '支付宝交易号', '商户订单号', '业务类型', '商品名称', '创建时间', '完成时间', '门店编号', '门店名称', '操作员', '终端号', '对方账户',
  '订单金额（元）', '商家实收（元）', '支付宝红包（元）', '集分宝（元）', '支付宝优惠（元）', '商家优惠（元）', '券核销金额（元）', '券名称',
  '商家红包消费金额（元）', '卡消费金额（元）', '退款批次号/请求号', '服务费（元）', '分润（元）', '备注',
].join(',');

interface BillRow {
  readonly tradeNo: string;
  readonly outTradeNo: string;
  readonly kind: '交易' | '退款';
  readonly subject: string;
  readonly createdAt: Date;
  readonly finishedAt: Date;
  readonly orderAmount: string;
  readonly received: string;
  readonly outRequestNo: string;
}

/** The rows of one Beijing day: payments by payment time, refunds (and cancels that refunded) by refund time. */
export function billRows(books: Books, date: string): BillRow[] {
  const rows: BillRow[] = [];
  const onDate = (instant: Date | null): instant is Date => instant !== null && beijing(instant).slice(0, 10) === date;
  for (const order of books.orders.values()) {
    if (!order.tradeNo) continue;
    const base = { tradeNo: order.tradeNo, outTradeNo: order.outTradeNo, subject: order.subject, createdAt: order.createdAt, orderAmount: yuan(order.amountMinor) };
    if (onDate(order.paidAt)) rows.push({ ...base, kind: '交易', finishedAt: order.paidAt, received: yuan(order.amountMinor), outRequestNo: '' });
    for (const refund of order.refunds.values()) {
      if (refund.status === 'SUCCESS' && onDate(refund.finishedAt)) {
        rows.push({ ...base, kind: '退款', finishedAt: refund.finishedAt, received: `-${yuan(refund.amountMinor)}`, outRequestNo: refund.outRequestNo });
      }
    }
  }
  return rows.sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime());
}

function detailCsv(pid: string, date: string, rows: readonly BillRow[], exportedAt: Date): string {
  const lines = [
    '#支付宝业务明细查询',
    `#账号：[${pid}0156]`,
    `#起始日期：[${date} 00:00:00]   终止日期：[${date} 23:59:59]`,
    '#-----------------------------------------业务明细列表----------------------------------------',
    billDetailHeader,
    ...rows.map((row) => [
      `${row.tradeNo}\t`, `${row.outTradeNo}\t`, row.kind, row.subject, beijing(row.createdAt), beijing(row.finishedAt), '', '', '', '', 'buy***@example.com',
      row.orderAmount, row.received, '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00', '0.00', row.outRequestNo, '0.00', '0.00', '',
    ].join(',')),
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：${rows.filter((row) => row.kind === '交易').length}笔，退款合计：${rows.filter((row) => row.kind === '退款').length}笔`,
    `#导出时间：[${beijing(exportedAt)}]`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function summaryCsv(pid: string, date: string, rows: readonly BillRow[]): string {
  const payments = rows.filter((row) => row.kind === '交易').length;
  const refunds = rows.filter((row) => row.kind === '退款').length;
  return [
    '#支付宝业务汇总查询',
    `#账号：[${pid}0156]`,
    `#起始日期：[${date} 00:00:00]   终止日期：[${date} 23:59:59]`,
    '门店编号,门店名称,交易订单总笔数,退款订单总笔数',
    `,合计,${payments},${refunds}`,
    '#-----------------------------------------业务汇总列表结束-----------------------------------',
  ].join('\r\n');
}

export function billZip(books: Books, pid: string, date: string, exportedAt: Date): Uint8Array {
  const rows = billRows(books, date);
  const day = date.replace(/-/g, '');
  return zipSync({
    [`${pid}0156_${day}_业务明细.csv`]: strToU8(detailCsv(pid, date, rows, exportedAt)),
    [`${pid}0156_${day}_业务明细(汇总).csv`]: strToU8(summaryCsv(pid, date, rows)),
  });
}
