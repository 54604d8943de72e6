// Errors a person can act on: what went wrong, about which user/key/URL, and what to do.
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  deletesHeld: 4,
  interrupted: 130,
  terminated: 143,
} as const;

export class ActionableError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ActionableError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ActionableError) {
    return error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
