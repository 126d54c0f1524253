// Builds the agent as one self-contained CommonJS file that runs on a plain `node` (>= 20.19)
// with no npm install, and ships cronplane-launcher (launcher/README.md) of the same version
// beside it for each architecture:
//
//   <out>/cronplane-agent-<version>.cjs                     the bundle
//   <out>/cronplane-agent-<version>.cjs.sha256              its digest, in `sha256sum -c` format
//   <out>/cronplane-launcher-<version>-linux-<arch>          the launcher (amd64, arm64)
//   <out>/cronplane-launcher-<version>-linux-<arch>.sha256  its digest, likewise
//   <out>/manifest.json     {"version", "launchers": {"<arch>": "<sha256>"}}: what is offered
//
// usage: node scripts/build-agent.mjs [--out-dir dist/agent] [--version V]
// The version defaults to package.json's plus the git commit (`0.1.0+1a2b3c4`, `.dirty` when
// the work tree has changes), so two different builds never share a name. The launchers are
// built by scripts/build-launcher.sh (into dist/launcher, stamped with the same version), which
// needs Go: without it the build fails, as the launcher is part of the agent.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = join(ROOT, 'cli/agent-bundle.ts');
const BUILD_LAUNCHER = join(ROOT, 'scripts/build-launcher.sh');
/** Go's names, as scripts/build-launcher.sh and the installer use them. */
const LAUNCHER_ARCHES = ['amd64', 'arm64'];
const GO_ARCH = { x64: 'amd64', arm64: 'arm64' };
const require = createRequire(join(ROOT, 'package.json'));

/** Native speed-ups of `ws`, loaded in a try/catch: stubbed so no host copy is ever picked up. */
const STUBBED = ['bufferutil', 'utf-8-validate'];

/**
 * mongodb's optional peers (Kerberos, compressors, cloud credentials, encryption, SOCKS) are
 * required lazily, in a try/catch, only when a connection string asks for them. Left external,
 * an operator who needs one can `npm install` it into /opt/cronplane/node_modules.
 */
const EXTERNAL = Object.keys(require('mongodb/package.json').peerDependencies ?? {});

/** Same as etcd3's own call; keepCase also shapes the parsed field names. */
const ETCD_PROTO_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The call in etcd3/lib/connection-pool.js that reads .proto files next to it at start-up. */
const ETCD_PROTO_LOAD = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`,';

function stampedVersion() {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const git = (...args) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const dirty = git('status', '--porcelain').trim() !== '' ? '.dirty' : '';
    return `${version}+${commit}${dirty}`;
  } catch {
    return version; // not a git checkout (e.g. a source tarball)
  }
}

/**
 * etcd3 parses its .proto files from disk when first required, which a bundle cannot do
 * (ENOENT). Parse them here instead and hand proto-loader the result through `fromJSON`, its
 * in-memory twin of `loadSync`; both then build the same package definition.
 */
function inlineEtcdProtos() {
  const etcdRequire = createRequire(require.resolve('etcd3'));
  const protoLoader = etcdRequire('@grpc/proto-loader');
  const protobuf = createRequire(etcdRequire.resolve('@grpc/proto-loader'))('protobufjs');
  const protoFile = join(dirname(etcdRequire.resolve('etcd3')), '../proto/rpc.proto');
  const root = new protobuf.Root().loadSync(protoFile, ETCD_PROTO_OPTIONS);
  root.resolveAll();
  const json = root.toJSON();
  assertSameServices(
    protoLoader.loadSync(protoFile, ETCD_PROTO_OPTIONS),
    protoLoader.fromJSON(json, ETCD_PROTO_OPTIONS),
  );
  return {
    name: 'inline-etcd-protos',
    setup(build) {
      build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, ({ path }) => {
        const source = readFileSync(path, 'utf8');
        // A silent miss would ship a bundle that dies at start: fail the build instead.
        if (source.split(ETCD_PROTO_LOAD).length !== 2) {
          throw new Error(`etcd3 changed how it loads its protos; update ${ETCD_PROTO_LOAD}`);
        }
        const inlined = `(0, proto_loader_1.fromJSON)(${JSON.stringify(json)},`;
        return { contents: source.replace(ETCD_PROTO_LOAD, () => inlined), loader: 'js' };
      });
    },
  };
}

function assertSameServices(fromDisk, inlined) {
  const paths = (definition) =>
    Object.values(definition)
      .flatMap((entry) => Object.values(entry).map((method) => method?.path))
      .filter((path) => typeof path === 'string')
      .sort()
      .join();
  if (paths(fromDisk) === '' || paths(fromDisk) !== paths(inlined)) {
    throw new Error('inlined etcd protos do not define the same gRPC methods as the originals');
  }
}

/** Resolves the stubbed modules to one that throws, as a missing optional module would. */
function stubModules(names) {
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[/.-]/g, '\\$&')).join('|')})$`);
  return {
    name: 'stub-optional-modules',
    setup(build) {
      build.onResolve({ filter }, ({ path }) => ({ path, namespace: 'stub' }));
      build.onLoad({ filter: /.*/, namespace: 'stub' }, ({ path }) => ({
        contents: `const e = new Error(${JSON.stringify(`${path} is not in the cronplane agent bundle`)});
e.code = 'MODULE_NOT_FOUND';
throw e;`,
        loader: 'js',
      }));
    },
  };
}

