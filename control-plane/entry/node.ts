/**
 * @module The control plane on Node: builds the data ports (direct or through the relay), the
 * auth configuration and the console's static handler, and serves the app.
 */
import { existsSync, statSync } from 'node:fs';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Role } from '../../core/api.ts';
import { CronplaneError } from '../../core/errors.ts';
import type { DirectConfig } from '../adapters/direct/direct-ports.ts';
import { createDirectPorts } from '../adapters/direct/direct-ports.ts';
import { createRelayClient } from '../adapters/relay-client/relay-client.ts';
import { createRelayPorts } from '../adapters/relay-client/relay-ports.ts';
import { createApp } from '../app.ts';
import { createTokenEntry } from '../auth.ts';
import type { DataAdapter } from '../ports.ts';
import { listen } from './http-server.ts';

export type DataConfig =
  | ({ readonly kind: 'direct' } & DirectConfig)
  | { readonly kind: 'relay'; readonly url: string; readonly secret: string };

export interface TokenConfig {
  readonly name: string;
  readonly role: Role;
  readonly token: string;
}

export interface ControlPlaneConfig {
  readonly port: number;
  readonly host: string;
  readonly data: DataConfig;
  readonly tokens: readonly TokenConfig[];
  /** Served at `/` when the folder exists. */
  readonly consoleDir?: string;
}

export interface RunningControlPlane {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Shorter tokens are guessable; generated ones are 43 characters. */
const MIN_TOKEN_CHARS = 16;

function checkTokens(tokens: readonly TokenConfig[]): void {
  if (tokens.length === 0) {
    throw new CronplaneError('invalid_config', 'no API token is configured (e.g. --admin-token)');
  }
  const seen = new Set<string>();
  for (const { name, token } of tokens) {
    if (token.length < MIN_TOKEN_CHARS) {
      throw new CronplaneError(
        'invalid_config',
        `token "${name}" is shorter than ${MIN_TOKEN_CHARS} characters`,
      );
    }
    if (seen.has(token)) throw new CronplaneError('invalid_config', 'two roles share one token');
    seen.add(token);
  }
}

function createDataAdapter(data: DataConfig): DataAdapter {
  return data.kind === 'direct'
    ? createDirectPorts(data)
    : createRelayPorts(createRelayClient({ url: data.url, secret: data.secret }));
}

export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  checkTokens(config.tokens);
  const tokens = await Promise.all(
    config.tokens.map(({ name, role, token }) => createTokenEntry(name, role, token)),
  );
  const { consoleDir } = config;
  const serveConsole =
    consoleDir !== undefined && existsSync(consoleDir) && statSync(consoleDir).isDirectory();
  const data = createDataAdapter(config.data);
  try {
    const app = createApp(
      { ...data, auth: { tokens } },
      serveConsole ? { staticAssets: serveStatic({ root: consoleDir }) } : {},
    );
    const server = await listen(app.fetch, config);
    return {
      url: server.url,
      port: server.port,
      async stop() {
        await server.close();
        await data.close();
      },
    };
  } catch (error) {
    await data.close();
    throw error;
  }
}
