/**
 * `cronplane dev` (`npm start`): the whole system on one machine. etcd and a MongoDB-wire server
 * keep their data under ./.cronplane/, the relay and the control plane (in relay mode) run in
 * this process, and one agent runs as a child. Tokens and the relay secret are generated once
 * and kept in ./.cronplane/dev.json, so a second start reuses data and credentials.
 *
 * Shutdown order is agent, control plane, relay, stack: the agent flushes its run logs while
 * etcd and MongoDB are still up. (A terminal's Ctrl-C also reaches the stack's servers directly,
 * as they share our process group; `kill -TERM` on this process keeps the order exact.)
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../control-plane/entry/node.ts';
import type { RunningControlPlane } from '../control-plane/entry/node.ts';
import { CronplaneError } from '../core/errors.ts';
import { DEFAULT_PREFIX } from '../core/keys.ts';
import { DEFAULT_DATABASE } from '../core/run-log.ts';
import { isRecord } from '../core/wire.ts';
import type { RunningRelay } from '../relay/server.ts';
import { startRelay } from '../relay/server.ts';
import { startStack } from '../test/stack/index.ts';
import { DEFAULT_CONTROL_PLANE_PORT } from './control-plane-command.ts';
import { parsePort, runServerCommand, shutdownSignal } from './server-options.ts';

const CLI = fileURLToPath(new URL('../bin/cronplane.js', import.meta.url));
const CONSOLE_DIR = fileURLToPath(new URL('../dist/console/', import.meta.url));
const AGENT_ID = 'dev-agent';
const AGENT_STOP_TIMEOUT_MS = 15_000;

const USAGE = `usage: cronplane dev [--port ${DEFAULT_CONTROL_PLANE_PORT}] [--data-dir .cronplane]
Starts etcd, a MongoDB-wire server, the relay, the control plane and one agent.
`;

interface DevSecrets {
  readonly adminToken: string;
  readonly viewerToken: string;
  readonly agentToken: string;
  readonly relaySecret: string;
}

const newSecret = () => randomBytes(32).toString('base64url');

/** The secrets of an earlier start, or fresh ones. */
async function loadSecrets(devFile: string): Promise<DevSecrets> {
  const fresh: DevSecrets = {
    adminToken: newSecret(),
    viewerToken: newSecret(),
    agentToken: newSecret(),
    relaySecret: newSecret(),
  };
  if (!existsSync(devFile)) return fresh;
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(devFile, 'utf8'));
  } catch {
    return fresh;
  }
  if (!isRecord(saved)) return fresh;
  const keep = (key: keyof DevSecrets) => {
    const value = saved[key];
    return typeof value === 'string' && value.length >= 32 ? value : fresh[key];
  };
  return {
    adminToken: keep('adminToken'),
    viewerToken: keep('viewerToken'),
    agentToken: keep('agentToken'),
    relaySecret: keep('relaySecret'),
  };
}

function prefixLines(stream: NodeJS.ReadableStream | null, tag: string): void {
  if (!stream) return;
  createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${tag} ${line}\n`));
}

interface AgentChild {
  stop(): Promise<void>;
}

function spawnAgent(args: readonly string[]): AgentChild {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Should this process die abruptly, the agent must not linger.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  prefixLines(child.stdout, '[agent]');
  prefixLines(child.stderr, '[agent]');
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      process.stdout.write(`[agent] exited (${signal ?? `code ${String(code)}`})\n`);
      resolveExit();
    });
  });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), AGENT_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function run(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(
      `cronplane dev: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`,
    );
    return Promise.resolve(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return Promise.resolve(0);
  }
  const port = values.port;
  const dataDir = resolve(values['data-dir'] ?? '.cronplane');

  return runServerCommand('dev', async () => {
    const controlPlanePort = parsePort(port, DEFAULT_CONTROL_PLANE_PORT);
    await mkdir(dataDir, { recursive: true });
    const devFile = join(dataDir, 'dev.json');
    const secrets = await loadSecrets(devFile);

    process.stdout.write(`starting etcd and a MongoDB-wire server (data in ${dataDir}) …\n`);
    const stack = await startStack({ dataDir });
    let relay: RunningRelay | undefined;
    let controlPlane: RunningControlPlane | undefined;
    let agent: AgentChild | undefined;
    try {
      const data = {
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
        database: DEFAULT_DATABASE,
        prefix: DEFAULT_PREFIX,
      };
      relay = await startRelay({
        ...data,
        secret: secrets.relaySecret,
        port: 0,
        host: '127.0.0.1',
      });
      controlPlane = await startControlPlane({
        port: controlPlanePort,
        host: '127.0.0.1',
        data: { kind: 'relay', url: relay.url, secret: secrets.relaySecret },
        tokens: [
          { name: 'admin', role: 'admin', token: secrets.adminToken },
          { name: 'viewer', role: 'viewer', token: secrets.viewerToken },
          { name: 'agent', role: 'agent', token: secrets.agentToken },
        ],
        consoleDir: CONSOLE_DIR,
      }).catch((error: unknown) => {
        if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
          throw new CronplaneError(
            'invalid_config',
            `port ${controlPlanePort} is in use; pass --port`,
          );
        }
        throw error;
      });
      const devJson = {
        controlPlaneUrl: controlPlane.url,
        ...secrets,
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
        relayUrl: relay.url,
      };
      await writeFile(devFile, JSON.stringify(devJson, null, 2) + '\n', { mode: 0o600 });

      agent = spawnAgent([
        ...['--etcd-endpoints', stack.etcd.endpoints.join(',')],
        ...['--mongo-url', stack.mongo.url, '--database', data.database, '--prefix', data.prefix],
        ...['--state-dir', join(dataDir, 'agent'), '--agent-id', AGENT_ID],
        ...['--control-plane-url', controlPlane.url, '--agent-token', secrets.agentToken],
      ]);

      process.stdout.write(
        [
          '',
          `cronplane is running (${stack.mongo.kind}, etcd ${stack.etcd.clientUrl})`,
          `  control plane  ${controlPlane.url}`,
          `  admin token    ${secrets.adminToken}`,
          `  relay          ${relay.url}`,
          `  settings       ${devFile}`,
          '',
          `try: node bin/cronplane.js job put hello --cron '*/10 * * * * *' --command 'echo hello'`,
          'Ctrl-C stops everything.',
          '',
        ].join('\n'),
      );
      const signal = await shutdownSignal();
      process.stdout.write(`\n${signal}: stopping the agent, control plane, relay and stack …\n`);
    } finally {
      await agent?.stop();
      await controlPlane?.stop();
      await relay?.stop();
      await stack.stop();
    }
  });
}