/** Runs the bundle away from node_modules, so nothing can be resolved from the checkout. */
function smokeTest(bundle, version) {
  const dir = mkdtempSync(join(tmpdir(), 'cronplane-agent-smoke-'));
  try {
    const copy = join(dir, 'agent.cjs');
    copyFileSync(bundle, copy);
    const printed = execFileSync(process.execPath, [copy, '--version'], { encoding: 'utf8' });
    if (printed.trim() !== version) throw new Error(`bundle printed version "${printed.trim()}"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sha256Of = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * Builds (or reuses) the launcher for every architecture with scripts/build-launcher.sh, stamped
 * with the bundle's version, and copies each into the out dir with its digest. Returns the
 * digests by architecture.
 */
function shipLaunchers(outDir, version) {
  try {
    // Its progress (and, without Go, the reason) goes to stderr; the paths it prints are known.
    execFileSync('bash', [BUILD_LAUNCHER, '--version', version, '--arch', 'all'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch {
    console.error(
      'build-agent: building cronplane-launcher failed (the reason is above). The agent ships ' +
        'with it, so there is no agent build without it; it needs Go >= 1.22 (`go` on PATH or ' +
        'in /usr/local/go/bin).',
    );
    process.exit(1);
  }
  const launchers = {};
  for (const arch of LAUNCHER_ARCHES) {
    const dir = join(ROOT, 'dist/launcher', `linux-${arch}`);
    const built = readFileSync(join(dir, 'VERSION'), 'utf8').trim();
    if (built !== version) {
      throw new Error(`${dir} holds launcher ${built}, not ${version}: build it again`);
    }
    const bytes = readFileSync(join(dir, 'cronplane-launcher'));
    const sha256 = sha256Of(bytes);
    const recorded = readFileSync(join(dir, 'cronplane-launcher.sha256'), 'utf8').slice(0, 64);
    if (recorded !== sha256) {
      throw new Error(`${dir}/cronplane-launcher does not match its .sha256 (${recorded})`);
    }
    if (GO_ARCH[process.arch] === arch) smokeTestLauncher(join(dir, 'cronplane-launcher'), version);
    const name = `cronplane-launcher-${version}-linux-${arch}`;
    // Copied beside its final name and moved into place, so no one ever serves half a binary.
    const tmp = join(outDir, `.${name}.tmp`);
    copyFileSync(join(dir, 'cronplane-launcher'), tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, join(outDir, name));
    writeFileSync(join(outDir, `${name}.sha256`), `${sha256}  ${name}\n`);
    launchers[arch] = sha256;
    console.log(`${join(outDir, name)}: ${bytes.length} bytes, sha256 ${sha256}`);
  }
  return launchers;
}

/** Starts the launcher with its stdin closed: it greets with its version, then exits. */
function smokeTestLauncher(binary, version) {
  const printed = execFileSync(binary, [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000,
  });
  const hello = JSON.parse(printed.split('\n')[0]);
  if (hello.t !== 'hello' || hello.version !== version) {
    throw new Error(`${binary} greeted with ${printed.trim()}, not version ${version}`);
  }
}

async function main() {
  const { values } = parseArgs({
    options: { 'out-dir': { type: 'string' }, version: { type: 'string' } },
  });
  const outDir = values['out-dir'] ?? join(ROOT, 'dist/agent');
  const version = values.version ?? stampedVersion();
  if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/.test(version)) {
    throw new Error(`version "${version}" is not a plain version string`);
  }
  const name = `cronplane-agent-${version}.cjs`;
  const outfile = join(outDir, name);
  mkdirSync(outDir, { recursive: true });
  // First: without Go there is no agent to build, and this says so before esbuild runs.
  const launchers = shipLaunchers(outDir, version);

  const startedAt = performance.now();
  await esbuild.build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    // Whitespace and syntax only: stack traces from a host keep their function names.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof',
    banner: { js: `#!/usr/bin/env node\n// cronplane agent ${version}` },
    define: { CRONPLANE_AGENT_VERSION: JSON.stringify(version) },
    external: EXTERNAL,
    plugins: [inlineEtcdProtos(), stubModules(STUBBED)],
    logLevel: 'warning',
    // cli/agent-command.ts reads package.json through import.meta.url only when no version is
    // passed; the bundle always passes one.
    logOverride: { 'empty-import-meta': 'silent' },
  });
  const buildMs = Math.round(performance.now() - startedAt);

  const bytes = readFileSync(outfile);
  const sha256 = sha256Of(bytes);
  smokeTest(outfile, version);
  writeFileSync(`${outfile}.sha256`, `${sha256}  ${name}\n`);
  console.log(`${outfile}: ${bytes.length} bytes, sha256 ${sha256}, built in ${buildMs} ms`);
  // Written last: the control plane never offers a version whose files are incomplete.
  writeFileSync(
    join(outDir, 'manifest.json'),
    `${JSON.stringify({ version, launchers }, null, 2)}\n`,
  );
}

await main();
