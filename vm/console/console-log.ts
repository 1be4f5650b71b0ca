// Collects a guest's console: appends it to a log file, keeps the text in memory,
// splits it into lines, and reports crash headers and marker lines as they arrive.
import { createWriteStream, type WriteStream } from 'node:fs';
import { type CrashReport, findReports } from './crash-table.js';

export type { CrashReport } from './crash-table.js';

type Listener = (line: string) => void;

export class ConsoleLog {
  private readonly lines: string[] = [];
  private partial = '';
  private readonly file: WriteStream;
  private readonly listeners = new Set<Listener>();

  constructor(readonly path: string) {
    this.file = createWriteStream(path);
  }

  push(chunk: Buffer | string): void {
    const text = chunk.toString();
    this.file.write(text);
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.replace(/\r$/, '');
      this.lines.push(line);
      for (const listener of this.listeners) listener(line);
    }
  }

  onLine(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Resolves when a line matching `pattern` arrives (or has already arrived).
  waitFor(pattern: RegExp): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const off = this.onLine((line) => {
        if (pattern.test(line)) {
          off();
          resolve(line);
        }
      });
    });
  }

  get lineCount(): number {
    return this.lines.length;
  }

  tail(count = 60): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-count).join('\n');
  }

  // Crash reports whose headers arrived from line `from` on, each cut at its own end (see crash-table).
  crashesSince(from: number): CrashReport[] {
    return findReports(this.lines, from);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(resolve));
  }
}
