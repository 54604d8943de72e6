// Appends rows to results.jsonl and results.csv as the run goes, so a run that is
// stopped still leaves a record of what it did.

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { type ResultRow, resultColumns } from './result-row.ts';

export class ResultsWriter {
  readonly jsonlPath: string;
  readonly csvPath: string;
  #jsonl: WriteStream | undefined;
  #csv: WriteStream | undefined;
  readonly #directory: string;
  /** Rows written per job and action: what a job did even when it failed before its summary. */
  readonly #counts = new Map<string, Record<string, number>>();

  constructor(directory: string) {
    this.#directory = directory;
    this.jsonlPath = join(directory, 'results.jsonl');
    this.csvPath = join(directory, 'results.csv');
  }

  async open(): Promise<void> {
    await mkdir(this.#directory, { recursive: true });
    this.#jsonl = createWriteStream(this.jsonlPath, { flags: 'a', mode: 0o600 });
    this.#csv = createWriteStream(this.csvPath, { flags: 'a', mode: 0o600 });
    this.#csv.write(stringify([resultColumns as string[]]));
  }

  write(rows: readonly ResultRow[]): void {
    if (!this.#jsonl || !this.#csv) throw new Error('ResultsWriter.open() was not called');
    if (rows.length === 0) return;
    for (const row of rows) {
      const counts = this.#counts.get(row.job) ?? {};
      counts[row.action] = (counts[row.action] ?? 0) + 1;
      this.#counts.set(row.job, counts);
    }
    this.#jsonl.write(`${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    this.#csv.write(stringify(rows.map((row) => resultColumns.map((column) => csvSafe(row[column])))));
  }

  /** The rows written for `job` so far, counted by action. */
  countsOf(job: string): Record<string, number> {
    return { ...this.#counts.get(job) };
  }

  async close(): Promise<void> {
    for (const stream of [this.#jsonl, this.#csv]) {
      if (!stream) continue;
      stream.end();
      await once(stream, 'close');
    }
  }
}

/** Spreadsheets run cells starting with = + - @ as formulas; Entra text must not. */
function csvSafe(value: string | number): string | number {
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(value)) return `'${value}`;
  return value;
}
