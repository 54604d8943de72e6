// A Graph client middleware that writes each attempt of each request to the debug log:
// status, time, Graph's request-id (what Microsoft support asks for) and any Retry-After.
// The retry policy (src/http/retry-policy.ts) sends each attempt through it, so a throttled
// request shows every attempt.
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import type { Logger } from '../log/logger.ts';

export class GraphRequestLog implements Middleware {
  readonly #logger: Logger;
  #next: Middleware | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  setNext(next: Middleware): void {
    this.#next = next;
  }

  async execute(context: Context): Promise<void> {
    const started = Date.now();
    await this.#next?.execute(context);
    const response = context.response;
    if (!response) return;
    const method = context.options?.method ?? 'GET';
    const requestId = response.headers.get('request-id');
    const retryAfter = response.headers.get('retry-after');
    const wait =
      retryAfter !== null && [429, 503, 504].includes(response.status)
        ? `; Graph asks to wait ${retryAfter} s before a retry (Retry-After)`
        : '';
    this.#logger.debug(
      `Graph ${method} ${pathOf(context.request)} answered ${response.status} in ${Date.now() - started} ms${
        requestId ? ` (request-id ${requestId})` : ''
      }${wait}`,
    );
  }
}

/** The resource path only: page links carry opaque skip tokens, and filters carry names. */
function pathOf(request: Context['request']): string {
  const url = typeof request === 'string' ? request : request.url;
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
