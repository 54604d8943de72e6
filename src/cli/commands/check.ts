// `entra-wp-sync check`: the self-test, one line per check, pass or FAIL with what to do.
import { type CheckLine, selfTest } from '../../check/self-test.ts';

export type { CheckLine } from '../../check/self-test.ts';

export interface CheckCommandOptions {
  configPath: string;
  job: string | undefined;
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
}

export async function checkCommand(options: CheckCommandOptions): Promise<number> {
  const { lines, exitCode } = await selfTest(options);
  options.stdout(renderLines(lines));
  return exitCode;
}

function renderLines(lines: readonly CheckLine[]): string {
  const width = Math.max(...lines.map((line) => line.check.length));
  return `${lines
    .map(
      (line) =>
        `${line.ok ? 'pass' : 'FAIL'}  ${line.check.padEnd(width)}  ${line.detail.replace(/\n\s*/g, ' ')}`,
    )
    .join('\n')}\n`;
}
