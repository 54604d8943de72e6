// The retry policy on its own, with a fake clock: nothing here really waits.
import { describe, expect, it } from 'vitest';
import {
  type AbandonedRetry,
  type AttemptFailure,
  backoffMs,
  defaultRetryPolicy,
  describeAbandoned,
  describeRetry,
  isRetryable,
  type PlannedRetry,
  type RetryClock,
  type RetryOptions,
  type RetryPolicy,
  retryAfterMs,
  systemClock,
  transientNetworkErrorCodes,
  unsentNetworkErrorCodes,
  withRetries,
} from '../../src/http/retry-policy.ts';

const start = Date.UTC(2025, 5, 2, 8, 0, 0);

/** A clock whose sleeps return at once and move its time on; it keeps every wait. */
function fakeClock(): RetryClock & { waits: number[] } {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      waits.push(ms);
      now += ms;
    },
  };
}

/** An HTTP failure as the clients throw it: the status and the Retry-After header. */
class HttpFailure extends Error {
  readonly status: number;
  readonly retryAfter: string | undefined;

  constructor(status: number, retryAfter?: string) {
    super(`answered ${status}`);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

function networkError(code: string | undefined): Error {
  // The shape Node's fetch rejects with: the code is on the cause.
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error('socket'), code === undefined ? {} : { code }),
  });
}

function failureOf(error: unknown): AttemptFailure | undefined {
  if (error instanceof HttpFailure)
    return { kind: 'answer', status: error.status, retryAfter: error.retryAfter };
  if (error instanceof TypeError) return { kind: 'network', error };
  return undefined;
}

