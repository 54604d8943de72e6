// What the Graph client hides from the retry policy and the error messages, kept: the
// error fetch itself threw (the client's GraphError drops it) and the credential's own error.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  type Context,
  GraphError,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';

/** Per request: the error fetch threw, if it did (the GraphError made of it drops its cause). */
export class SendFailure implements MiddlewareOptions {
  error: unknown = undefined;
}

/**
 * Sits just before the handler that calls fetch, so what it catches failed on the wire;
 * the code behind it (ECONNREFUSED, or a reset) tells whether the request left.
 */
export class SendFailureRecorder implements Middleware {
  #next: Middleware | undefined;

  setNext(next: Middleware): void {
    this.#next = next;
  }

  async execute(context: Context): Promise<void> {
    try {
      await this.#next?.execute(context);
    } catch (error) {
      const record = context.middlewareControl?.getMiddlewareOptions(SendFailure);
      if (record instanceof SendFailure) record.error = error;
      throw error;
    }
  }
}

/**
 * The Graph client turns a credential's error into a GraphError with only its name and
 * message; this keeps the error itself, so a hint it carries reaches the administrator.
 */
export class RememberedFailures implements TokenCredential {
  readonly #credential: TokenCredential;
  #last: Error | undefined;

  constructor(credential: TokenCredential) {
    this.#credential = credential;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    try {
      return await this.#credential.getToken(scopes, options);
    } catch (error) {
      if (error instanceof Error) this.#last = error;
      throw error;
    }
  }

  /** The credential's own error behind the client's GraphError, or the error as it is. */
  behind(error: unknown): unknown {
    const last = this.#last;
    const fromCredential =
      error instanceof GraphError &&
      error.statusCode === -1 &&
      last !== undefined &&
      error.message === last.message;
    return fromCredential ? last : error;
  }
}
