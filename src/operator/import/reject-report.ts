import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** How much of a rejected line the report keeps: enough to find it, not a copy of the file. */
const RAW_LIMIT = 500;

/**
 * The rejects file: one JSON object per bad row, `{"line", "reason", "raw"}`. Always written,
 * empty when every row was good, so a report left by an earlier run is never mistaken for this
 * one's.
 */
export class RejectReport {
  private readonly out: WriteStream;
  private failure: Error | null = null;
  count = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'w' });
    this.out.on('error', (err) => {
      this.failure = err;
    });
  }

  /** Resolves once the opened file is writable (or rejects with why it is not). */
  async ready(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.out.pending) return;
    // once() rejects if 'error' comes first.
    await once(this.out, 'ready');
  }

  /** Records one bad row; waits when the disk is slower than the reader. */
  async add(line: number, reason: string, raw: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.count += 1;
    const cut = raw.length > RAW_LIMIT ? `${raw.slice(0, RAW_LIMIT)}…` : raw;
    if (!this.out.write(`${JSON.stringify({ line, reason, raw: cut })}\n`)) {
      await once(this.out, 'drain');
    }
  }

  /** Flushes and closes the file; calling it again does nothing. */
  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out.writableEnded) return;
    this.out.end();
    await once(this.out, 'finish');
  }
}
