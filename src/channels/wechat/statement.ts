/**
 * WeChat Pay's trade bill (交易账单): a header line, one line per payment or refund whose every field starts
 * with a backquote (so spreadsheets keep long numbers as text), then a summary caption and line. Tongbao
 * publishes it as plain CSV: the same header and columns, fields unquoted from their backquotes and quoted
 * RFC 4180 style where needed, the summary left out. Pure functions, shared with the simulator.
 */
import { createHash } from 'node:crypto';

/** The columns of the ALL bill, in WeChat's order and words. */
export const tradeBillColumns = [
  '交易时间', '公众账号ID', '商户号', '特约商户号', '设备号', '微信订单号', '商户订单号', '用户标识', '交易类型', '交易状态',
  '付款银行', '货币种类', '应结订单金额', '代金券金额', '微信退款单号', '商户退款单号', '退款金额', '充值券退款金额', '退款类型', '退款状态',
  '商品名称', '商户数据包', '手续费', '费率', '订单金额', '申请退款金额', '费率备注',
] as const;

export const tradeBillSummaryColumns = ['总交易单数', '应结订单总金额', '退款总金额', '充值券退款总金额', '手续费总金额', '订单总金额', '申请退款总金额'] as const;

export const billDatePattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** WeChat writes one field as "`value"; fields are joined by commas. */
export function billLine(fields: readonly string[]): string {
  return fields.map((field) => `\`${field}`).join(',');
}

/** Splits a backquoted bill line; the separator is ",`" because a field (a product name) may hold a comma. */
export function splitBillLine(line: string): string[] {
  if (!line.startsWith('`')) throw new Error('a bill line must start with a backquote');
  return line.slice(1).split(',`');
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The hex digest WeChat publishes as hash_value for the bill (hash_type SHA1). */
export function billDigest(bytes: Uint8Array, hashType: string): string | null {
  if (hashType.toUpperCase() !== 'SHA1') return null;
  return createHash('sha1').update(bytes).digest('hex');
}

/**
 * Converts a bill file to CSV with a header line. Throws when the file is not shaped like a WeChat bill
 * (a line with another number of fields than the header), since a half-read statement must not reconcile.
 */
export function billToCsv(raw: string): string {
  const lines = raw.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const header = lines.shift();
  if (header === undefined || header.startsWith('`')) throw new Error('the bill has no header line');
  const columns = header.split(',');
  const out = [columns.map(csvField).join(',')];
  for (const line of lines) {
    // The first line without a backquote is the summary caption; the summary follows it.
    if (!line.startsWith('`')) break;
    const fields = splitBillLine(line);
    if (fields.length !== columns.length) throw new Error(`a bill line has ${fields.length} fields, the header ${columns.length}`);
    out.push(fields.map(csvField).join(','));
  }
  return `${out.join('\n')}\n`;
}
