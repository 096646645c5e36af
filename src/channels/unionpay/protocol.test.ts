import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  classifyRespCode,
  instantFromTraceTime,
  moneyFields,
  parseAnswer,
  parseForm,
  parseTxnTime,
  readNotification,
  readQueryAnswer,
  readTransactionAnswer,
  requestProblem,
  settleDateOf,
  settlementDayOf,
  txnTimeOf,
  type Expectation,
} from './protocol.js';
import { MemorySentOrderBook } from './sent-orders.js';
import { signerNameOf, signFields, signingDigestHex, signingString, verifyFieldsSignature, withSignature } from './signature.js';
import { extractStatementFile, formatZmLine, parseSignedAmount, parseZmLine, statementHeader, zmFileName, zmLineWidth, zmToCsv } from './statement.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherPublicKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const merchant = { merId: '777290058110048', certId: '69026276696', channelType: '07' as const };

describe('signMethod 01', () => {
  const fields = { txnTime: '20261122083000', orderId: '20261122000000000001', merId: '777290058110048', accessType: '0', txnAmt: '1999', signature: 'ignored' };

  it('signs the sorted key=value string without the signature field', () => {
    expect(signingString(fields)).toBe('accessType=0&merId=777290058110048&orderId=20261122000000000001&txnAmt=1999&txnTime=20261122083000');
    // Computed independently (Python hashlib) for this exact string.
    expect(signingDigestHex(fields)).toBe('9772c17583b7eec8f416e2d2dc10f2be654378a744138343f4573af53e8ad626');
  });

  it('signs the lowercase hex digest with RSA-SHA256, as the SDKs do', () => {
    const signature = signFields(fields, privateKey);
    const hex = createHash('sha256').update(signingString(fields)).digest('hex');
    expect(verify('sha256', Buffer.from(hex), publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    expect(verifyFieldsSignature({ ...fields, signature }, publicKey)).toBe(true);
  });

  it('refuses a tampered field, another key, or a malformed signature', () => {
    const signed = withSignature(fields, privateKey);
    expect(verifyFieldsSignature({ ...signed, txnAmt: '1998' }, publicKey)).toBe(false);
    expect(verifyFieldsSignature(signed, otherPublicKey)).toBe(false);
    expect(verifyFieldsSignature({ ...signed, signature: 'not base64!' }, publicKey)).toBe(false);
    expect(verifyFieldsSignature({ ...signed, signature: '' }, publicKey)).toBe(false);
  });

  it('reads the signer name as the third part of the CN', () => {
    expect(signerNameOf('041@Z12@中国银联股份有限公司@00000062')).toBe('中国银联股份有限公司');
    expect(signerNameOf('041@Z12@00040000:SIGN@00000062')).toBe('00040000:SIGN');
    expect(signerNameOf('中国银联股份有限公司')).toBe('');
  });
});

describe('encodings', () => {
  it('parses raw answers the way the SDKs do, keeping & and = inside braces and certificates', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB+/a==\n-----END CERTIFICATE-----';
    expect(parseAnswer(`respCode=00&signPubKeyCert=${pem}&reserved={a=1&b=2}&empty=`)).toEqual({ respCode: '00', signPubKeyCert: pem, reserved: '{a=1&b=2}', empty: '' });
    expect(parseAnswer('{respCode=00&respMsg=ok}')).toEqual({ respCode: '00', respMsg: 'ok' });
  });

  it('refuses answers that are not key=value pairs or repeat a key', () => {
    expect(parseAnswer('')).toBeNull();
    expect(parseAnswer('<html>502</html>')).toBeNull();
    expect(parseAnswer('respCode=00&respCode=34')).toBeNull();
    expect(parseAnswer('=00')).toBeNull();
    expect(parseForm('a=1&a=2')).toBeNull();
    expect(parseForm('a=%2B1&b=x+y')).toEqual({ a: '+1', b: 'x y' });
  });

  it('builds money fields with fen, currency 156 and the token payload', () => {
    const fields = moneyFields(merchant, '20261122083000', {
      txnType: '01', bizType: '000301', orderId: 'A20261122', amountMinor: 1999n, backUrl: 'https://tb.example/notify', token: { token: 'tk1', trId: '62000000001' },
    });
    expect(fields).toMatchObject({ version: '5.1.0', signMethod: '01', txnSubType: '01', txnAmt: '1999', currencyCode: '156', tokenPayData: '{trId=62000000001&token=tk1}', channelType: '07' });
    expect(moneyFields(merchant, '20261122083000', { txnType: '04', bizType: '000201', orderId: 'R20261122', amountMinor: 1n, backUrl: 'x', origQryId: 'Q1' }))
      .toMatchObject({ txnSubType: '00', origQryId: 'Q1' });
  });

  it('refuses what cannot be sent', () => {
    expect(requestProblem('A20261122', 100n, 'USD')?.code).toBe('CURRENCY_NOT_SUPPORTED');
    expect(requestProblem('A2026_1122', 100n, 'CNY')?.code).toBe('INVALID_ORDER_ID');
    expect(requestProblem('A20', 100n, 'CNY')?.code).toBe('INVALID_ORDER_ID');
    expect(requestProblem('A20261122', 0n, 'CNY')?.code).toBe('INVALID_AMOUNT');
    expect(requestProblem('A20261122', 1_000_000_000_000n, 'CNY')?.code).toBe('INVALID_AMOUNT');
    expect(requestProblem('A20261122', 999_999_999_999n, 'CNY')).toBeNull();
  });
});

describe('Beijing time', () => {
  it('writes and reads txnTime in UTC+8', () => {
    expect(txnTimeOf(new Date('2026-01-01T16:30:05Z'))).toBe('20260102003005');
    expect(parseTxnTime('20260102003005')?.toISOString()).toBe('2026-01-01T16:30:05.000Z');
    expect(parseTxnTime('20260230120000')).toBeNull();
    expect(parseTxnTime('2026010200300')).toBeNull();
  });

  it('turns the settlement day at 23:00', () => {
    expect(settlementDayOf(new Date('2026-03-10T14:59:59Z'))).toBe('2026-03-10');
    expect(settlementDayOf(new Date('2026-03-10T15:00:00Z'))).toBe('2026-03-11');
    expect(settleDateOf('2026-03-11')).toBe('0311');
  });

  it('gives traceTime the year that puts it in the past', () => {
    const newYearMorning = new Date('2026-01-01T01:00:00Z');
    expect(instantFromTraceTime('1231235959', newYearMorning)?.toISOString()).toBe('2025-12-31T15:59:59.000Z');
    expect(instantFromTraceTime('0101085000', newYearMorning)?.toISOString()).toBe('2026-01-01T00:50:00.000Z');
    expect(instantFromTraceTime('1399000000', newYearMorning)).toBeNull();
  });
});

describe('answers', () => {
  const expected: Expectation = { merId: merchant.merId, orderId: 'A20261122', txnTypes: ['01'], amountMinor: 1999n };
  const echo = { merId: merchant.merId, orderId: 'A20261122', txnType: '01', txnAmt: '1999', currencyCode: '156', txnTime: '20261122083000' };
  const now = new Date('2026-11-22T01:00:00Z');

  it('classifies response codes, never guessing a decline or success', () => {
    expect(['00', '05', '03', '04', '34', '60', '64', '11', '35', '12', '42', '99', 'A9', undefined].map(classifyRespCode)).toEqual([
      'SUCCESS', 'PROCESSING', 'UNCLEAR', 'UNCLEAR', 'NOT_FOUND', 'DECLINED', 'DECLINED', 'DECLINED', 'DECLINED', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN',
    ]);
  });

  it('reads 00 on a transaction as accepted only', () => {
    expect(readTransactionAnswer({ ...echo, respCode: '00', queryId: 'Q1' }, expected)).toEqual({ kind: 'ACCEPTED', queryId: 'Q1' });
    expect(readTransactionAnswer({ ...echo, respCode: '05', queryId: 'Q1' }, expected)).toEqual({ kind: 'PENDING', queryId: 'Q1' });
    expect(readTransactionAnswer({ ...echo, respCode: '60', respMsg: 'no' }, expected)).toEqual({ kind: 'FAILED', code: '60', message: 'no' });
    expect(readTransactionAnswer({ ...echo, respCode: '12' }, expected).kind).toBe('UNKNOWN');
    expect(readTransactionAnswer({ ...echo, respCode: '00', txnAmt: '2000' }, expected)).toMatchObject({ kind: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });
    expect(readTransactionAnswer({ ...echo, respCode: '00', orderId: 'B20261122' }, expected).kind).toBe('UNKNOWN');
    expect(readTransactionAnswer({ ...echo, respCode: '60', orderId: 'B20261122' }, expected).kind).toBe('UNKNOWN');
  });

  it('reads a query by origRespCode and checks the echo', () => {
    const paid = { ...echo, respCode: '00', origRespCode: '00', queryId: 'Q1', traceTime: '1122085959' };
    expect(readQueryAnswer(paid, expected, now)).toEqual({ kind: 'SUCCEEDED', queryId: 'Q1', amountMinor: 1999n, at: new Date('2026-11-22T00:59:59Z') });
    expect(readQueryAnswer({ ...paid, origRespCode: '05' }, expected, now)).toEqual({ kind: 'PENDING', queryId: 'Q1' });
    expect(readQueryAnswer({ ...paid, origRespCode: '64', origRespMsg: 'poor' }, expected, now)).toMatchObject({ kind: 'FAILED', code: '64' });
    expect(readQueryAnswer({ ...paid, origRespCode: 'A9' }, expected, now).kind).toBe('UNKNOWN');
    expect(readQueryAnswer({ ...paid, txnAmt: '1998' }, expected, now).kind).toBe('UNKNOWN');
    expect(readQueryAnswer({ ...paid, currencyCode: '840' }, expected, now)).toMatchObject({ kind: 'UNKNOWN', reason: expect.stringContaining('currency') });
    expect(readQueryAnswer({ ...paid, txnType: '04' }, expected, now).kind).toBe('UNKNOWN');
    expect(readQueryAnswer({ ...paid, merId: '777290058110049' }, expected, now).kind).toBe('UNKNOWN');
    expect(readQueryAnswer({ ...paid, queryId: '' }, expected, now).kind).toBe('UNKNOWN');
    expect(readQueryAnswer({ ...echo, respCode: '34' }, expected, now)).toEqual({ kind: 'NOT_FOUND' });
    expect(readQueryAnswer({ ...echo, respCode: '03' }, expected, now).kind).toBe('UNKNOWN');
  });

  it('reads a callback by its own respCode', () => {
    const callback = { ...echo, respCode: '00', queryId: 'Q1', traceTime: '1122085959' };
    expect(readNotification(callback, now)).toMatchObject({ kind: 'SUCCEEDED', amountMinor: 1999n });
    expect(readNotification({ ...callback, currencyCode: '840' }, now).kind).toBe('UNKNOWN');
    expect(readNotification({ ...callback, respCode: '64', respMsg: 'poor' }, now)).toMatchObject({ kind: 'FAILED', code: '64' });
  });
});

describe('statement files', () => {
  const record = {
    txnCode: 'S22', traceNo: '000123', transmitTime: '1122083000', txnAmt: '000000001999', queryId: '512611220830001234567', orderId: 'A20261122',
    merFee: 'D000000000011', settleAmt: 'C000000001988', txnType: '01', txnSubType: '01', bizType: '000201', merId: merchant.merId,
  };

  it('writes and reads fixed-width lines', () => {
    const line = formatZmLine(record);
    expect(line).toHaveLength(zmLineWidth);
    expect(parseZmLine(`${line} later fields`)).toMatchObject(record);
    expect(parseZmLine('short')).toBeNull();
    expect(() => formatZmLine({ ...record, txnType: '012' })).toThrow();
  });

  it('reads signed amounts', () => {
    expect(parseSignedAmount('C000000001988')).toBe(1988n);
    expect(parseSignedAmount('D000000000011')).toBe(-11n);
    expect(parseSignedAmount('X000000000011')).toBeNull();
  });

  it('unpacks a deflated zip and converts its ZM file to CSV', () => {
    const name = zmFileName('2026-11-22', merchant.merId);
    expect(name).toBe(`INN26112288ZM_${merchant.merId}`);
    const refund = formatZmLine({ ...record, txnType: '04', txnSubType: '00', merFee: 'C000000000003', settleAmt: 'D000000000497', txnAmt: '000000000500' });
    const zipped = zipSync({ [name]: Buffer.from(`${formatZmLine(record)}\r\n${refund}\r\n`, 'latin1'), other: Buffer.from('x') });
    const content = deflateSync(zipped).toString('base64');
    const csv = zmToCsv(extractStatementFile(content, name), '2026-11-22');
    expect(csv.split('\n')).toEqual([
      statementHeader,
      `2026-11-22,01,01,000201,A20261122,512611220830001234567,,1999,CNY,11,1988,000123,1122083000`,
      `2026-11-22,04,00,000201,A20261122,512611220830001234567,,500,CNY,-3,-497,000123,1122083000`,
      '',
    ]);
    expect(() => extractStatementFile(content, 'INN26112388ZM_x')).toThrow(/has no/);
    expect(() => extractStatementFile(Buffer.from('not a zip').toString('base64'), name)).toThrow(/not a deflated zip/);
    expect(() => zmToCsv(`${formatZmLine({ ...record, txnAmt: 'abc' })}\n`, '2026-11-22')).toThrow(/line 1/);
  });
});

describe('bounded memories', () => {
  it('keeps the first txnTime of an order and forgets the oldest past capacity', () => {
    const book = new MemorySentOrderBook(2);
    book.remember('A', { txnTime: '20261122000001', txnType: '01', bizType: '000201' });
    book.remember('A', { txnTime: '20261122000009', txnType: '01', bizType: '000201' });
    expect(book.recall('A')?.txnTime).toBe('20261122000001');
    book.remember('B', { txnTime: '20261122000002', txnType: '01', bizType: '000201' });
    book.remember('C', { txnTime: '20261122000003', txnType: '01', bizType: '000201' });
    expect([book.recall('A'), book.size]).toEqual([undefined, 2]);
  });
});
