// withRetries as both clients run it: each retry and each retry given up on is a debug line
// under the request's label ("Graph GET /users answered 503; retry 1 of 4 in 0.3 s").
import type { Logger } from '../log/logger.ts';
import {
  describeAbandoned,
  describeRetry,
  type RetryOptions,
  type RetryPolicy,
  withRetries,
} from './retry-policy.ts';

export interface LoggedRetryOptions<T> extends Omit<RetryOptions<T>, 'onRetry' | 'onAbandoned'> {
  /** Gets the retry lines at debug level; undefined: none are written. */
  logger: Logger | undefined;
}

/** withRetries, with its retries and abandoned retries logged as `${label} ${what happened}`. */
export function withLoggedRetries<T>(
  label: string,
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  { logger, ...options }: LoggedRetryOptions<T>,
): Promise<T> {
  return withRetries(attempt, policy, {
    ...options,
    onRetry: (retry) => logger?.debug(`${label} ${describeRetry(retry)}`),
    onAbandoned: (abandoned) => logger?.debug(`${label} ${describeAbandoned(abandoned)}`),
  });
}
