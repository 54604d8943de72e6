// The one retry policy for the sync's HTTP requests, to Microsoft Graph and to WordPress:
// which failed attempts are worth another, how long to wait before it, and when to stop.
// It knows HTTP, not Graph or WordPress: each client says what its failure was (an answer
// with a status, or no answer) and whether its request may be sent twice. No I/O but the
// clock it is handed, so tests run it without waiting.
import { setTimeout as sleepFor } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** Waiting summed over one request's retries; a retry whose wait would go past it is not made. */
  readonly maxTotalWaitMs: number;
  /** The first backoff when the server names no wait; it doubles with each retry. */
  readonly baseDelayMs: number;
  /** The longest backoff. Retry-After is not shortened: it is capped by maxTotalWaitMs. */
  readonly maxBackoffMs: number;
}

/**
 * 5 attempts (4 retries, as both clients had for resets), at most 60 s of waiting in all.
 * Graph's throttling guidance is to wait as long as Retry-After says; a longer wait than
 * the sync can give fails the request now, and the next run reads it again.
 */
export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  maxTotalWaitMs: 60_000,
  baseDelayMs: 1_000,
  maxBackoffMs: 30_000,
});

/**
 * The default policy with a client's own number of retries (undefined: the default 4) and
 * first backoff.
 */
export function retryPolicyWith(retries: number | undefined, baseDelayMs: number): RetryPolicy {
  return {
    ...defaultRetryPolicy,
    maxAttempts: Math.max(0, retries ?? defaultRetryPolicy.maxAttempts - 1) + 1,
    baseDelayMs,
  };
}

/**
 * Codes (Node's and undici's) of a connection that could not be made or broke off, where
 * another attempt may well get through. Graph's and WordPress's former lists together.
 */
