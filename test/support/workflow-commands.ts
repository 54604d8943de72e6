// Reads what a step wrote to the runner: workflow commands (::error title=…::message) as
// @actions/core escapes them, so tests assert what the Actions UI shows.
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

const unescapeData = (text: string) => text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (text: string) => unescapeData(text.replace(/%3A/g, ':').replace(/%2C/g, ','));

export function workflowCommands(stdout: string): WorkflowCommand[] {
  return stdout.split('\n').flatMap((line) => {
    const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) return [];
    const properties = Object.fromEntries(
      (match[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const at = pair.indexOf('=');
          return [pair.slice(0, at), unescapeProperty(pair.slice(at + 1))];
        }),
    );
    return [{ command: match[1]!, properties, message: unescapeData(match[3]!) }];
  });
}

/** The annotations GitHub shows on the run page: errors, warnings and notices. */
export function annotations(stdout: string): WorkflowCommand[] {
  return workflowCommands(stdout).filter((command) =>
    ['error', 'warning', 'notice'].includes(command.command),
  );
}

/** `::debug::` lines, which the runner shows only with debug logging on. */
export function debugLines(stdout: string): string[] {
  return workflowCommands(stdout)
    .filter((command) => command.command === 'debug')
    .map((command) => command.message);
}

/** The log lines inside `::group::name` … `::endgroup::`. */
export function groupLines(stdout: string, name: string): string[] | undefined {
  const lines = stdout.split('\n');
  const start = lines.indexOf(`::group::${name}`);
  if (start < 0) return undefined;
  const end = lines.indexOf('::endgroup::', start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}
