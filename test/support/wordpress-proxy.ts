// A loopback HTTP proxy in front of a WordPress site, for tests that need to see, count,
// answer or break what the sync sends: seeded random 502s and connection resets, struck
// before WordPress sees a request or after it has handled it (the answer is lost), and
// hooks that decide per request.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mulberry32 } from '../fixtures/fake-graph/faults.ts';

export interface ProxiedRequest {
  /** 1-based, in order of arrival. */
  number: number;
  method: string;
  /** Path and query as sent. */
  url: string;
  /** The REST route: /wp/v2/users for /wp-json/wp/v2/users?… and for ?rest_route=/wp/v2/users. */
  route: string;
  body: string;
  /** What the client got: a status, or 'reset'; undefined while in flight. */
  outcome?: number | 'reset';
  /** Status WordPress answered with, when the request reached it and it answered. */
  upstreamStatus?: number;
  /** The random fault this request got, if any, and when. */
  fault?: { kind: '502' | 'reset'; timing: 'before' | 'after' };
}

/** A made-up answer the proxy sends instead of WordPress's. */
export interface ProxyAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Before WordPress sees the request: let it through, cut the connection, or answer it here. */
export type BeforeVerdict = 'forward' | 'reset' | ProxyAnswer;
/** After WordPress has handled the request: pass its answer on, or lose it (reset) or replace it. */
export type AfterVerdict = 'relay' | 'reset' | ProxyAnswer;

export interface WordPressProxyOptions {
  /** Seed of the random faults, so that a run is reproducible (default 1). */
  seed?: number;
  /** Share of requests answered 502 Bad Gateway (0–1). */
  rate502?: number;
  /** Share of requests whose connection is reset (0–1). */
  rateReset?: number;
  /**
   * When a random fault strikes: before WordPress sees the request, after it handled it
   * (the write landed, the answer is lost), or either by a seeded coin (default).
   */
  faultTiming?: 'before' | 'after' | 'either';
  /** Which requests random faults may hit (default: all). */
  faultable?: (request: ProxiedRequest) => boolean;
  /** May hold the request (return a promise) while the test changes the world behind the proxy. */
  before?: (request: ProxiedRequest) => BeforeVerdict | undefined | Promise<BeforeVerdict | undefined>;
  /** Sees WordPress's answer (status and body as text) before the client does. */
  after?: (request: ProxiedRequest, upstreamStatus: number, body: string) => AfterVerdict | undefined;
}

export interface WordPressProxy {
  url: string;
  requests: ProxiedRequest[];
  count(filter?: (request: ProxiedRequest) => boolean): number;
  /** Random faults injected so far. */
  faults(): { status502: number; resets: number };
  /**
   * Resolves once no request is in flight: WordPress has finished whatever it was sent,
   * even for a client that is gone (a killed sync's last writes still land).
   */
  settled(): Promise<void>;
  /** Changes the random fault rates from now on (e.g. 0 to stop them). */
  setRates(rates: { rate502?: number; rateReset?: number }): void;
  close(): Promise<void>;
}

/** Requests that create, change or delete users: single routes and /batch/v1. */
export function writesUsers(request: Pick<ProxiedRequest, 'method' | 'route'>): boolean {
  if (request.method === 'GET' || request.method === 'OPTIONS' || request.method === 'HEAD') return false;
  return request.route.startsWith('/wp/v2/users') || request.route === '/batch/v1';
}

/** Creates, alone or inside a /batch/v1 request. */
export function createsUsers(request: Pick<ProxiedRequest, 'method' | 'route' | 'body'>): boolean {
  if (request.method !== 'POST') return false;
  if (request.route === '/wp/v2/users') return true;
  return request.route === '/batch/v1' && /"path":"\/wp\/v2\/users\?/.test(request.body);
}

