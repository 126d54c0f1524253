/** Serves `GET /metrics` (Prometheus text format) on a loopback port by default. */
import { createServer, type Server } from 'node:http';
import type { MetricsRegistry } from '../core/metrics.ts';

export async function startMetricsServer(
  registry: MetricsRegistry,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(registry.render());
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
