/**
 * @module The control plane on Node: builds the data ports (direct or through the relay), the
 * auth configuration and the console's static handler, and serves the app.
 */
import { existsSync, statSync } from 'node:fs';
import { serveStatic } from '@hono/node-server/serve-static';
import { createArtifactDir } from '../adapters/artifact-dir.ts';
import type { DirectConfig } from '../adapters/direct/direct-ports.ts';
import { createDirectPorts } from '../adapters/direct/direct-ports.ts';
import { createRelayClient } from '../adapters/relay-client/relay-client.ts';
import { createHttpMetrics, serveMetrics } from './http-metrics.ts';
import { fetchTrusting, type TlsCredentials } from './tls.ts';
import { createRelayPorts } from '../adapters/relay-client/relay-ports.ts';
import { createApp } from '../app.ts';
import type { AgentConnection, AgentInstall, DataAdapter } from '../ports.ts';
import type { TokenConfig } from '../token-config.ts';
import { createTokenEntries } from '../token-config.ts';
import { listen } from './http-server.ts';
import { createNodeHealth } from './node-health.ts';

export type { TokenConfig } from '../token-config.ts';

export type DataConfig =
  | ({ readonly kind: 'direct' } & DirectConfig)
  | {
      readonly kind: 'relay';
      readonly url: string;
      readonly secret: string;
      /** PEM file of a CA to trust for the relay's certificate (self-signed setups). */
      readonly caFile?: string;
    };

/** Serving install.sh and the agent bundle (README "Adding a host"). */
export interface InstallConfig {
  readonly connection: AgentConnection;
  /** scripts/build-agent.mjs's output folder. */
  readonly artifactsDir: string;
  readonly installScriptPath: string;
  readonly publicUrl?: string;
  readonly artifactBaseUrl?: string;
}

export interface ControlPlaneConfig {
  readonly port: number;
  readonly host: string;
  readonly data: DataConfig;
  readonly tokens: readonly TokenConfig[];
  /** Served at `/` when the folder exists. */
  readonly consoleDir?: string;
  readonly install?: InstallConfig;
  /** Serve HTTPS with this certificate and key. */
  readonly tls?: TlsCredentials;
  /** Serve Prometheus metrics at http://host:port/metrics. */
  readonly metrics?: { readonly port: number; readonly host: string };
}

export interface RunningControlPlane {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

function agentInstall(config: InstallConfig): AgentInstall {
  const { artifactsDir, installScriptPath, ...rest } = config;
  return { ...rest, artifacts: createArtifactDir(artifactsDir, installScriptPath) };
}

function createDataAdapter(data: DataConfig): DataAdapter {
  return data.kind === 'direct'
    ? createDirectPorts(data)
    : createRelayPorts(
        createRelayClient({
          url: data.url,
          secret: data.secret,
          ...(data.caFile !== undefined ? { fetch: fetchTrusting(data.caFile) } : {}),
        }),
      );
}

export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const tokens = await createTokenEntries(config.tokens);
  const { consoleDir } = config;
  const serveConsole =
    consoleDir !== undefined && existsSync(consoleDir) && statSync(consoleDir).isDirectory();
  const data = createDataAdapter(config.data);
  const health = createNodeHealth();
  try {
    const app = createApp(
      {
        ...data,
        auth: { tokens },
        healthHub: health.hub,
        ...(config.install ? { install: agentInstall(config.install) } : {}),
      },
      serveConsole ? { staticAssets: serveStatic({ root: consoleDir }) } : {},
    );
    const httpMetrics = createHttpMetrics('control_plane');
    const server = await listen(httpMetrics.instrument(app.fetch), config, health.websocketServer);
    const metricsServer = config.metrics
      ? await serveMetrics(httpMetrics.registry, config.metrics.port, config.metrics.host)
      : null;
    return {
      url: server.url,
      port: server.port,
      async stop() {
        metricsServer?.close();
        // Upgraded sockets would hold the HTTP server's close open; they go first.
        health.close();
        await server.close();
        await data.close();
      },
    };
  } catch (error) {
    health.close();
    await data.close();
    throw error;
  }
}
