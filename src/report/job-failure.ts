// Why a job failed, as the reports need it: the message and the hint apart, whose side
// failed (so a WordPress error is never blamed on Entra), and where in jobs.yaml a
// configuration problem is written.

/** Whose side the failure is on. */
export type FailureSource = 'configuration' | 'entra' | 'wordpress' | 'other';

/** A line and column in a file, 1-based, as editors and GitHub annotations count them. */
export interface FilePlace {
  file: string;
  line: number;
  column: number;
}

export interface JobFailure {
  message: string;
  hint?: string | undefined;
  source: FailureSource;
  /** Where the setting at fault is written (configuration problems found by the loader or at run time). */
  place?: FilePlace | undefined;
}

/** "jobs.yaml:14:16 jobs[0].roles.default: …": messages about a setting start with where it is written. */
export function placeAtStartOf(message: string): FilePlace | undefined {
  const match = /^(\S+?):(\d+):(\d+)[ :]/.exec(message);
  if (!match) return undefined;
  return { file: match[1]!, line: Number(match[2]), column: Number(match[3]) };
}
