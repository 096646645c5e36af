import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { AlipayRequestError } from 'alipay-sdk';
import { billUrlFromAnswer, cleanBillCsv, decodeBillText, statementCsvFromZip } from './statement.js';
import { describeFailure, withDeadline } from './transport.js';

// "交易" in GBK, as Alipay's real bill files are written.
const gbkTrade = Uint8Array.from([0xbd, 0xbb, 0xd2, 0xd7]);

describe('bill files', () => {
  it('decodes UTF-8 (without its byte-order mark) and GBK', () => {
    expect(decodeBillText(strToU8('交易'))).toBe('交易');
    expect(decodeBillText(Uint8Array.from([0xef, 0xbb, 0xbf, ...strToU8('a,b')]))).toBe('a,b');
    expect(decodeBillText(gbkTrade)).toBe('交易');
  });

  it('keeps the header and rows, drops comments and padding', () => {
    const text = '#支付宝业务明细查询\r\n#账号：[2088]\r\n支付宝交易号,商户订单号,业务类型\r\n2024001\t,A1\t,交易\r\n\r\n"q,1",x,y \r\n#导出时间：[2024-01-01 00:00:00]\r\n';
    expect(cleanBillCsv(text)).toBe('支付宝交易号,商户订单号,业务类型\n2024001,A1,交易\n"q,1",x,y\n');
    expect(cleanBillCsv('#only comments\n')).toBe('');
  });

  it('takes the detail file out of the zip, whatever the names are encoded in', () => {
    const zipped = zipSync({ '2088_20240101_业务明细.csv': strToU8('h\nr1\n'), '2088_20240101_业务明细(汇总).csv': strToU8('s\n') });
    expect(statementCsvFromZip(zipped)).toBe('h\nr1\n');
    // A GBK name without the UTF-8 flag reaches fflate as Latin-1; "汇总" is BB E3 D7 DC in GBK.
    const gbkSummaryName = Buffer.from([0x73, 0xbb, 0xe3, 0xd7, 0xdc, 0x2e, 0x63, 0x73, 0x76]).toString('latin1');
    expect(statementCsvFromZip(zipSync({ 'd.csv': Uint8Array.from([...gbkTrade, 0x0a]), [gbkSummaryName]: strToU8('s\n') }))).toBe('交易\n');
    expect(() => statementCsvFromZip(zipSync({ 'a.txt': strToU8('x') }))).toThrow('0 detail CSV files');
    expect(() => statementCsvFromZip(strToU8('not a zip'))).toThrow();
  });

  it('needs a download URL to download', () => {
    expect(billUrlFromAnswer({ kind: 'SUCCESS', body: { bill_download_url: 'https://dwbillcenter.alipay.com/x' } })).toEqual({ ok: true, url: 'https://dwbillcenter.alipay.com/x' });
    expect(billUrlFromAnswer({ kind: 'SUCCESS', body: {} }).ok).toBe(false);
    expect(billUrlFromAnswer({ kind: 'REFUSED', code: '40004', subCode: 'isp.bill_not_exist', message: '账单不存在' })).toEqual({ ok: false, reason: 'Alipay has no bill: isp.bill_not_exist 账单不存在' });
  });
});

describe('transport failures', () => {
  it('names timeouts plainly and recognises the SDK\'s errors', () => {
    const timeout = Object.assign(new Error('Request timeout for 400 ms'), { name: 'HttpClientRequestTimeoutError' });
    expect(describeFailure(new AlipayRequestError('HttpClient Request error: timeout', { cause: timeout }))).toBe('timeout');
    expect(describeFailure(new AlipayRequestError('HTTP 请求错误, status: 503'))).toBe('Alipay answered HTTP 503');
    expect(describeFailure(new AlipayRequestError("验签失败，服务端返回的 sign: 'x' 无效"))).toBe('the answer signature does not verify');
    expect(describeFailure(new AlipayRequestError('Response 格式错误'))).toBe('the answer is not a readable Alipay response');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(describeFailure(new AlipayRequestError('HttpClient Request error: connect', { cause: refused }))).toBe('network error: ECONNREFUSED');
    expect(describeFailure(refused)).toBe('network error: ECONNREFUSED');
  });

  it('gives up at the deadline, and not before', async () => {
    await expect(withDeadline(new Promise(() => {}), 20)).rejects.toMatchObject({ name: 'DeadlineError' });
    await expect(withDeadline(Promise.resolve('answer'), 1000)).resolves.toBe('answer');
  });
});