export const transientNetworkErrorCodes: readonly string[] = Object.freeze([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Of those, the failures before any byte of the request was sent (refused, name lookup,
 * no connection in time): the only network failures after which a request that must not
 * arrive twice can be sent again.
 */
export const unsentNetworkErrorCodes: readonly string[] = Object.freeze([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export type AttemptFailure =
  /** The server answered with an error status. */
  | { kind: 'answer'; status: number; retryAfter?: string | null | undefined }
  /** No answer: `error` is the HTTP client's error (its code is looked for along `cause`). */
  | { kind: 'network'; error: unknown };

/** 429 and every 5xx: the union of what Graph and WordPress were retried on. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Whether another attempt may help, and may be made. A request that must not arrive twice
 * (`idempotent: false`) is sent again only when the server provably did not act on it: the
 * connection was never made, or it turned the request away with 429 or 503 and a
 * Retry-After. Any other failure of such a request may have landed.
 */
export function isRetryable(failure: AttemptFailure, idempotent: boolean): boolean {
  if (failure.kind === 'answer') {
    if (idempotent) return isTransientStatus(failure.status);
    return (failure.status === 429 || failure.status === 503) && hasRetryAfter(failure.retryAfter);
  }
  const code = networkErrorCode(failure.error);
  if (!idempotent) return code !== undefined && unsentNetworkErrorCodes.includes(code);
  // Both clients retried a failure without any code (fetch has been seen to drop its cause).
  return code === undefined || transientNetworkErrorCodes.includes(code);
}

/** The first string `code` along the error's `cause` chain. */
export function networkErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Retry-After as milliseconds from `nowMs`: delay-seconds or an HTTP-date; undefined if neither. */
export function retryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form names the month; Date.parse alone would take "-5" for a year.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function hasRetryAfter(value: string | null | undefined): boolean {
  return retryAfterMs(value, 0) !== undefined;
}

/**
 * The wait before retry number `retry` (1 for the first) when the server names none:
 * exponential, times a jitter in [0.5, 1.5) so that parallel requests do not come back
 * together, at most maxBackoffMs.
 */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number): number {
  return Math.min(policy.maxBackoffMs, policy.baseDelayMs * 2 ** (retry - 1) * (0.5 + random()));
}

export type RetryPlan =
  | { retry: true; waitMs: number; fromRetryAfter: boolean }
  /** final: retrying cannot help or is unsafe; attempts or wait: a cap is reached. */
  | { retry: false; because: 'final' | 'attempts' | 'wait'; waitMs?: number };

/** What to do after failed attempt number `attempt`, with `waitedMs` waited so far. */
export function planRetry(
  failure: AttemptFailure,
  state: { attempt: number; waitedMs: number; idempotent: boolean; nowMs: number; random: () => number },
  policy: RetryPolicy,
): RetryPlan {
  if (!isRetryable(failure, state.idempotent)) return { retry: false, because: 'final' };
  if (state.attempt >= policy.maxAttempts) return { retry: false, because: 'attempts' };
  const asked = failure.kind === 'answer' ? retryAfterMs(failure.retryAfter, state.nowMs) : undefined;
  const waitMs = asked ?? backoffMs(state.attempt, policy, state.random);
  if (state.waitedMs + waitMs > policy.maxTotalWaitMs) return { retry: false, because: 'wait', waitMs };
  return { retry: true, waitMs, fromRetryAfter: asked !== undefined };
}

export interface RetryClock {
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {}),
};

export interface PlannedRetry {
  failure: AttemptFailure;
  /** 1 for the first retry. */
  retry: number;
  /** The most retries the policy makes. */
  maxRetries: number;
  waitMs: number;
  /** The wait is the server's Retry-After, not a backoff. */
  fromRetryAfter: boolean;
}

export interface AbandonedRetry {
  failure: AttemptFailure;
  attempts: number;
  because: 'attempts' | 'wait';
  /** The wait the next retry needed (because: 'wait'). */
  waitMs: number | undefined;
  waitedMs: number;
  policy: RetryPolicy;
}

export interface RetryOptions<T> {
  /** Whether the request may arrive twice; see isRetryable. Stated by each caller. */
  idempotent: boolean;
  /** The failure a thrown error stands for; undefined: the error is final and thrown as it is. */
  failureOfError?: (error: unknown) => AttemptFailure | undefined;
  /** The failure an answer stands for; when no retry is left, that answer is returned. */
  failureOfAnswer?: (answer: T) => AttemptFailure | undefined;
  /** Aborting stops the waiting: withRetries then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Before each wait, e.g. for a debug line (see describeRetry). */
  onRetry?: ((retry: PlannedRetry) => void) | undefined;
  /** When a transient failure is not retried because a cap is reached (see describeAbandoned). */
  onAbandoned?: ((abandoned: AbandonedRetry) => void) | undefined;
  clock?: RetryClock | undefined;
  random?: (() => number) | undefined;
}

/** Runs `attempt` until it succeeds, fails for good, or the policy's caps are reached. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions<T>,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const signal = options.signal;
  let waitedMs = 0;
  for (let attemptNumber = 1; ; attemptNumber++) {
    signal?.throwIfAborted();
    let outcome: { answer: T } | { error: unknown };
    let failure: AttemptFailure | undefined;
    try {
      const answer = await attempt();
      failure = options.failureOfAnswer?.(answer);
      if (failure === undefined) return answer;
      outcome = { answer };
    } catch (error) {
      failure = options.failureOfError?.(error);
      if (failure === undefined) throw error;
      outcome = { error };
    }
    const plan = planRetry(
      failure,
      { attempt: attemptNumber, waitedMs, idempotent: options.idempotent, nowMs: clock.now(), random },
      policy,
    );
    if (!plan.retry) {
      if (plan.because !== 'final') {
        options.onAbandoned?.({
          failure,
          attempts: attemptNumber,
          because: plan.because,
          waitMs: plan.waitMs,
          waitedMs,
          policy,
        });
      }
      if ('answer' in outcome) return outcome.answer;
      throw outcome.error;
    }
    options.onRetry?.({
      failure,
      retry: attemptNumber,
      maxRetries: policy.maxAttempts - 1,
      waitMs: plan.waitMs,
      fromRetryAfter: plan.fromRetryAfter,
    });
    try {
      await clock.sleep(plan.waitMs, signal);
    } catch (error) {
      throw signal?.aborted ? signal.reason : error;
    }
    waitedMs += plan.waitMs;
  }
}

/** "answered 503" or "failed (ECONNRESET)". */
export function describeFailure(failure: AttemptFailure): string {
  if (failure.kind === 'answer') return `answered ${failure.status}`;
  const code = networkErrorCode(failure.error);
  const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
  return `failed (${code ?? message})`;
}

/** "answered 503; retry 1 of 4 in 0.3 s", with " (Retry-After)" when the server set the wait. */
export function describeRetry(retry: PlannedRetry): string {
  return `${describeFailure(retry.failure)}; retry ${retry.retry} of ${retry.maxRetries} in ${seconds(retry.waitMs)} s${retry.fromRetryAfter ? ' (Retry-After)' : ''}`;
}

/** Why a transient failure is final all the same. */
export function describeAbandoned(abandoned: AbandonedRetry): string {
  const failure = describeFailure(abandoned.failure);
  if (abandoned.because === 'attempts')
    return `${failure}; no retry left after ${abandoned.attempts} attempts`;
  return `${failure}; not retried: the next wait (${seconds(abandoned.waitMs ?? 0)} s) would take the waiting past ${seconds(abandoned.policy.maxTotalWaitMs)} s (${seconds(abandoned.waitedMs)} s waited)`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
