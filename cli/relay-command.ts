/** `cronplane relay`: the signed HTTP relay in front of etcd and MongoDB, until SIGTERM/SIGINT. */
import { DEFAULT_PREFIX } from '../core/keys.ts';
import { DEFAULT_DATABASE } from '../core/run-log.ts';
import { startRelay } from '../relay/server.ts';
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

const DEFAULT_RELAY_PORT = 8090;

const USAGE = `usage: cronplane relay --etcd-endpoints URL[,URL] --mongo-url URL --secret S
         [--port ${DEFAULT_RELAY_PORT}] [--host 127.0.0.1] [--database ${DEFAULT_DATABASE}]
         [--prefix ${DEFAULT_PREFIX}] [--tls-cert FILE --tls-key FILE] [--metrics-port N] [--config FILE]
Every setting also reads CRONPLANE_<NAME> (e.g. CRONPLANE_RELAY_SECRET); prefer that for the secret.
`;

export function run(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write(USAGE);
    return Promise.resolve(0);
  }
  return runServerCommand('relay', async () => {
    const settings = resolveSettings(args, {
      port: { flag: 'port', env: 'CRONPLANE_RELAY_PORT' },
      host: { flag: 'host', env: 'CRONPLANE_RELAY_HOST' },
      etcdEndpoints: { flag: 'etcd-endpoints', env: 'CRONPLANE_ETCD_ENDPOINTS' },
      mongoUrl: { flag: 'mongo-url', env: 'CRONPLANE_MONGO_URL' },
      database: { flag: 'database', env: 'CRONPLANE_DATABASE' },
      prefix: { flag: 'prefix', env: 'CRONPLANE_PREFIX' },
      secret: { flag: 'secret', env: 'CRONPLANE_RELAY_SECRET' },
      tlsCert: { flag: 'tls-cert', env: 'CRONPLANE_TLS_CERT' },
      tlsKey: { flag: 'tls-key', env: 'CRONPLANE_TLS_KEY' },
      metricsPort: { flag: 'metrics-port', env: 'CRONPLANE_METRICS_PORT' },
    });
    const relay = await startRelay({
      port: parsePort(settings.port, DEFAULT_RELAY_PORT),
      host: settings.host ?? '127.0.0.1',
      etcdEndpoints: parseList(required(settings.etcdEndpoints, '--etcd-endpoints')),
      mongoUrl: required(settings.mongoUrl, '--mongo-url'),
      database: settings.database ?? DEFAULT_DATABASE,
      prefix: settings.prefix ?? DEFAULT_PREFIX,
      secret: required(settings.secret, '--secret (or CRONPLANE_RELAY_SECRET)'),
      ...tlsOption(settings.tlsCert, settings.tlsKey),
      ...metricsOption(settings.metricsPort),
    });
    process.stdout.write(`cronplane relay listening on ${relay.url}\n`);
    const signal = await shutdownSignal();
    process.stdout.write(`cronplane relay: ${signal}, stopping\n`);
    await relay.stop();
  });
}
