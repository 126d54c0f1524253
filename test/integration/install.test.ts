/**
 * Adding a host, end to end: a real control plane serves install.sh and an agent bundle with
 * its launchers built by scripts/build-agent.mjs; `curl … | sh -s -- --root DIR --no-systemd`
 * installs into a scratch root; the installed bundle, started from there on plain node, starts
 * its runs through the launcher installed beside it, registers and runs a job. The lifecycle
 * tests run in order, as one host's life: install, upgrade, tampered bundle and launcher
 * refused, an unknown machine refused, a bundle built without launchers, uninstall.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFile,
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import type { Db } from 'mongodb';
import { MongoClient } from 'mongodb';
import type { RunningControlPlane } from '../../control-plane/entry/node.ts';
import { startControlPlane } from '../../control-plane/entry/node.ts';
import type { Role } from '../../core/api.ts';
import { RUN_LOG_COLLECTION } from '../../core/run-log.ts';
import type { Stack } from '../stack/index.ts';
import { startStack, uniqueDatabase, uniquePrefix, waitUntil } from '../stack/index.ts';
import { TOKENS } from './api-world.ts';

const REPO = resolve(import.meta.dirname, '../..');
const V1 = '0.1.0+install.1';
const V2 = '0.1.0+install.2';
const BUNDLE = 'opt/cronplane/cronplane-agent.cjs';
const LAUNCHER = 'opt/cronplane/cronplane-launcher';
const GO_ARCH: Partial<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };
/** This machine's launcher, the one install.sh picks from `uname -m`. */
const ARCH = GO_ARCH[process.arch] ?? process.arch;
const CONFIG = 'etc/cronplane/agent.json';
const STATE = 'var/lib/cronplane';

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  cwd = REPO,
  // A bare PATH: nothing of the test's environment (tokens, settings) reaches the installer.
  env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' },
): Promise<Outcome> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

async function buildAgent(outDir: string, version: string): Promise<void> {
  // The whole environment: Go, which builds the launchers, needs HOME or GOCACHE.
  const built = await run(
    process.execPath,
    ['scripts/build-agent.mjs', '--out-dir', outDir, '--version', version],
    REPO,
    process.env,
  );
  assert.equal(built.code, 0, built.stderr);
}

/** A launcher as scripts/build-agent.mjs names it in its out dir. */
const launcherFile = (version: string, arch = ARCH): string =>
  `cronplane-launcher-${version}-linux-${arch}`;

async function digestOf(file: string): Promise<string> {
  return (await readFile(join(artifactsDir, `${file}.sha256`), 'utf8')).slice(0, 64);
}

/** The version a launcher greets with when started with its stdin closed. */
async function launcherVersion(path: string): Promise<unknown> {
  const started = await run(path, [], root);
  assert.equal(started.code, 0, started.stderr);
  return (JSON.parse(started.stdout.split('\n')[0] ?? '') as { version?: unknown }).version;
}

let stack: Stack;
let controlPlane: RunningControlPlane;
let artifactsDir: string;
let root: string;
let prefix: string;
let etcd: Etcd3;
let mongo: MongoClient;
let db: Db;

/** The one-line install, as README gives it, against the test's control plane. */
function installer(...args: string[]): Promise<Outcome> {
  return installerWithPath(process.env.PATH ?? '/usr/bin:/bin', ...args);
}

function installerWithPath(path: string, ...args: string[]): Promise<Outcome> {
  const script = 'url=$1; shift; curl -fsSL "$url/install.sh" | sh -s -- "$@"';
  return run('sh', ['-c', script, 'installer', controlPlane.url, ...args], REPO, { PATH: path });
}

before(async () => {
  artifactsDir = await mkdtemp(join(tmpdir(), 'cronplane-artifacts-'));
  root = await mkdtemp(join(tmpdir(), 'cronplane-root-'));
  [stack] = await Promise.all([startStack(), buildAgent(artifactsDir, V1)]);
  prefix = uniquePrefix();
  const database = uniqueDatabase();
  controlPlane = await startControlPlane({
    port: 0,
    host: '127.0.0.1',
    data: {
      kind: 'direct',
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database,
      prefix,
    },
    tokens: (Object.keys(TOKENS) as Role[]).map((role) => ({
      name: role,
      role,
      token: TOKENS[role],
    })),
    install: {
      connection: {
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
        database,
        prefix,
      },
      artifactsDir,
      installScriptPath: join(REPO, 'install/install.sh'),
    },
  });
  etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  mongo = new MongoClient(stack.mongo.url);
  db = mongo.db(database);
});

