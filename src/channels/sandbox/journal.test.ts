import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from './journal.js';

describe('Journal', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tongbao-journal-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads back what it appended, in order', () => {
    const journal = Journal.open<{ n: number }>(dataDir);
    journal.append({ n: 1 });
    journal.append({ n: 2 });
    expect(Journal.open<{ n: number }>(dataDir).read()).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('cuts off a line torn by a crash, so the next append starts clean', () => {
    const file = path.join(dataDir, 'journal.jsonl');
    Journal.open<{ n: number }>(dataDir).append({ n: 1 });
    appendFileSync(file, '{"n":');
    const journal = Journal.open<{ n: number }>(dataDir);
    expect(journal.read()).toEqual([{ n: 1 }]);
    journal.append({ n: 2 });
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('refuses a file damaged in the middle', () => {
    writeFileSync(path.join(dataDir, 'journal.jsonl'), '{"n":1}\nnot json\n{"n":3}\n');
    expect(() => Journal.open(dataDir).read()).toThrow('line 2 is not JSON');
  });

  it('keeps nothing without a data directory', () => {
    const journal = Journal.open<{ n: number }>(undefined);
    journal.append({ n: 1 });
    expect(journal.read()).toEqual([]);
  });
});
