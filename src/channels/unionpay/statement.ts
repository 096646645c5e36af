/**
 * UnionPay's statement files (对账文件). File download (txnType 76, fileType 00) answers with `fileContent`:
 * base64 of the zlib-deflated bytes of a zip holding the settlement day's files. The merchant's general
 * transaction file is named INN{yyMMdd}88ZM_{merId}: one line per transaction, fixed-width fields separated by
 * one space, in the order of `zmFields` (the leading fields of the documented layout; later fields are ignored).
 * These pure functions unpack it and turn it into the CSV Tongbao's reconciliation reads.
 */
import { inflateSync } from 'node:zlib';
import { unzipSync } from 'fflate';

/** The leading fields of a ZM line: name and width in characters. */
export const zmFields = [
  ['txnCode', 3], ['agentInsCode', 11], ['sendInsCode', 11], ['traceNo', 6], ['transmitTime', 10],
  ['accNo', 19], ['txnAmt', 12], ['merCatCode', 4], ['termType', 2], ['queryId', 21], ['payTypeOld', 2],
  ['orderId', 40], ['payCardType', 2], ['origTraceNo', 6], ['origTransmitTime', 10], ['merFee', 13],
  ['settleAmt', 13], ['payType', 2], ['groupMerId', 15], ['txnType', 2], ['txnSubType', 2], ['bizType', 6],
  ['accType', 2], ['billType', 2], ['billNo', 20], ['interactMode', 1], ['origQueryId', 21], ['merId', 15],
] as const;

export type ZmField = (typeof zmFields)[number][0];
export type ZmRecord = Readonly<Record<ZmField, string>>;

/** The width of the known part of a line: every field plus one separating space after each but the last. */
export const zmLineWidth = zmFields.reduce((total, [, width]) => total + width, 0) + zmFields.length - 1;

export const statementHeader = 'settle_date,txn_type,txn_sub_type,biz_type,order_id,query_id,orig_query_id,amount_minor,currency,fee_minor,settle_amount_minor,trace_no,transmit_time';

/** The general transaction file of one merchant and settlement day (yyyy-MM-dd). */
export function zmFileName(settlementDay: string, merId: string): string {
  return `INN${settlementDay.slice(2, 4)}${settlementDay.slice(5, 7)}${settlementDay.slice(8, 10)}88ZM_${merId}`;
}

/** Formats one record as a ZM line (the simulator writes statements with it). */
export function formatZmLine(record: Partial<ZmRecord>): string {
  return zmFields
    .map(([name, width]) => {
      const value = record[name] ?? '';
      if (value.length > width) throw new Error(`ZM field ${name} is wider than ${width}: ${value}`);
      return value.padEnd(width, ' ');
    })
    .join(' ');
}

export function parseZmLine(line: string): ZmRecord | null {
  if (line.length < zmLineWidth) return null;
  const record: Partial<Record<ZmField, string>> = {};
  let offset = 0;
  for (const [name, width] of zmFields) {
    record[name] = line.slice(offset, offset + width).trim();
    offset += width + 1;
  }
  return record as ZmRecord;
}

/** A signed amount written as C (credit to the merchant) or D (debit) and twelve digits. */
export function parseSignedAmount(text: string): bigint | null {
  const match = /^([CD])(\d{12})$/.exec(text);
  if (!match) return null;
  const value = BigInt(match[2]!);
  return match[1] === 'C' ? value : -value;
}

function unsignedAmount(text: string): bigint | null {
  return /^\d{12}$/.test(text) ? BigInt(text) : null;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The CSV of a ZM file's text; throws on a line it cannot read, since a silently dropped line breaks reconciliation. */
export function zmToCsv(text: string, settlementDay: string): string {
  const rows = [statementHeader];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const record = parseZmLine(line);
    const amountMinor = record ? unsignedAmount(record.txnAmt) : null;
    const settleAmountMinor = record ? parseSignedAmount(record.settleAmt) : null;
    // The merchant fee is charged as a debit: a D fee is a positive cost, a C fee (returned on refunds) negative.
    const feeCredit = record ? parseSignedAmount(record.merFee) : null;
    if (!record || amountMinor === null || settleAmountMinor === null || feeCredit === null) {
      throw new Error(`UnionPay statement line ${index + 1} is unreadable`);
    }
    rows.push([
      settlementDay, record.txnType, record.txnSubType, record.bizType, record.orderId, record.queryId, record.origQueryId,
      amountMinor.toString(), 'CNY', (-feeCredit).toString(), settleAmountMinor.toString(), record.traceNo, record.transmitTime,
    ].map(csvCell).join(','));
  });
  return `${rows.join('\n')}\n`;
}

/** Unpacks fileContent and returns the text of the named file; throws when it is missing or unreadable. */
export function extractStatementFile(fileContent: string, fileName: string): string {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(inflateSync(Buffer.from(fileContent, 'base64'))));
  } catch (error) {
    throw new Error(`UnionPay fileContent is not a deflated zip: ${error instanceof Error ? error.message : String(error)}`);
  }
  const entry = Object.entries(files).find(([name]) => name === fileName || name.endsWith(`/${fileName}`));
  if (!entry) throw new Error(`UnionPay statement zip has no ${fileName} (has ${Object.keys(files).slice(0, 10).join(', ')})`);
  // The file is GBK and its widths count bytes; reading each byte as one character keeps every offset right,
  // and the fields Tongbao reads are ASCII.
  return Buffer.from(entry[1]).toString('latin1');
}
