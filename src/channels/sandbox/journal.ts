import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';

/**
 * The sandbox bank's only persistence: an append-only file of JSON lines, each one change (the full new
 * versions of the records it touched). Replaying the lines in order rebuilds the bank, so a restart keeps
 * payments queryable and refundable. Writes are synchronous so a change is in the file before the bank answers.
 */
export class Journal<Entry> {
  private constructor(private readonly file: string | null) {}

  /** A journal in `<dataDir>/<fileName>`, or one that keeps nothing when no directory is given. */
  static open<Entry>(dataDir: string | undefined, fileName = 'journal.jsonl'): Journal<Entry> {
    if (dataDir === undefined) return new Journal<Entry>(null);
    mkdirSync(dataDir, { recursive: true });
    return new Journal<Entry>(path.join(dataDir, fileName));
  }

  /**
   * The entries written so far. A crash can tear only the last line; a torn last line is cut off so the next
   * append starts on a fresh line. An unreadable complete line means the file was damaged, and the bank
   * refuses to start rather than forget payments.
   */
  read(): Entry[] {
    if (this.file === null || !existsSync(this.file)) return [];
    const text = readFileSync(this.file, 'utf8');
    const completeLength = text.lastIndexOf('\n') + 1;
    if (completeLength < text.length) truncateSync(this.file, Buffer.byteLength(text.slice(0, completeLength), 'utf8'));
    const entries: Entry[] = [];
    text.slice(0, completeLength).split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        entries.push(JSON.parse(line) as Entry);
      } catch (error) {
        throw new Error(`${this.file}: line ${index + 1} is not JSON`, { cause: error });
      }
    });
    return entries;
  }

  append(entry: Entry): void {
    if (this.file === null) return;
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`, 'utf8');
  }
}