/** Runs withRetries over `outcomes`, one per attempt (an Error is thrown, anything else returned). */
async function run(
  outcomes: unknown[],
  options: Partial<RetryOptions<unknown>> & { policy?: Partial<RetryPolicy> } = {},
) {
  const clock = fakeClock();
  const retries: PlannedRetry[] = [];
  const abandoned: AbandonedRetry[] = [];
  let attempts = 0;
  const result = await withRetries(
    async () => {
      const outcome = outcomes[Math.min(attempts++, outcomes.length - 1)];
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    { ...defaultRetryPolicy, ...options.policy },
    {
      idempotent: true,
      failureOfError: failureOf,
      clock,
      random: () => 0.5,
      onRetry: (retry) => retries.push(retry),
      onAbandoned: (event) => abandoned.push(event),
      ...options,
    },
  ).then(
    (value): { value?: unknown; error?: unknown } => ({ value }),
    (error: unknown): { value?: unknown; error?: unknown } => ({ error }),
  );
  return { ...result, attempts, waits: clock.waits, retries, abandoned };
}

describe('the default policy', () => {
  it('is at most 5 attempts and 60 s of waiting in all', () => {
    expect(defaultRetryPolicy).toMatchObject({ maxAttempts: 5, maxTotalWaitMs: 60_000 });
  });
});

describe('Retry-After', () => {
  it('is read as seconds or as an HTTP-date, relative to the clock', () => {
    expect(retryAfterMs('3', start)).toBe(3000);
    expect(retryAfterMs(' 0 ', start)).toBe(0);
    expect(retryAfterMs('1.5', start)).toBe(1500);
    expect(retryAfterMs(new Date(start + 7000).toUTCString(), start)).toBe(7000);
    // A date already past: go again now.
    expect(retryAfterMs(new Date(start - 60_000).toUTCString(), start)).toBe(0);
    for (const unusable of [undefined, null, '', 'soon', '-5']) {
      expect(retryAfterMs(unusable, start)).toBeUndefined();
    }
  });

  it('in seconds is waited exactly, without jitter', async () => {
    const outcome = await run([new HttpFailure(429, '2'), new HttpFailure(503, '3'), 'ok']);
    expect(outcome).toMatchObject({ value: 'ok', attempts: 3, waits: [2000, 3000] });
    expect(outcome.retries.map((retry) => retry.fromRetryAfter)).toEqual([true, true]);
  });

  it('as an HTTP-date is waited until that time', async () => {
    const at = new Date(start + 12_000).toUTCString();
    const outcome = await run([new HttpFailure(503, at), 'ok']);
    expect(outcome).toMatchObject({ value: 'ok', waits: [12_000] });
  });

  it('is honoured on a 5xx too, and an unreadable one falls back to the backoff', async () => {
    const outcome = await run([new HttpFailure(502, '4'), new HttpFailure(500, 'later'), 'ok'], {
      policy: { baseDelayMs: 1000 },
    });
    // The second wait is the backoff of retry 2: 2 s times the jitter 1.0 (random 0.5).
    expect(outcome.waits).toEqual([4000, 2000]);
    expect(outcome.retries.map((retry) => retry.fromRetryAfter)).toEqual([true, false]);
  });
});

describe('backoff', () => {
  const policy = { ...defaultRetryPolicy, baseDelayMs: 250, maxBackoffMs: 30_000 };

  it('doubles per retry, times a jitter of at least 0.5 and under 1.5', () => {
    for (let retry = 1; retry <= 6; retry++) {
      const nominal = 250 * 2 ** (retry - 1);
      expect(backoffMs(retry, policy, () => 0)).toBe(nominal * 0.5);
      expect(backoffMs(retry, policy, () => 0.999_999)).toBeLessThan(nominal * 1.5);
      for (let draw = 0; draw < 200; draw++) {
        const wait = backoffMs(retry, policy, Math.random);
        expect(wait).toBeGreaterThanOrEqual(nominal * 0.5);
        expect(wait).toBeLessThan(nominal * 1.5);
      }
    }
  });

  it('is capped at maxBackoffMs', () => {
    expect(backoffMs(12, policy, () => 0.9)).toBe(30_000);
  });

  it('is what withRetries waits when no Retry-After is given, drawn from the random source', async () => {
    const draws = [0, 0.25, 0.75, 0.5];
    const outcome = await run(
      [new HttpFailure(503), new HttpFailure(503), new HttpFailure(504), networkError('ECONNRESET'), 'ok'],
      {
        policy: { baseDelayMs: 100 },
        random: () => draws.shift() ?? 0,
      },
    );
    expect(outcome.value).toBe('ok');
    expect(outcome.waits).toEqual([100 * 0.5, 200 * 0.75, 400 * 1.25, 800 * 1]);
  });
});

describe('caps', () => {
  it('stops after maxAttempts and throws the last failure', async () => {
    const last = new HttpFailure(503);
    const outcome = await run([new HttpFailure(429, '0'), new HttpFailure(503), last], {
      policy: { baseDelayMs: 10 },
    });
    expect(outcome.attempts).toBe(5);
    expect(outcome.error).toBe(last);
    expect(outcome.waits).toHaveLength(4);
    expect(outcome.retries.map((retry) => `${retry.retry} of ${retry.maxRetries}`)).toEqual([
      '1 of 4',
      '2 of 4',
      '3 of 4',
      '4 of 4',
    ]);
    expect(outcome.abandoned).toMatchObject([{ because: 'attempts', attempts: 5 }]);
  });

  it('makes no retry whose wait would take the waiting past maxTotalWaitMs', async () => {
    const outcome = await run([new HttpFailure(429, '25')]);
    // 25 s + 25 s fit in 60 s; a third 25 s would not.
    expect(outcome).toMatchObject({ attempts: 3, waits: [25_000, 25_000] });
    expect(outcome.error).toBeInstanceOf(HttpFailure);
    expect(outcome.abandoned).toMatchObject([{ because: 'wait', waitMs: 25_000, waitedMs: 50_000 }]);
  });

  it('does not retry sooner than a Retry-After longer than the whole budget: it stops at once', async () => {
    const outcome = await run([new HttpFailure(503, '120'), 'ok']);
    expect(outcome).toMatchObject({ attempts: 1, waits: [] });
    expect(outcome.error).toBeInstanceOf(HttpFailure);
  });

  it('gives one attempt with maxAttempts 1 (retries: 0)', async () => {
    const outcome = await run([networkError('ECONNRESET'), 'ok'], { policy: { maxAttempts: 1 } });
    expect(outcome).toMatchObject({ attempts: 1, waits: [] });
  });
});

describe('what is transient', () => {
  it.each([429, 500, 502, 503, 504, 507, 520])('retries a %i', async (status) => {
    const outcome = await run([new HttpFailure(status, '0'), 'ok']);
    expect(outcome).toMatchObject({ value: 'ok', attempts: 2 });
  });

  it.each([400, 401, 403, 404, 409, 410, 412, 422])('does not retry a %i', async (status) => {
    const refusal = new HttpFailure(status, '0');
    const outcome = await run([refusal, 'ok']);
    expect(outcome).toMatchObject({ error: refusal, attempts: 1, waits: [] });
  });

  it('throws at once an error the caller gives no failure for (a refused token)', async () => {
    const error = new Error('AADSTS7000215: Invalid client secret provided.');
    const outcome = await run([error, 'ok']);
    expect(outcome).toMatchObject({ error, attempts: 1 });
  });

  it.each(transientNetworkErrorCodes)('retries a network failure %s', async (code) => {
    const outcome = await run([networkError(code), 'ok'], { policy: { baseDelayMs: 0 } });
    expect(outcome).toMatchObject({ value: 'ok', attempts: 2 });
  });

  it.each(['ENOTFOUND', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UND_ERR_ABORTED'])(
    'does not retry %s, which another attempt would meet again',
    async (code) => {
      const outcome = await run([networkError(code), 'ok']);
      expect(outcome).toMatchObject({ attempts: 1 });
    },
  );

  it('retries a network failure without any code, as both clients did', async () => {
    const outcome = await run([networkError(undefined), 'ok'], { policy: { baseDelayMs: 0 } });
    expect(outcome).toMatchObject({ value: 'ok', attempts: 2 });
  });

  it('retries an answer marked as a failure and returns the last one when retries run out', async () => {
    const answers = [{ status: 502 }, { status: 502 }, { status: 200 }];
    const retried = await run(answers, {
      failureOfAnswer: (answer) => {
        const { status } = answer as { status: number };
        return status >= 400 ? { kind: 'answer', status } : undefined;
      },
      policy: { baseDelayMs: 0 },
    });
    expect(retried).toMatchObject({ value: { status: 200 }, attempts: 3 });
    const exhausted = await run([{ status: 503 }], {
      failureOfAnswer: (answer) => ({ kind: 'answer', status: (answer as { status: number }).status }),
      policy: { baseDelayMs: 0, maxAttempts: 2 },
    });
    expect(exhausted).toMatchObject({ value: { status: 503 }, attempts: 2 });
  });
});

describe('a request that must not arrive twice (idempotent: false)', () => {
  const answer = (status: number, retryAfter?: string): AttemptFailure => ({
    kind: 'answer',
    status,
    retryAfter,
  });
  const network = (code: string | undefined): AttemptFailure => ({
    kind: 'network',
    error: networkError(code),
  });

  it('is sent again only when the server provably did not act on it', () => {
    expect(isRetryable(answer(429, '1'), false)).toBe(true);
    expect(isRetryable(answer(503, '0'), false)).toBe(true);
    expect(isRetryable(answer(503, new Date(start).toUTCString()), false)).toBe(true);
    for (const code of unsentNetworkErrorCodes) expect(isRetryable(network(code), false)).toBe(true);
  });

  it('is not sent again after a failure it may have survived', () => {
    expect(isRetryable(answer(503), false)).toBe(false);
    expect(isRetryable(answer(429), false)).toBe(false);
    expect(isRetryable(answer(500, '1'), false)).toBe(false);
    expect(isRetryable(answer(502, '1'), false)).toBe(false);
    expect(isRetryable(answer(504, '1'), false)).toBe(false);
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT']) {
      expect(isRetryable(network(code), false)).toBe(false);
    }
    expect(isRetryable(network(undefined), false)).toBe(false);
  });

  it('is retried by withRetries on a refused connection, not on a reset', async () => {
    const refused = await run([networkError('ECONNREFUSED'), 'sent'], {
      idempotent: false,
      policy: { baseDelayMs: 0 },
    });
    expect(refused).toMatchObject({ value: 'sent', attempts: 2 });
    const reset = await run([networkError('ECONNRESET'), 'sent'], { idempotent: false });
    expect(reset).toMatchObject({ attempts: 1 });
  });
});

describe('abort', () => {
  it('stops a wait under way and rejects with the reason', async () => {
    const controller = new AbortController();
    let sleeping!: () => void;
    const asleep = new Promise<void>((resolve) => {
      sleeping = resolve;
    });
    const clock: RetryClock = {
      now: () => start,
      sleep: (_ms, signal) =>
        new Promise<void>((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(new Error('woken')), { once: true });
          sleeping();
        }),
    };
    let attempts = 0;
    const running = withRetries(
      async () => {
        attempts++;
        throw new HttpFailure(503, '30');
      },
      defaultRetryPolicy,
      { idempotent: true, failureOfError: failureOf, signal: controller.signal, clock },
    );
    await asleep;
    const reason = new Error('the run was cancelled');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(attempts).toBe(1);
  });

  it('makes no attempt once aborted', async () => {
    let attempts = 0;
    const reason = new Error('cancelled');
    await expect(
      withRetries(
        async () => {
          attempts++;
          return 'ok';
        },
        defaultRetryPolicy,
        { idempotent: true, signal: AbortSignal.abort(reason), clock: fakeClock() },
      ),
    ).rejects.toBe(reason);
    expect(attempts).toBe(0);
  });

  it('stops the real clock too: a 30 s Retry-After aborted at once does not hold the caller', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const started = performance.now();
    const running = withRetries(
      async () => {
        throw new HttpFailure(429, '30');
      },
      defaultRetryPolicy,
      {
        idempotent: true,
        failureOfError: failureOf,
        signal: controller.signal,
        clock: systemClock,
        onRetry: () => controller.abort(reason),
      },
    );
    await expect(running).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('log wording', () => {
  it('says what failed, which retry it is and how long it waits', async () => {
    const outcome = await run(
      [new HttpFailure(503), new HttpFailure(429, '2'), networkError('UND_ERR_SOCKET'), 'ok'],
      {
        policy: { baseDelayMs: 250 },
        random: () => 0.7,
      },
    );
    expect(outcome.retries.map(describeRetry)).toEqual([
      'answered 503; retry 1 of 4 in 0.3 s',
      'answered 429; retry 2 of 4 in 2.0 s (Retry-After)',
      'failed (UND_ERR_SOCKET); retry 3 of 4 in 1.2 s',
    ]);
  });

  it('says why a transient failure was not retried', async () => {
    const exhausted = await run([new HttpFailure(503, '0')]);
    expect(exhausted.abandoned.map(describeAbandoned)).toEqual([
      'answered 503; no retry left after 5 attempts',
    ]);
    const tooLong = await run([new HttpFailure(429, '90')]);
    expect(tooLong.abandoned.map(describeAbandoned)).toEqual([
      'answered 429; not retried: the next wait (90.0 s) would take the waiting past 60.0 s (0.0 s waited)',
    ]);
  });
});
