/**
 * Prometheus metrics of a Node HTTP service (control plane, relay): requests by route, method
 * and status, and their latency, served on a port of their own (loopback by default) like the
 * agent's. Routes are reduced to their pattern so label cardinality stays bounded.
 */
import { createServer, type Server } from 'node:http';
import {
  LATENCY_BUCKETS_SECONDS,
  createMetricsRegistry,
  type MetricsRegistry,
} from '../../core/metrics.ts';
import { relayWire } from '../../core/relay-wire.ts';

const RELAY_ROUTES: ReadonlySet<string> = new Set(
  Object.keys(relayWire).map((op) => `/relay/v1/${op}`),
);

// The rest arguments are the Node adapter's bindings (the raw request, the WebSocket upgrade
// context); they must reach the app untouched or WebSocket upgrades fail.
type FetchHandler = (request: Request, ...bindings: never[]) => Response | Promise<Response>;

const ROUTE_PATTERNS: readonly [RegExp, string][] = [
  [/^\/v1\/jobs\/[^/]+\/(kill|run|runs)$/, '/v1/jobs/:name/$1'],
  [/^\/v1\/jobs\/[^/]+$/, '/v1/jobs/:name'],
  [/^\/v1\/runs\/[^/]+$/, '/v1/runs/:runId'],
  [/^\/artifacts\/agent\/.+$/, '/artifacts/agent/*'],
  [/^\/relay\/v1\/([a-zA-Z.]+)$/, '/relay/v1/$1'],
  [
    /^\/(v1\/(?:jobs|workers|running|whoami|cron\/next|health\/stream|agents\/connect|agents\/bootstrap)|healthz|openapi\.json|install\.sh)$/,
    '/$1',
  ],
];

/** The route pattern of a path; anything unknown (console files, typos) is one label. */
export function routeOf(path: string): string {
  for (const [pattern, replacement] of ROUTE_PATTERNS) {
    if (!pattern.test(path)) continue;
    const route = path.replace(pattern, replacement);
    // Only the relay's real operations become labels; an unknown name is one of many typos.
    return route.startsWith('/relay/v1/') && !RELAY_ROUTES.has(route) ? 'other' : route;
  }
  return 'other';
}

export interface HttpMetrics {
  readonly registry: MetricsRegistry;
  /** The same handler, counting and timing every request. */
  instrument(fetch: FetchHandler): FetchHandler;
}

export function createHttpMetrics(service: 'control_plane' | 'relay'): HttpMetrics {
  const registry = createMetricsRegistry();
  const requests = registry.counter(
    `cronplane_${service}_requests_total`,
    'HTTP requests by route, method and status.',
  );
  const duration = registry.histogram(
    `cronplane_${service}_request_duration_seconds`,
    'HTTP request latency by route.',
    LATENCY_BUCKETS_SECONDS,
  );
  return {
    registry,
    instrument(fetch) {
      return async (request, ...bindings) => {
        const startedAt = performance.now();
        const route = routeOf(new URL(request.url).pathname);
        let status = 500;
        try {
          const response = await fetch(request, ...bindings);
          status = response.status;
          return response;
        } finally {
          requests.inc({ route, method: request.method, status: String(status) });
          duration.observe((performance.now() - startedAt) / 1000, { route });
        }
      };
    },
  };
}

export async function serveMetrics(
  registry: MetricsRegistry,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer((request, response) => {
    const found = request.method === 'GET' && request.url === '/metrics';
    response.writeHead(found ? 200 : 404, {
      'content-type': found ? 'text/plain; version=0.0.4; charset=utf-8' : 'text/plain',
    });
    response.end(found ? registry.render() : 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
