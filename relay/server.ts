/**
 * @module The relay as a Node process: one etcd client and one pooled MongoDB client behind the
 * signed HTTP surface. Started by `cronplane relay` and by `cronplane dev`.
 */
import type { DirectConfig } from '../control-plane/adapters/direct/direct-ports.ts';
import { createDirectPorts } from '../control-plane/adapters/direct/direct-ports.ts';
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
    const server = await listen(createRelayApp(ports, verifier).fetch, config);
    return {
      url: server.url,
      port: server.port,
      async stop() {
        await server.close();
        await ports.close();
      },
    };
  } catch (error) {
    await ports.close();
    throw error;
  }
}
