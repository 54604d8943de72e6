// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration syntax, not a mistaken template.
// Reading jobs.yaml: YAML → ${VAR} substitution → schema validation → resolved jobs. Every failure is
// a ConfigError (exit code 2) listing each problem as file:line:column key.path: message.
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ActionableError, ExitCode } from '../errors.ts';
import { ConfigError, type ConfigIssue } from './config-error.ts';
import { type Env, substituteEnv } from './env.ts';
import { closestMatch } from './guards.ts';
import { type LoadedConfig, type ResolvedJob, resolveJobs } from './resolve.ts';
import { jobsFileSchema } from './schema.ts';
import { formatKeyPath, positionOf, toPosition } from './source-position.ts';
import { describeIssues } from './zod-issues.ts';

export type { LoadedConfig, ResolvedJob } from './resolve.ts';

export async function loadConfig(path: string, env: Env = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError(
      [{ file: path, line: 1, column: 1, path: '', message: `the configuration file ${reason}` }],
      {
        hint: 'Pass the file with -c/--config (default ./jobs.yaml); jobs.example.yaml is a commented starting point.',
        cause: error,
      },
    );
  }
  return parseConfigText(text, path, env, dirname(resolvePath(path)));
}

/**
 * Parses and validates configuration text. `fileName` appears in messages; relative paths in the file
 * (state.directory) are resolved from `directory`, by default the directory of `fileName`.
 */
export function parseConfigText(
  text: string,
  fileName: string,
  env: Env = process.env,
  directory: string = dirname(resolvePath(fileName)),
): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const issue = (line: number, column: number, path: string, message: string): ConfigIssue => ({
    file: fileName,
    line,
    column,
    path,
    message,
  });

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, column } = toPosition(lineCounter, error.pos[0]);
        return issue(line, column, '', `YAML syntax error: ${error.message}`);
      }),
      { hint: 'Check the indentation and quoting near that line; quote values that contain ": " or " #".' },
    );
  }
  if (doc.contents === null)
    throw new ConfigError([issue(1, 1, '', 'the file is empty; it needs at least jobs:')]);

  const { issues: envIssues, substituted } = substituteEnv(doc, lineCounter, env);
  if (envIssues.length > 0) {
    throw new ConfigError(
      envIssues.map((problem) =>
        issue(problem.position.line, problem.position.column, formatKeyPath(problem.path), problem.message),
      ),
      { hint: 'Set the variable in the environment, or give a default with ${NAME:-default}.' },
    );
  }

  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  const parsed = jobsFileSchema.safeParse(data);
  if (!parsed.success) {
    const described = describeIssues(parsed.error.issues, { schema: jobsFileSchema, data, substituted });
    throw new ConfigError(
      described.map((problem) => {
        const { line, column } = positionOf(doc, lineCounter, problem.path, problem.at);
        return issue(line, column, formatKeyPath(problem.path), problem.message);
      }),
    );
  }
  const jobs = resolveJobs(parsed.data, directory);
  for (const [index, job] of jobs.entries()) {
    const written: Record<string, string> = {};
    for (const key of runTimeCheckedKeys(job)) {
      const path = ['jobs', index, ...key];
      if (!doc.hasIn(path)) continue;
      const { line, column } = positionOf(doc, lineCounter, path);
      written[formatKeyPath(key)] = `${fileName}:${line}:${column} ${formatKeyPath(path)}`;
    }
    job.writtenAt = written;
  }
  return { file: fileName, directory, jobs };
}

/** Settings only Graph or the site can check (the query, roles), so their errors come at run time. */
function runTimeCheckedKeys(job: ResolvedJob): Array<Array<string | number>> {
  return [
    ['source', 'users', 'filter'],
    ['source', 'users', 'search'],
    ['roles', 'default'],
    ['roles', 'guestRole'],
    ...job.roles.rules.map((_, index) => ['roles', 'rules', index, 'role']),
  ];
}

/** The jobs to run: all of them, or those named with --job (an unknown name is a usage error). */
export function selectJobs(config: LoadedConfig, names?: readonly string[]): ResolvedJob[] {
  if (!names || names.length === 0) return config.jobs;
  const available = config.jobs.map((job) => job.name);
  const unknown = names.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    const list = unknown.map((name) => `"${name}"`).join(', ');
    const suggestion = closestMatch(unknown[0]!, available);
    throw new ActionableError(
      `no job named ${list} in ${config.file}; available jobs: ${available.join(', ')}`,
      {
        hint: suggestion ? `Did you mean --job ${suggestion}?` : 'Pass --job with one of the names above.',
        exitCode: ExitCode.usage,
      },
    );
  }
  return config.jobs.filter((job) => names.includes(job.name));
}
