// Acting at an exact Graph request instead of after some log line: the fake Graph's
// request hooks hold a page while the test acts on the running sync, or change Graph's
// state just as a page is asked for, so the moment is the same on every run.
import { join } from 'node:path';
import type { FakeGraph } from '../fixtures/fake-graph/index.ts';
import type { CliResult, RunningCli } from './cli-process.ts';
import type { SyncHarness } from './sync-harness.ts';

/** The first request of a /users listing and each of its nextLinks (all have this path). */
const isUsersPage = (path: string) => path === '/v1.0/users';

/**
 * Holds the `nth` request for a page of users at the fake Graph: `arrived` resolves when
 * it comes in, `release()` lets Graph answer. The sync reads pages ahead of its writes, so
 * when the request comes the page or two before it may still be being written: wait for
 * `pagesBeforeDone` to act once they are written and checkpointed.
 */
export function holdUsersPage(
  graph: FakeGraph,
  nth: number,
): { arrived: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let pages = 0;
  graph.faults.hold = (path) => {
    if (!isUsersPage(path) || ++pages !== nth) return undefined;
    arrive();
    return released;
  };
  return { arrived, release };
}

/**
 * Resolves once the run has written and checkpointed every page before the `nth` (its
 * progress line for page nth-1 comes after the save). While page `nth` is held the run
 * cannot go past it, so from then on nothing moves until the test releases it. Needs a
 * progress line after every page: the harness sets ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS=0.
 */
export function pagesBeforeDone(run: Pick<RunningCli, 'waitForOutput'>, nth: number): Promise<void> {
  return nth <= 1 ? Promise.resolve() : run.waitForOutput(new RegExp(`: page ${nth - 1}, `));
}

/** Graph forgets every page token it handed out just as the `nth` page of users is asked for. */
export function expirePageTokensAt(graph: FakeGraph, nth: number): void {
  let pages = 0;
  graph.faults.onRequest = (path) => {
    if (isUsersPage(path) && ++pages === nth) graph.expireSkipTokens();
  };
}

/** The requests for pages of users the fake Graph has logged, in order. */
export const usersPageRequests = (graph: FakeGraph) =>
  graph.requests.filter((request) => isUsersPage(request.path));

export interface SignalAtPage {
  /** The page of users whose request is held until the signal is sent (1-based). */
  page: number;
  signal: 'SIGKILL' | 'SIGTERM';
  /** `run` arguments after the config (default: a fresh --out directory). */
  args?: string[];
  /** What to look at while the page is held, before the signal. */
  whileHeld?: (cli: RunningCli) => Promise<void>;
}

/**
 * Starts `run` and sends it `signal` while Graph holds its request for page `page`, once
 * the pages before it are written and checkpointed; after SIGKILL nothing of that page is,
 * after SIGTERM the run answers it, finishes it and stops. The hold is lifted once the
 * signal is sent (at `signalledAt`), and removed when the run has ended.
 */
let signalledRuns = 0;

export async function runSignalledAtPage(
  harness: SyncHarness,
  stop: SignalAtPage,
): Promise<CliResult & { signalledAt: number }> {
  const held = holdUsersPage(harness.graph, stop.page);
  const args = stop.args ?? ['--out', join(harness.directory, `signalled-${++signalledRuns}`)];
  const cli = harness.start(['run', '-c', harness.configPath, ...args]);
  let signalledAt = Number.NaN;
  try {
    await Promise.race([held.arrived.then(() => pagesBeforeDone(cli, stop.page)), cli.result]);
    await stop.whileHeld?.(cli);
    signalledAt = Date.now();
    cli.child.kill(stop.signal);
  } finally {
    held.release();
  }
  const result = await cli.result;
  harness.graph.faults.hold = undefined;
  return { ...result, signalledAt };
}
