/**
 * @module The relay as a Node process: one etcd client and one pooled MongoDB client behind the
 * signed HTTP surface. Started by `cronplane relay` and by `cronplane dev`.
 */
import type { DirectConfig } from '../control-plane/adapters/direct/direct-ports.ts';
import { createDirectPorts } from '../control-plane/adapters/direct/direct-ports.ts';
import { createHttpMetrics, serveMetrics } from '../control-plane/entry/http-metrics.ts';
import { listen } from '../control-plane/entry/http-server.ts';
import type { TlsCredentials } from '../control-plane/entry/tls.ts';
import { createRelayApp } from './app.ts';
import { createNonceCache } from './nonce-cache.ts';
import { createSignatureVerifier } from './signature-verifier.ts';

export interface RelayConfig extends DirectConfig {
  readonly secret: string;
  readonly port: number;
  readonly host: string;
  /** Serve HTTPS with this certificate and key. */
  readonly tls?: TlsCredentials;
  /** Serve Prometheus metrics at http://host:port/metrics. */
  readonly metrics?: { readonly port: number; readonly host: string };
}

export interface RunningRelay {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startRelay(config: RelayConfig): Promise<RunningRelay> {
  const verifier = createSignatureVerifier(config.secret, createNonceCache());
  const ports = createDirectPorts(config);
  try {
    const httpMetrics = createHttpMetrics('relay');
    const server = await listen(
      httpMetrics.instrument(createRelayApp(ports, verifier).fetch),
      config,
    );
    const metricsServer = config.metrics
      ? await serveMetrics(httpMetrics.registry, config.metrics.port, config.metrics.host)
      : null;
    return {
      url: server.url,
      port: server.port,
      async stop() {
        metricsServer?.close();
        await server.close();
        await ports.close();
      },
    };
  } catch (error) {
    await ports.close();
    throw error;
  }
}
