// A loopback HTTP proxy in front of WordPress that logs every request the tool makes:
// the job's wordpress.url points here, so nothing reaches the site without being counted.
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  /** Every request since the last reset, as `METHOD /path` (query left off). */
  readonly requests: string[];
  reset(): void;
  /** Requests per `METHOD /route`, with user ids folded into `{id}`. */
  routes(): Record<string, number>;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const requests: string[] = [];
  const server = createServer((incoming, outgoing) => {
    const path = (incoming.url ?? '/').split('?')[0]!;
    // REST calls may come as ?rest_route=/... instead of /wp-json/...
    const route = new URL(incoming.url ?? '/', 'http://x').searchParams.get('rest_route');
    requests.push(`${incoming.method} ${route ? `/wp-json${route}` : path}`);
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
        const route = request.replace(/\/\d+(?=\/|$)/g, '/{id}');
        counts[route] = (counts[route] ?? 0) + 1;
      }
      return counts;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
