// Child processes of the test bed: spawning with logs, readiness polling, stopping, and
// last-resort cleanup when the owning process exits or is interrupted.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** The last `lines` lines of a log file ('' when missing). */
export function tailFile(path: string, lines = 30): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '';
  }
}

export function describeLog(name: string, path: string, lines = 30): string {
  const tail = tailFile(path, lines);
  return `--- ${name} log ${path} (last lines) ---\n${tail || '(empty)'}`;
}

const hasSetpriv = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Extra log files to show when the service fails. */
  otherLogs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** A long-running service started in its own process group. */
export class Service {
  readonly spec: ServiceSpec;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(spec: ServiceSpec) {
    this.spec = spec;
    const fd = openSync(spec.logFile, 'a');
    // setpriv --pdeathsig: the service gets SIGKILL if we die without cleaning up.
    const [command, args] = hasSetpriv
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args]]
      : [spec.command, spec.args];
    try {
      this.child = spawn(command, args, {
        stdio: ['ignore', fd, fd],
        detached: true,
        env: spec.env ?? process.env,
      });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
      this.child.once('error', () => {
        this.exitCode = -1;
        resolve(-1);
      });
    });
    this.child.unref();
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** An Error carrying the service's log tails. */
  failure(message: string): Error {
    const logs = [this.spec.logFile, ...(this.spec.otherLogs ?? [])]
      .map((path) => describeLog(this.spec.name, path))
      .join('\n');
    return new Error(`${this.spec.name}: ${message}\n${logs}`);
  }

  /** Polls `ready` until it is true; fails early when the service exits. */
  async waitUntil(what: string, ready: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw this.failure(`exited with code ${this.exitCode} before ${what}`);
      if (await probe(ready)) return;
      if (Date.now() > deadline) throw this.failure(`not ${what} after ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  /** `signal` (SIGTERM) to the process group, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 5_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    // Keep the event loop alive until the exit is observed (the child is unref'd otherwise).
    this.child.ref();
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Workers of php-fpm/nginx share the group; make sure none survive the master.
    this.signal('SIGKILL');
  }

  /** Synchronous last-resort kill (exit handlers). */
  kill(): void {
    this.signal('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Group already gone.
    }
  }
}

async function probe(ready: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    return await ready();
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when something accepts connections on the unix socket or TCP port. */
export function canConnect(target: string | number): Promise<boolean> {
  if (typeof target === 'string' && !existsSync(target)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket =
      typeof target === 'number' ? connect({ host: '127.0.0.1', port: target }) : connect({ path: target });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding `input` on stdin. Never rejects on a non-zero exit. */
export function runCommand(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A detached shell that outlives us: when this process dies (even by SIGKILL), it kills the
 * process groups listed in `pgidFile` (one pid per line) and removes `root` (unless keepRoot).
 * setpriv's death signal only reaches the service masters, not their workers.
 */
export function startWatchdog(root: string, pgidFile: string, keepRoot: boolean): ChildProcess {
  const script = `
while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
if [ -f "$2" ]; then for pid in $(cat "$2"); do kill -9 "-$pid" 2>/dev/null; done; fi
if [ "$3" = remove ]; then rm -rf -- "$4"; fi
`;
  const child = spawn(
    'sh',
    ['-c', script, 'entra-wp-watchdog', String(process.pid), pgidFile, keepRoot ? 'keep' : 'remove', root],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  child.unref();
  return child;
}

// ---------------------------------------------------------------------------
// Last-resort cleanup: runs synchronously on exit, SIGINT and SIGTERM.

const cleanups = new Set<() => void>();
let handlersInstalled = false;

function runCleanups(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  // Keep the default behaviour (terminate) unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function registerCleanup(cleanup: () => void): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', runCleanups);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