export async function startWordPressProxy(
  target: string,
  options: WordPressProxyOptions = {},
): Promise<WordPressProxy> {
  const upstream = new URL(target);
  const random = mulberry32(options.seed ?? 1);
  let rate502 = options.rate502 ?? 0;
  let rateReset = options.rateReset ?? 0;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let status502 = 0;
  let resets = 0;

  const randomFault = (request: ProxiedRequest): ProxiedRequest['fault'] => {
    if (rate502 + rateReset <= 0 || (options.faultable && !options.faultable(request))) return undefined;
    const roll = random();
    const timingRoll = random();
    const timing =
      options.faultTiming === 'before' || options.faultTiming === 'after'
        ? options.faultTiming
        : timingRoll < 0.5
          ? 'before'
          : 'after';
    if (roll < rateReset) return { kind: 'reset', timing };
    if (roll < rateReset + rate502) return { kind: '502', timing };
    return undefined;
  };

  let inFlight = 0;
  let whenSettled: Array<() => void> = [];
  // What a test's before/after hook threw (an expect inside one): the client only sees a
  // reset, which it retries, so settled() and close() throw it instead.
  const hookErrors: unknown[] = [];
  const throwHookError = () => {
    if (hookErrors.length > 0) throw hookErrors[0];
  };
  const server = createServer((incoming, outgoing) => {
    inFlight++;
    void handle(incoming, outgoing)
      .catch((error: unknown) => {
        hookErrors.push(error);
        outgoing.socket?.destroy();
      })
      .finally(() => {
        if (--inFlight > 0) return;
        for (const resolve of whenSettled) resolve();
        whenSettled = [];
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    // A client killed while sending (kill -9 in the crash suite) leaves half a request.
    const body = await readBody(incoming).catch(() => undefined);
    if (!body) {
      outgoing.socket?.destroy();
      return;
    }
    const url = incoming.url ?? '/';
    const request: ProxiedRequest = {
      number: requests.length + 1,
      method: incoming.method ?? 'GET',
      url,
      route: routeOf(url),
      body: body.toString('utf8'),
    };
    requests.push(request);
    const reset = () => {
      request.outcome = 'reset';
      outgoing.socket?.destroy();
    };
    const answer = (made: ProxyAnswer) => {
      request.outcome = made.status;
      const text = made.body === undefined ? '' : JSON.stringify(made.body);
      outgoing.writeHead(made.status, { 'content-type': 'application/json', ...made.headers });
      outgoing.end(text);
    };
    const badGateway = () => {
      status502++;
      request.outcome = 502;
      outgoing.writeHead(502, { 'content-type': 'text/html' });
      outgoing.end('<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>');
    };
    const fault = randomFault(request);
    if (fault) request.fault = fault;

    const verdict = (await options.before?.(request)) ?? 'forward';
    if (verdict === 'reset') return reset();
    if (verdict !== 'forward') return answer(verdict);
    if (fault?.timing === 'before') {
      if (fault.kind === 'reset') {
        resets++;
        return reset();
      }
      return badGateway();
    }

    const reply = await forward(upstream, incoming, body).catch(() => undefined);
    if (!reply) return reset();
    request.upstreamStatus = reply.status;
    const after = options.after?.(request, reply.status, reply.body.toString('utf8')) ?? 'relay';
    if (after === 'reset') return reset();
    if (after !== 'relay') return answer(after);
    if (fault?.timing === 'after') {
      if (fault.kind === 'reset') {
        resets++;
        return reset();
      }
      return badGateway();
    }
    request.outcome = reply.status;
    outgoing.writeHead(reply.status, ownRedirect(reply.headers));
    outgoing.end(reply.body);
  }

  /** A redirect WordPress points at its own address points at the proxy, as a reverse proxy's would. */
  const ownRedirect = (headers: Record<string, string | string[]>): Record<string, string | string[]> => {
    const { location } = headers;
    if (typeof location !== 'string' || !location.startsWith(`${upstream.origin}/`)) return headers;
    const self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { ...headers, location: self + location.slice(upstream.origin.length) };
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    count: (filter) => (filter ? requests.filter(filter).length : requests.length),
    faults: () => ({ status502, resets }),
    settled: () =>
      (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenSettled.push(resolve))).then(
        throwHookError,
      ),
    setRates(rates) {
      rate502 = rates.rate502 ?? rate502;
      rateReset = rates.rateReset ?? rateReset;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      throwHookError();
    },
  };
}

function routeOf(url: string): string {
  const parsed = new URL(url, 'http://proxy.invalid');
  const plain = parsed.searchParams.get('rest_route');
  if (plain) return plain;
  return parsed.pathname.startsWith('/wp-json') ? parsed.pathname.slice('/wp-json'.length) : parsed.pathname;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Sends the request on to WordPress and reads the whole answer (WordPress is done with it then). */
function forward(upstream: URL, incoming: IncomingMessage, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        readBody(answer).then((text) => {
          const relayed: Record<string, string | string[]> = {};
          for (const [key, value] of Object.entries(answer.headers)) {
            // The body is sent whole, so its length is known; chunked framing is not relayed.
            if (value !== undefined && key !== 'transfer-encoding' && key !== 'connection')
              relayed[key] = value;
          }
          relayed['content-length'] = String(text.length);
          resolve({ status: answer.statusCode ?? 502, headers: relayed, body: text });
        }, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    // A client killed mid-request never ends its body.
    stream.on('close', () => reject(new Error('connection closed before the body ended')));
  });
}
