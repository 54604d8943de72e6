// Where a cycle stands after each page. The CLI shows it as a bar on a terminal or as
// occasional lines in CI; the action and tests may ignore it.
export interface ProgressSnapshot {
  job: string;
  page: number;
  /** Users read from Entra in this cycle so far. */
  read: number;
  /** @odata.count of the listing, when Graph gave one. */
  total: number | undefined;
  /** Users written (created, updated, restored…) in this run. */
  written: number;
  failed: number;
}

export interface ProgressReporter {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

export const noProgress: ProgressReporter = { update() {}, stop() {} };