after(async () => {
  await controlPlane?.stop();
  etcd?.close();
  await mongo?.close();
  await stack?.stop();
  await rm(artifactsDir, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
});

async function get(path: string, role?: Role): Promise<Response> {
  return fetch(`${controlPlane.url}${path}`, {
    headers: role ? { authorization: `Bearer ${TOKENS[role]}` } : {},
  });
}

describe('serving the installer', () => {
  it('fills in its own URL when it serves install.sh', async () => {
    const response = await get('/install.sh');
    assert.equal(response.status, 200);
    const script = await response.text();
    assert.match(script, new RegExp(`^DEFAULT_URL='${controlPlane.url}'$`, 'm'));
    assert.doesNotMatch(script, /@CRONPLANE_URL@/);
  });

  it('hands the connection settings to the agent token only, never to be cached', async () => {
    const response = await get('/v1/agents/bootstrap', 'agent');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const sha256 = await digestOf(`cronplane-agent-${V1}.cjs`);
    const versionUrl = `${controlPlane.url}/artifacts/agent/${encodeURIComponent(V1)}`;
    assert.deepEqual(await response.json(), {
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database: db.databaseName,
      prefix,
      controlPlaneUrl: controlPlane.url,
      agent: { version: V1, url: `${versionUrl}/cronplane-agent.cjs`, sha256 },
      launchers: {
        amd64: {
          url: `${versionUrl}/linux-amd64/cronplane-launcher`,
          sha256: await digestOf(launcherFile(V1, 'amd64')),
        },
        arm64: {
          url: `${versionUrl}/linux-arm64/cronplane-launcher`,
          sha256: await digestOf(launcherFile(V1, 'arm64')),
        },
      },
    });
    assert.equal((await get('/v1/agents/bootstrap', 'admin')).status, 403);
    assert.equal((await get('/v1/agents/bootstrap', 'viewer')).status, 403);
    assert.equal((await get('/v1/agents/bootstrap')).status, 401);
    // The agent token opens nothing else.
    assert.equal((await get('/v1/jobs', 'agent')).status, 403);
  });

  it('serves a bundle and its sha256 by version, and nothing outside the artifacts folder', async () => {
    const bundle = Buffer.from(
      await (await get(`/artifacts/agent/${V1}/cronplane-agent.cjs`)).arrayBuffer(),
    );
    const digest = await (await get(`/artifacts/agent/${V1}/cronplane-agent.cjs.sha256`)).text();
    assert.equal(
      digest,
      `${createHash('sha256').update(bundle).digest('hex')}  cronplane-agent.cjs\n`,
    );
    assert.equal((await get('/artifacts/agent/9.9.9/cronplane-agent.cjs')).status, 404);
    assert.equal((await get('/artifacts/agent/..%2F..%2Fetc/cronplane-agent.cjs')).status, 404);
  });

  it('serves the launcher and its sha256 by version and architecture, and no other', async () => {
    for (const arch of ['amd64', 'arm64']) {
      const path = `/artifacts/agent/${V1}/linux-${arch}/cronplane-launcher`;
      const response = await get(path);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/octet-stream');
      const launcher = Buffer.from(await response.arrayBuffer());
      assert.deepEqual(launcher, await readFile(join(artifactsDir, launcherFile(V1, arch))));
      const digest = await (await get(`${path}.sha256`)).text();
      assert.equal(
        digest,
        `${createHash('sha256').update(launcher).digest('hex')}  cronplane-launcher\n`,
      );
      assert.equal(digest.slice(0, 64), await digestOf(launcherFile(V1, arch)));
    }
    for (const path of [
      `/artifacts/agent/${V1}/linux-386/cronplane-launcher`,
      `/artifacts/agent/${V1}/linux-riscv64/cronplane-launcher.sha256`,
      `/artifacts/agent/${V1}/amd64/cronplane-launcher`,
      `/artifacts/agent/${V1}/..%2F..%2Flinux-amd64/cronplane-launcher`,
      '/artifacts/agent/9.9.9/linux-amd64/cronplane-launcher',
      '/artifacts/agent/..%2F..%2Fetc/linux-amd64/cronplane-launcher',
    ]) {
      const response = await get(path);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { code?: unknown }).code, 'not_found', path);
    }
  });
});

