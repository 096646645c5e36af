/**
 * Alipay's trade bill (对账单): alipay.data.dataservice.bill.downloadurl.query answers with a short-lived
 * bill_download_url, which serves a zip of two CSV files, the detail (…业务明细.csv) and its summary
 * (…业务明细(汇总).csv). Alipay writes them in GBK with '#' comment lines above and below the table and pads
 * fields with tabs. Tongbao wants the detail table as plain CSV: header line first, one row per line.
 */
import { unzipSync } from 'fflate';
import type { GatewayAnswer } from './protocol.js';

export const statementDatePattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
/** The bill's files are far smaller; a larger declared size is a broken or hostile archive. */
const maxUnzippedBytes = 256 * 1024 * 1024;

export function billBizContent(date: string): Record<string, string> {
  return { bill_type: 'trade', bill_date: date };
}

export type BillUrlReading = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly reason: string };

export function billUrlFromAnswer(answer: GatewayAnswer): BillUrlReading {
  if (answer.kind === 'UNCERTAIN') return { ok: false, reason: answer.reason };
  if (answer.kind === 'REFUSED') return { ok: false, reason: `Alipay has no bill: ${answer.subCode} ${answer.message}` };
  const url = answer.body.bill_download_url;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return { ok: false, reason: 'Alipay answered without a bill_download_url' };
  return { ok: true, url };
}

/** UTF-8 when the bytes are valid UTF-8 (a byte-order mark is dropped), GBK otherwise, as Alipay writes. */
export function decodeBillText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder('gbk').decode(bytes);
  }
}

/** Zip entry names without the UTF-8 flag arrive byte for byte as Latin-1; Alipay's are GBK. */
function entryName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\u0000-\u00ff]/.test(name) ? name : decodeBillText(Buffer.from(name, 'latin1'));
}

/** The detail table of the bill zip as CSV text; throws when the archive has no single detail file. */
export function statementCsvFromZip(zipBytes: Uint8Array): string {
  const files = unzipSync(zipBytes, { filter: (file) => file.originalSize <= maxUnzippedBytes && /\.csv$/i.test(file.name) });
  const details = Object.entries(files).filter(([name]) => !entryName(name).includes('汇总'));
  if (details.length !== 1) throw new Error(`the bill zip holds ${details.length} detail CSV files, expected 1`);
  return cleanBillCsv(decodeBillText(details[0]![1]));
}

/**
 * Drops the '#' comment lines and blank lines and trims each field of the padding Alipay adds. A line with
 * quotes is kept as written, since its commas may be inside a field.
 */
export function cleanBillCsv(text: string): string {
  const rows: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    rows.push(line.includes('"') ? line.trimEnd() : line.split(',').map((field) => field.trim()).join(','));
  }
  return rows.length === 0 ? '' : `${rows.join('\n')}\n`;
}
