#!/usr/bin/env node
import { ExitCode } from '../errors.ts';
import { keepYoungGenerationSmall } from '../runtime/heap.ts';
import { runCli } from './main.ts';

// A sync allocates fast and lives in small containers: see src/runtime/heap.ts.
keepYoungGenerationSmall();

// SIGINT/SIGTERM stop new work at the next safe point; the checkpoint is saved and the
// exit code says which signal it was (130/143), as shells and schedulers expect.
const controller = new AbortController();
let signalExit: number | undefined;
for (const [signal, code] of [
  ['SIGINT', ExitCode.interrupted],
  ['SIGTERM', ExitCode.terminated],
] as const) {
  process.on(signal, () => {
    if (signalExit !== undefined) process.exit(code);
    signalExit = code;
    controller.abort();
  });
}

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactiveStream: process.stderr.isTTY ? process.stderr : undefined,
  env: process.env,
  signal: controller.signal,
});
process.exitCode = signalExit ?? exitCode;
