// Loaded into the CLI with `node --import`: the process kills itself (SIGKILL) at an exact
// moment of saving its state, which a kill -9 from outside hits only by luck:
//   ENTRA_WP_SYNC_TEST_KILL_AT=seen-rewrite       as the seen-users list is opened to be
//                                                 written from scratch (not appended to);
//   ENTRA_WP_SYNC_TEST_KILL_AT=checkpoint-rename  after the seen users are saved, before the
//                                                 new checkpoint replaces the old one;
// at the ENTRA_WP_SYNC_TEST_KILL_NTH-th time (default 1). Each event is appended to the
// file ENTRA_WP_SYNC_TEST_KILL_LOG when set, so a test can count them in a reference run.
import { appendFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const at = process.env.ENTRA_WP_SYNC_TEST_KILL_AT;
const nth = Number(process.env.ENTRA_WP_SYNC_TEST_KILL_NTH ?? 1);
const log = process.env.ENTRA_WP_SYNC_TEST_KILL_LOG;
const seen: Record<string, number> = {};

function event(name: string): void {
  seen[name] = (seen[name] ?? 0) + 1;
  if (log) appendFileSync(log, `${name}\n`);
  if (name === at && seen[name] === nth) process.kill(process.pid, 'SIGKILL');
}

const open = fs.open;
fs.open = (async (...args: Parameters<typeof open>) => {
  const [path, flags] = args;
  // The seen list itself, or a temporary file that will replace it.
  if (/\.seen(\.[^/]*)?$/.test(String(path)) && flags === 'w') {
    const handle = await open(...args);
    event('seen-rewrite');
    return handle;
  }
  return open(...args);
}) as typeof open;

const rename = fs.rename;
fs.rename = (async (from: Parameters<typeof rename>[0], to: Parameters<typeof rename>[1]) => {
  if (String(to).endsWith('.checkpoint.json')) event('checkpoint-rename');
  return rename(from, to);
}) as typeof rename;

// Modules that imported { open, rename } from node:fs/promises see the wrappers too.
syncBuiltinESMExports();
