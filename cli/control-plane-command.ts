/** `cronplane control-plane`: the API (and console) on Node, until SIGTERM/SIGINT. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from '../control-plane/entry/node.ts';
import type { DataConfig, InstallConfig, TokenConfig } from '../control-plane/entry/node.ts';
import type { Role } from '../core/api.ts';
import { CronplaneError } from '../core/errors.ts';
import { DEFAULT_PREFIX } from '../core/keys.ts';
import { DEFAULT_DATABASE } from '../core/run-log.ts';
import type { Settings } from './server-options.ts';
import {
  parseList,
  parsePort,
  required,
  resolveSettings,
  runServerCommand,
  shutdownSignal,
  metricsOption,
  tlsOption,
} from './server-options.ts';

export const DEFAULT_CONTROL_PLANE_PORT = 8080;
// The console's build output (`npm run build:console`), not its sources.
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../dist/console/', import.meta.url));
const DEFAULT_ARTIFACTS_DIR = fileURLToPath(new URL('../dist/agent/', import.meta.url));
const INSTALL_SCRIPT = fileURLToPath(new URL('../install/install.sh', import.meta.url));

const USAGE = `usage: cronplane control-plane [--port ${DEFAULT_CONTROL_PLANE_PORT}] [--host 127.0.0.1]
         (--etcd-endpoints URL[,URL] --mongo-url URL [--database ${DEFAULT_DATABASE}] [--prefix ${DEFAULT_PREFIX}]
          | --relay-url URL --relay-secret S [--relay-ca-file PEM])
         [--tls-cert PEM --tls-key PEM] [--metrics-port N]
         [--admin-token T] [--viewer-token T] [--agent-token T] [--console-dir DIR] [--config FILE]
         [--public-url URL] [--agent-etcd-endpoints URL[,URL]] [--agent-mongo-url URL]
         [--artifacts-dir dist/agent] [--artifact-base-url URL]
The installer (GET /install.sh) hands agents --agent-etcd-endpoints and --agent-mongo-url, by
default the control plane's own --etcd-endpoints and --mongo-url; through a relay, give both.
Every setting also reads CRONPLANE_<NAME> (e.g. CRONPLANE_ADMIN_TOKEN); prefer that for secrets.
`;

const SETTINGS = {
  port: { flag: 'port', env: 'CRONPLANE_PORT' },
  host: { flag: 'host', env: 'CRONPLANE_HOST' },
  etcdEndpoints: { flag: 'etcd-endpoints', env: 'CRONPLANE_ETCD_ENDPOINTS' },
  mongoUrl: { flag: 'mongo-url', env: 'CRONPLANE_MONGO_URL' },
  database: { flag: 'database', env: 'CRONPLANE_DATABASE' },
  prefix: { flag: 'prefix', env: 'CRONPLANE_PREFIX' },
  relayUrl: { flag: 'relay-url', env: 'CRONPLANE_RELAY_URL' },
  relaySecret: { flag: 'relay-secret', env: 'CRONPLANE_RELAY_SECRET' },
  relayCaFile: { flag: 'relay-ca-file', env: 'CRONPLANE_RELAY_CA_FILE' },
  tlsCert: { flag: 'tls-cert', env: 'CRONPLANE_TLS_CERT' },
  tlsKey: { flag: 'tls-key', env: 'CRONPLANE_TLS_KEY' },
  metricsPort: { flag: 'metrics-port', env: 'CRONPLANE_METRICS_PORT' },
  adminToken: { flag: 'admin-token', env: 'CRONPLANE_ADMIN_TOKEN' },
  viewerToken: { flag: 'viewer-token', env: 'CRONPLANE_VIEWER_TOKEN' },
  agentToken: { flag: 'agent-token', env: 'CRONPLANE_AGENT_TOKEN' },
  consoleDir: { flag: 'console-dir', env: 'CRONPLANE_CONSOLE_DIR' },
  publicUrl: { flag: 'public-url', env: 'CRONPLANE_PUBLIC_URL' },
  agentEtcdEndpoints: { flag: 'agent-etcd-endpoints', env: 'CRONPLANE_AGENT_ETCD_ENDPOINTS' },
  agentMongoUrl: { flag: 'agent-mongo-url', env: 'CRONPLANE_AGENT_MONGO_URL' },
  artifactsDir: { flag: 'artifacts-dir', env: 'CRONPLANE_ARTIFACTS_DIR' },
  artifactBaseUrl: { flag: 'artifact-base-url', env: 'CRONPLANE_ARTIFACT_BASE_URL' },
} as const;

type Key = keyof typeof SETTINGS;

function dataConfig(settings: Settings<Key>): DataConfig {
  const direct = settings.etcdEndpoints ?? settings.mongoUrl;
  if (settings.relayUrl !== undefined) {
    if (direct !== undefined) {
      throw new CronplaneError(
        'invalid_config',
        'give either a relay (--relay-url) or etcd/MongoDB (--etcd-endpoints, --mongo-url), not both',
      );
    }
    return {
      kind: 'relay',
      url: settings.relayUrl,
      secret: required(settings.relaySecret, '--relay-secret (or CRONPLANE_RELAY_SECRET)'),
      ...(settings.relayCaFile !== undefined ? { caFile: settings.relayCaFile } : {}),
    };
  }
  return {
    kind: 'direct',
    etcdEndpoints: parseList(required(settings.etcdEndpoints, '--etcd-endpoints or --relay-url')),
    mongoUrl: required(settings.mongoUrl, '--mongo-url'),
    database: settings.database ?? DEFAULT_DATABASE,
    prefix: settings.prefix ?? DEFAULT_PREFIX,
  };
}

function httpUrl(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && !/^https?:\/\/\S+$/.test(value)) {
    throw new CronplaneError('invalid_config', `--${flag} must be an http(s) URL`);
  }
  return value;
}

/** Undefined (no installer) through a relay without agent settings: agents cannot use a relay. */
function installConfig(settings: Settings<Key>, data: DataConfig): InstallConfig | undefined {
  const direct = data.kind === 'direct' ? data : undefined;
  const etcd = settings.agentEtcdEndpoints ?? direct?.etcdEndpoints.join(',');
  const mongoUrl = settings.agentMongoUrl ?? direct?.mongoUrl;
  if (etcd === undefined && mongoUrl === undefined) return undefined;
  const publicUrl = httpUrl(settings.publicUrl, 'public-url');
  const artifactBaseUrl = httpUrl(settings.artifactBaseUrl, 'artifact-base-url');
  return {
    connection: {
      etcdEndpoints: parseList(required(etcd, '--agent-etcd-endpoints')),
      mongoUrl: required(mongoUrl, '--agent-mongo-url'),
      database: settings.database ?? DEFAULT_DATABASE,
      prefix: settings.prefix ?? DEFAULT_PREFIX,
    },
    artifactsDir: settings.artifactsDir ?? DEFAULT_ARTIFACTS_DIR,
    installScriptPath: INSTALL_SCRIPT,
    ...(publicUrl ? { publicUrl } : {}),
    ...(artifactBaseUrl ? { artifactBaseUrl } : {}),
  };
}

