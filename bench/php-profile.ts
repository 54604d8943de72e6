// A sampling profile of PHP-FPM while a run is in flight (BENCH_PROFILE=1), with the
// Excimer extension (Debian: php-excimer) when it is installed. A must-use plugin in the
// test bed's own wp-content samples CPU time every millisecond of each request and
// writes collapsed stacks; WordPress's bootstrap before must-use plugins is not seen.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WordPressStackClient } from '../test/support/wordpress/index.ts';

export interface PhpProfileSummary {
  /** CPU seconds sampled (1 ms a sample). */
  sampledSeconds: number;
  /** Where CPU time was spent, by function at the top of the stack. */
  self: Array<{ function: string; share: number }>;
  /** Share of samples in which a function is on the stack (itself or what it calls). */
  inclusive: Array<{ function: string; share: number }>;
}

export interface PhpProfiler {
  stop(): Promise<PhpProfileSummary>;
}

/** Starts profiling every PHP-FPM request; undefined when Excimer is not installed. */
export async function startPhpProfile(stack: WordPressStackClient): Promise<PhpProfiler | undefined> {
  const loaded = await stack.runPhp(0, "echo extension_loaded('excimer') ? 'yes' : 'no';");
  if (loaded.trim() !== 'yes') return undefined;
  const output = join(stack.descriptor.root, 'excimer');
  const plugin = join(stack.descriptor.wordpressDir, 'wp-content', 'mu-plugins', 'bench-excimer.php');
  await mkdir(output, { recursive: true });
  await writeFile(
    plugin,
    `<?php
// Written by bench/php-profile.ts for one profiled run, then removed.
$entra_bench_profiler = new ExcimerProfiler();
$entra_bench_profiler->setPeriod( 0.001 );
$entra_bench_profiler->setEventType( EXCIMER_CPU );
$entra_bench_profiler->start();
register_shutdown_function( function () use ( $entra_bench_profiler ) {
	$entra_bench_profiler->stop();
	file_put_contents( ${JSON.stringify(output)} . '/' . getmypid() . '-' . uniqid() . '.txt', $entra_bench_profiler->getLog()->formatCollapsed() );
} );
`,
  );
  return {
    async stop() {
      await rm(plugin, { force: true });
      const self = new Map<string, number>();
      const inclusive = new Map<string, number>();
      let total = 0;
      for (const file of await readdir(output)) {
        for (const line of (await readFile(join(output, file), 'utf8')).split('\n')) {
          const space = line.lastIndexOf(' ');
          if (space < 0) continue;
          const count = Number(line.slice(space + 1));
          const frames = line.slice(0, space).split(';');
          total += count;
          const top = frames[frames.length - 1]!;
          self.set(top, (self.get(top) ?? 0) + count);
          for (const frame of new Set(frames)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + count);
        }
      }
      await rm(output, { recursive: true, force: true });
      const ranked = (map: Map<string, number>, top: number) =>
        [...map]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([name, count]) => ({ function: name, share: count / Math.max(1, total) }));
      return { sampledSeconds: total / 1000, self: ranked(self, 20), inclusive: ranked(inclusive, 40) };
    },
  };
}
