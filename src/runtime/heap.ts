// V8 sizes its heap by the machine's memory, not by what a run needs: on a 24 GB host a
// 100,000-user run whose live heap stays under 100 MB lets garbage grow past 400 MB RSS
// before it collects. The tool runs in small containers and CronJobs, so after a page it
// asks for a full collection once the heap has grown well past what was live last time,
// and the young generation is kept at its starting size.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Collect when the used heap is this much above what survived the last collection. */
const growthBytes = 32 * 1024 * 1024;

let collect: (() => void) | undefined;
let liveAfterLast = 0;

/**
 * Keeps the young generation at its starting size. A sync allocates fast (every Graph
 * and WordPress page is parsed, mapped and compared), so V8 grows its semi-spaces to
 * their maximum, which on a 100,000-user run was 115 MB of RSS for objects that live a
 * few milliseconds. The maximum is fixed when the process starts; the growth factor is
 * read at each resize. Costs about 10% more of the tool's CPU time, which is small next
 * to the time it waits for WordPress.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

export function trimHeap(): void {
  const used = process.memoryUsage().heapUsed;
  if (used - liveAfterLast < growthBytes) return;
  collect ??= exposeCollector();
  collect();
  liveAfterLast = process.memoryUsage().heapUsed;
}

function exposeCollector(): () => void {
  // The documented way to reach gc() without starting node with --expose-gc.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
