/**
 * `npm run dev:edge`: the control plane as a Cloudflare Worker under `wrangler dev` (local
 * workerd, no network), against a local stack: etcd and a MongoDB-wire server (data under
 * ./.cronplane/edge/), the relay (`cronplane relay`, a child process) and one agent whose health
 * session goes to the Worker. wrangler rebuilds and reloads the Worker on source changes.
 *
 * Tokens and the relay secret are generated once and kept in ./.cronplane/edge/dev.json (mode
 * 0600); the Worker gets them through an env file next to it, never on a command line.
 *
 *   npm run dev:edge [-- --port 8787]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isRecord } from '../core/wire.ts';
import { freePort, startStack } from '../test/stack/index.ts';
import { startWranglerDev } from '../test/stack/wrangler-dev.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/cronplane.js');
const DATA_DIR = join(ROOT, '.cronplane/edge');
const CHILD_STOP_TIMEOUT_MS = 15_000;
const RELAY_READY_TIMEOUT_MS = 30_000;

const SECRET_KEYS = ['adminToken', 'viewerToken', 'agentToken', 'relaySecret'] as const;
type Secrets = Record<(typeof SECRET_KEYS)[number], string>;

async function loadSecrets(file: string): Promise<Secrets> {
  let saved: unknown = null;
  if (existsSync(file)) {
    try {
      saved = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      saved = null;
    }
  }
  const entries = SECRET_KEYS.map((key) => {
    const value = isRecord(saved) ? saved[key] : undefined;
    return [
      key,
      typeof value === 'string' && value.length >= 32
        ? value
        : randomBytes(32).toString('base64url'),
    ];
  });
  return Object.fromEntries(entries) as Secrets;
}

interface Child {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** A child whose output is shown with a tag; SIGTERM on stop, SIGKILL if it lingers. */
function spawnChild(tag: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`[${tag}] ${line}\n`),
    );
  }
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolveExit();
    });
  });
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The relay prints its URL once it listens. */
function relayUrl(relay: Child): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the relay did not start listening')),
      RELAY_READY_TIMEOUT_MS,
    );
    const stdout = relay.process.stdout;
    if (!stdout) throw new Error('the relay has no stdout');
    createInterface({ input: stdout }).on('line', (line) => {
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolveUrl(url);
      }
    });
    relay.process.once('exit', (code) => reject(new Error(`the relay exited (${code})`)));
  });
}

/** The console's build, or an empty folder when it cannot be built. */
async function consoleAssets(): Promise<string> {
  const build = join(ROOT, 'console/build.mjs');
  const out = join(DATA_DIR, 'console');
  if (existsSync(build)) {
    const code = await new Promise<number | null>((resolveBuild) =>
      spawn(process.execPath, [build, out], { stdio: 'inherit' }).once('exit', resolveBuild),
    );
    if (code === 0) return out;
    process.stdout.write('the console did not build; serving the API only\n');
  }
  await mkdir(out, { recursive: true });
  return out;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveSignal(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '8787' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`dev:edge: --port must be a TCP port, not ${values.port}\n`);
  process.exit(2);
}

await mkdir(DATA_DIR, { recursive: true });
const devFile = join(DATA_DIR, 'dev.json');
const secrets = await loadSecrets(devFile);
process.stdout.write(`starting etcd and a MongoDB-wire server (data in ${DATA_DIR}) …\n`);
const stack = await startStack({ dataDir: join(DATA_DIR, 'stack') });
let relay: Child | undefined;
let agent: Child | undefined;
let stopWorker: (() => Promise<void>) | undefined;
try {
  relay = spawnChild(
    'relay',
    [
      'relay',
      ...['--port', String(await freePort())],
      ...['--etcd-endpoints', stack.etcd.endpoints.join(',')],
      ...['--mongo-url', stack.mongo.url],
    ],
    { CRONPLANE_RELAY_SECRET: secrets.relaySecret },
  );
  const relayAt = await relayUrl(relay);
  const worker = await startWranglerDev({
    dataDir: join(DATA_DIR, 'worker'),
    port,
    watch: true,
    assetsDir: await consoleAssets(),
    vars: {
      RELAY_URL: relayAt,
      RELAY_SECRET: secrets.relaySecret,
      ADMIN_TOKEN: secrets.adminToken,
      VIEWER_TOKEN: secrets.viewerToken,
      AGENT_TOKEN: secrets.agentToken,
    },
  });
  stopWorker = () => worker.stop();
  await writeFile(
    devFile,
    JSON.stringify({ controlPlaneUrl: worker.url, relayUrl: relayAt, ...secrets }, null, 2) + '\n',
    { mode: 0o600 },
  );
  agent = spawnChild(
    'agent',
    [
      'agent',
      ...['--etcd-endpoints', stack.etcd.endpoints.join(',')],
      ...['--mongo-url', stack.mongo.url],
      ...['--state-dir', join(DATA_DIR, 'agent'), '--agent-id', 'edge-dev-agent'],
      ...['--control-plane-url', worker.url],
    ],
    { CRONPLANE_AGENT_TOKEN: secrets.agentToken },
  );
  process.stdout.write(
    [
      '',
      `cronplane on the edge: the Worker under wrangler dev (${stack.mongo.kind}, etcd ${stack.etcd.clientUrl})`,
      `  control plane  ${worker.url}   (wrangler log: ${join(DATA_DIR, 'worker/wrangler.log')})`,
      `  admin token    ${secrets.adminToken}`,
      `  relay          ${relayAt}`,
      `  settings       ${devFile}`,
      '',
      `try: CRONPLANE_URL=${worker.url} CRONPLANE_TOKEN=<admin token> node bin/cronplane.js job ls`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  const signal = await waitForSignal();
  process.stdout.write(`\n${signal}: stopping the agent, the Worker, the relay and the stack …\n`);
} finally {
  // The agent first, so it flushes its run logs while the relay and MongoDB are still up.
  await agent?.stop();
  await stopWorker?.();
  await relay?.stop();
  await stack.stop();
}
