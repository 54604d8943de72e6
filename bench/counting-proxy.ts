// A loopback HTTP proxy in front of WordPress that logs every request the tool makes:
// the job's wordpress.url points here, so nothing reaches the site without being counted.
// It streams both ways; the tests' proxy (test/support/wordpress-proxy.ts) buffers whole
// requests and answers to break them, which would add to the times measured here.
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writesUsers } from '../test/support/wordpress-proxy.ts';

export interface CountedRequest {
  method: string;
  /** The REST route (from /wp-json/… or ?rest_route=…), or the path; query left off. */
  route: string;
  /** Bytes of the request body (a checkpoint save's upload). */
  bytes: number;
  /** performance.now() when the request arrived and when its answer was sent. */
  started: number;
  finished?: number;
}

export interface CountingProxy {
  url: string;
  /** Every request since the last reset. */
  readonly requests: CountedRequest[];
  reset(): void;
  /** Requests per `METHOD /wp-json/route`, with user ids folded into `{id}`. */
  routes(): Record<string, number>;
  /** Requests that created, changed or deleted users (single or /batch/v1). */
  writes(): number;
  /** Seconds from the first write request's arrival to the last one's answer (0 without writes). */
  writeSeconds(): number;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const requests: CountedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const path = (incoming.url ?? '/').split('?')[0]!;
    // REST calls may come as ?rest_route=/... instead of /wp-json/...
    const route =
      new URL(incoming.url ?? '/', 'http://x').searchParams.get('rest_route') ??
      path.replace(/^\/wp-json(?=\/)/, '');
    const counted: CountedRequest = {
      method: incoming.method ?? 'GET',
      route,
      bytes: 0,
      started: performance.now(),
    };
    requests.push(counted);
    incoming.on('data', (chunk: Buffer) => {
      counted.bytes += chunk.length;
    });
    outgoing.on('finish', () => {
      counted.finished = performance.now();
    });
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
        agent,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    reset: () => {
      requests.length = 0;
    },
    routes: () => {
      const counts: Record<string, number> = {};
      for (const request of requests) {
        const route = `${request.method} /wp-json${request.route.replace(/\/\d+(?=\/|$)/g, '/{id}')}`;
        counts[route] = (counts[route] ?? 0) + 1;
      }
      return counts;
    },
    writes: () => requests.filter(writesUsers).length,
    writeSeconds: () => {
      const writes = requests.filter(writesUsers);
      if (writes.length === 0) return 0;
      const first = Math.min(...writes.map((request) => request.started));
      const last = Math.max(...writes.map((request) => request.finished ?? performance.now()));
      return (last - first) / 1000;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