describe('a host added with install.sh', () => {
  it('installs into a scratch root, and the installed agent registers and runs a job', async () => {
    const installed = await installer(
      '--token',
      TOKENS.agent,
      '--labels',
      'role=installed',
      '--root',
      root,
      '--no-systemd',
    );
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, new RegExp(`installed agent ${V1.replace('+', '\\+')}`));
    const launcherSha256 = await digestOf(launcherFile(V1));
    assert.ok(
      installed.stdout.includes(
        `launcher ${join(root, LAUNCHER)} (linux-${ARCH}, sha256 ${launcherSha256} verified)`,
      ),
      installed.stdout,
    );
    // Beside the bundle, executable, the very file the control plane offers for this machine.
    assert.equal((await stat(join(root, LAUNCHER))).mode & 0o777, 0o755);
    assert.deepEqual(
      await readFile(join(root, LAUNCHER)),
      await readFile(join(artifactsDir, launcherFile(V1))),
    );
    assert.equal(await launcherVersion(join(root, LAUNCHER)), V1);
    assert.ok(
      !`${installed.stdout}${installed.stderr}`.includes(TOKENS.agent),
      'the token was printed',
    );
    assert.equal((await stat(join(root, CONFIG))).mode & 0o777, 0o600);
    const config = JSON.parse(await readFile(join(root, CONFIG), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(config.agentToken, TOKENS.agent);
    assert.equal(config.labels, 'role=installed');
    const unit = await readFile(join(root, 'etc/systemd/system/cronplane-agent.service'), 'utf8');
    assert.match(
      unit,
      /^ExecStart=\S+ --max-semi-space-size=1 \/opt\/cronplane\/cronplane-agent\.cjs --config \/etc\/cronplane\/agent\.json$/m,
    );
    assert.match(unit, /^User=cronplane$/m);

    // From the root, away from the checkout's node_modules: the bundle must need none.
    const agent = spawn(
      process.execPath,
      [join(root, BUNDLE), '--config', join(root, CONFIG), '--state-dir', join(root, STATE)],
      { cwd: root, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let agentLog = '';
    agent.stderr.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
    const exited = new Promise<number | null>((done) => agent.on('exit', done));
    try {
      const registration = await waitUntil(
        async () => {
          const workers = await etcd.getAll().prefix(`${prefix}workers/`).strings();
          return Object.keys(workers).length > 0 && workers;
        },
        { timeoutMs: 15_000, what: 'the installed agent to register in etcd' },
      ).catch((error: Error) => assert.fail(`${error.message}\n${agentLog}`));
      const [worker] = Object.values(registration).map(
        (value) => JSON.parse(value) as Record<string, unknown>,
      );
      assert.equal(worker?.version, V1);
      assert.deepEqual(worker?.labels, { role: 'installed' });

      const put = await fetch(`${controlPlane.url}/v1/jobs/installed`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'installed',
          command: 'echo ran by the installed agent',
          cronExpr: '* * * * * *',
          labels: { role: 'installed' },
        }),
      });
      assert.equal(put.status, 201, await put.text());
      const record = await waitUntil(
        () =>
          db.collection(RUN_LOG_COLLECTION).findOne({ jobName: 'installed', status: 'succeeded' }),
        { timeoutMs: 20_000, intervalMs: 200, what: 'a run of the installed agent in MongoDB' },
      ).catch((error: Error) => assert.fail(`${error.message}\n${agentLog}`));
      assert.equal(record.output, 'ran by the installed agent\n');
      // The bundle found the launcher beside it and started the run through it.
      const events = agentLog
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const launcher = events.find((event) => event.event === 'executor:launcher');
      assert.equal(launcher?.path, join(root, LAUNCHER), agentLog);
      assert.equal(launcher?.version, V1);
      assert.ok(!events.some((event) => event.event === 'executor:fallback'), agentLog);
    } finally {
      agent.kill('SIGTERM');
      assert.equal(await exited, 0, agentLog);
    }
  });

  it('upgrades in place when run again, keeping the token and labels it has', async () => {
    await buildAgent(artifactsDir, V2);
    const upgraded = await installer('--root', root, '--no-systemd');
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.match(upgraded.stdout, /upgraded agent 0\.1\.0\+install\.1 -> 0\.1\.0\+install\.2/);
    const version = await run(process.execPath, [join(root, BUNDLE), '--version'], root);
    assert.equal(version.stdout, `${V2}\n`);
    const config = JSON.parse(await readFile(join(root, CONFIG), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(config.agentToken, TOKENS.agent);
    assert.equal(config.labels, 'role=installed');
    // The launcher is replaced with the bundle: one version, as built together.
    assert.deepEqual(
      await readFile(join(root, LAUNCHER)),
      await readFile(join(artifactsDir, launcherFile(V2))),
    );
    assert.equal(await launcherVersion(join(root, LAUNCHER)), V2);
    assert.deepEqual((await readdir(join(root, 'opt/cronplane'))).sort(), [
      'cronplane-agent.cjs',
      'cronplane-launcher',
    ]);
    assert.deepEqual((await readdir(join(root, 'etc/cronplane'))).sort(), ['agent.json']);
  });

  it('refuses a bundle whose sha256 is not the one the control plane announced', async () => {
    const served = join(artifactsDir, `cronplane-agent-${V2}.cjs`);
    const original = await readFile(served);
    await appendFile(served, '\nprocess.exit(0);\n');
    try {
      const refused = await installer('--root', root, '--no-systemd');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /sha256 .* refusing to install it/);
      // The installed agent is the one from before, untouched.
      assert.deepEqual(await readFile(join(root, BUNDLE)), original);
    } finally {
      await writeFile(served, original);
    }
  });

  it('refuses a launcher whose sha256 is not the one the control plane announced', async () => {
    const served = join(artifactsDir, launcherFile(V2));
    const original = await readFile(served);
    const bundle = await readFile(join(root, BUNDLE));
    await appendFile(served, 'tampered');
    try {
      const refused = await installer('--root', root, '--no-systemd');
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /the launcher's sha256 is [0-9a-f]{64}, the control plane announced [0-9a-f]{64}: refusing to install it/,
      );
      // Nothing installed was touched, and nothing half-written is left beside it.
      assert.deepEqual(await readFile(join(root, LAUNCHER)), original);
      assert.deepEqual(await readFile(join(root, BUNDLE)), bundle);
      assert.deepEqual((await readdir(join(root, 'opt/cronplane'))).sort(), [
        'cronplane-agent.cjs',
        'cronplane-launcher',
      ]);
    } finally {
      await writeFile(served, original);
    }
  });

  it('refuses a machine no launcher is built for, naming it', async () => {
    // A uname that says riscv64, first on PATH.
    const bin = await mkdtemp(join(tmpdir(), 'cronplane-uname-'));
    try {
      await writeFile(
        join(bin, 'uname'),
        '#!/bin/sh\ncase $1 in -m) echo riscv64 ;; *) echo Linux ;; esac\n',
      );
      await chmod(join(bin, 'uname'), 0o755);
      const path = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
      const refused = await installerWithPath(path, '--root', root, '--no-systemd');
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /this machine is riscv64; .*x86_64 \(amd64\) and aarch64 \(arm64\)/,
      );
      const wrongArch = await installerWithPath(path, '--arch', 'riscv64', '--root', root);
      assert.equal(wrongArch.code, 1);
      assert.match(wrongArch.stderr, /--arch must be amd64 or arm64, not riscv64/);
      assert.equal(await launcherVersion(join(root, LAUNCHER)), V2);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it('installs a bundle built without launchers, removing the one it had', async () => {
    // An artifacts folder from before the launcher shipped: no launcher digests.
    const hidden = join(artifactsDir, 'hidden');
    await mkdir(hidden);
    const digests = ['amd64', 'arm64'].map((arch) => `${launcherFile(V2, arch)}.sha256`);
    for (const file of digests) await rename(join(artifactsDir, file), join(hidden, file));
    try {
      const bootstrap = (await (await get('/v1/agents/bootstrap', 'agent')).json()) as Record<
        string,
        unknown
      >;
      assert.deepEqual(bootstrap.launchers, {});
      assert.equal(
        (await get(`/artifacts/agent/${V2}/linux-amd64/cronplane-launcher`)).status,
        404,
      );
      const reinstalled = await installer('--root', root, '--no-systemd');
      assert.equal(reinstalled.code, 0, reinstalled.stderr);
      assert.match(reinstalled.stdout, /launcher none: .*runs start with Node/);
      assert.deepEqual(await readdir(join(root, 'opt/cronplane')), ['cronplane-agent.cjs']);
    } finally {
      for (const file of digests) await rename(join(hidden, file), join(artifactsDir, file));
      await rm(hidden, { recursive: true, force: true });
    }
    // And back: the next upgrade brings the launcher again.
    const upgraded = await installer('--root', root, '--no-systemd');
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.equal(await launcherVersion(join(root, LAUNCHER)), V2);
  });

  it('uninstalls, leaving nothing behind, but not while run logs wait to be sent', async () => {
    const spill = join(root, STATE, 'spill');
    await mkdir(spill, { recursive: true });
    await writeFile(join(spill, 'journal.jsonl'), '{"runId":"not-yet-sent"}\n');
    const refused = await installer('--uninstall', '--root', root, '--no-systemd');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not yet written to MongoDB/);

    await rm(join(spill, 'journal.jsonl'));
    const removed = await installer('--uninstall', '--root', root, '--no-systemd');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await readdir(root), []);
  });
});