function tokens(settings: Settings<Key>): TokenConfig[] {
  const byRole: [Role, string | undefined][] = [
    ['admin', settings.adminToken],
    ['viewer', settings.viewerToken],
    ['agent', settings.agentToken],
  ];
  return byRole.flatMap(([role, token]) => (token ? [{ name: role, role, token }] : []));
}

export function run(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write(USAGE);
    return Promise.resolve(0);
  }
  return runServerCommand('control-plane', async () => {
    const settings = resolveSettings(args, SETTINGS);
    const data = dataConfig(settings);
    const consoleDir = settings.consoleDir ?? DEFAULT_CONSOLE_DIR;
    const install = installConfig(settings, data);
    const controlPlane = await startControlPlane({
      port: parsePort(settings.port, DEFAULT_CONTROL_PLANE_PORT),
      host: settings.host ?? '127.0.0.1',
      data,
      tokens: tokens(settings),
      ...(existsSync(consoleDir) ? { consoleDir } : {}),
      ...(install ? { install } : {}),
      ...tlsOption(settings.tlsCert, settings.tlsKey),
      ...metricsOption(settings.metricsPort),
    });
    const via = data.kind === 'relay' ? `relay ${data.url}` : 'etcd and MongoDB directly';
    process.stdout.write(`cronplane control plane listening on ${controlPlane.url} (${via})\n`);
    process.stdout.write(
      install
        ? `agent installer: ${install.publicUrl ?? controlPlane.url}/install.sh\n`
        : 'agent installer off: give --agent-etcd-endpoints and --agent-mongo-url\n',
    );
    const signal = await shutdownSignal();
    process.stdout.write(`cronplane control-plane: ${signal}, stopping\n`);
    await controlPlane.stop();
  });
}
