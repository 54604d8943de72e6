#!/usr/bin/env node
import { createRequire as __entraWpSyncCreateRequire } from 'node:module';
const require = __entraWpSyncCreateRequire(import.meta.url);

// src/cli/main.ts
import { parseArgs } from "node:util";

// src/errors.ts
var ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  deletesHeld: 4,
  interrupted: 130,
  terminated: 143
};
var ActionableError = class extends Error {
  hint;
  exitCode;
  constructor(message, options = {}) {
    super(message, { cause: options.cause });
    this.name = "ActionableError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
};
function describeError(error) {
  if (error instanceof ActionableError) {
    return error.hint ? `${error.message}
  hint: ${error.hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

// src/version.ts
var productVersion = "0.1.0";
var productName = "entra-wp-sync";

// src/cli/main.ts
var usage = `Usage: ${productName} <command> [options]

Commands:
  run                 sync every job (or --job NAME); --dry-run plans without writing
  check               self-test of config, Entra, Graph and WordPress
  sync-user <id|upn>  sync one user now
  schema              print the JSON Schema of jobs.yaml
  state show|reset    inspect or clear a job's checkpoint

Options:
  -c, --config FILE   jobs.yaml (default ./jobs.yaml)
  --job NAME          only this job
  --out DIR           write the run's reports into DIR
  --dry-run           plan and report, write nothing
  --allow-deletes     approve removals held back by the safety threshold
  --quiet             only warnings and errors
  --log-format FMT    text (default) or json
  -h, --help          this help
  -v, --version       the version

Exit codes: 0 done; 1 failed; 2 bad usage or config; 3 some users failed;
4 deletions held back by the safety threshold; 130/143 interrupted.`;
async function runCli(argv, io) {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`${describeError(error)}

${usage}
`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`${productName} ${productVersion}
`);
    return ExitCode.ok;
  }
  const command = positionals[0];
  if (values.help || command === void 0 || command === "help") {
    io.stdout(`${usage}
`);
    return command === void 0 && !values.help ? ExitCode.usage : ExitCode.ok;
  }
  io.stderr(`Unknown command "${command}".

${usage}
`);
  return ExitCode.usage;
}
function parseCommandLine(argv) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      job: { type: "string" },
      out: { type: "string" },
      "dry-run": { type: "boolean" },
      "allow-deletes": { type: "boolean" },
      quiet: { type: "boolean" },
      "log-format": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" }
    }
  });
}

// src/cli/index.ts
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env
});
