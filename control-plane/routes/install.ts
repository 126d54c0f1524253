/**
 * Adding a host: `GET /install.sh`, the agent bundle and its launcher for each architecture,
 * each with its SHA-256, at versioned URLs are public (they hold no secrets, and they may live on
 * a CDN instead); the connection settings a new agent needs come from `GET /v1/agents/bootstrap`,
 * for the agent token only.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { CronplaneError } from '../../core/errors.ts';
import type { AppEnv } from '../auth.ts';
import type { AgentArtifact, AgentInstall, LauncherArch } from '../ports.ts';
import { LAUNCHER_ARCHES } from '../ports.ts';

const BUNDLE_FILE = 'cronplane-agent.cjs';
/** Served as `<version>/linux-<arch>/cronplane-launcher`, the name it is installed under. */
const LAUNCHER_FILE = 'cronplane-launcher';

/** What scripts/build-agent.mjs accepts; never a path separator. */
const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

/** install.sh's stand-in for the URL it was downloaded from. */
const URL_PLACEHOLDER = '@CRONPLANE_URL@';

/**
 * The base URL goes into a single-quoted shell string, and the Host header is the client's to
 * choose: only characters that cannot end the quote or start an expansion get through.
 */
const SCRIPT_SAFE_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/[A-Za-z0-9._~/-]*)?$/;

interface AgentBootstrap {
  readonly etcdEndpoints: readonly string[];
  readonly mongoUrl: string;
  readonly database: string;
  readonly prefix: string;
  readonly controlPlaneUrl: string;
  readonly agent: { readonly version: string; readonly url: string; readonly sha256: string };
  /** The launcher of the agent's version, by architecture; one not built is left out. */
  readonly launchers: Partial<
    Record<LauncherArch, { readonly url: string; readonly sha256: string }>
  >;
}

function baseUrl(install: AgentInstall, c: Context<AppEnv>): string {
  const url = (install.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');
  if (!SCRIPT_SAFE_URL.test(url)) {
    throw new CronplaneError(
      'invalid_input',
      'this control plane URL cannot be used by install.sh',
    );
  }
  return url;
}

/** A version's folder of downloads: this server's `/artifacts/agent/<version>` or a CDN's. */
function versionUrl(install: AgentInstall, base: string, version: string): string {
  const artifacts = install.artifactBaseUrl?.replace(/\/+$/, '') ?? `${base}/artifacts/agent`;
  return `${artifacts}/${encodeURIComponent(version)}`;
}

async function findArtifact(install: AgentInstall, version: string): Promise<AgentArtifact> {
  const artifact = VERSION_PATTERN.test(version) ? await install.artifacts.find(version) : null;
  if (!artifact) throw new CronplaneError('not_found', `no agent bundle of version "${version}"`);
  return artifact;
}

/** `linux-amd64` → `amd64`; anything but a platform the launcher is built for is not found. */
function launcherArch(platform: string): LauncherArch {
  const arch = LAUNCHER_ARCHES.find((known) => platform === `linux-${known}`);
  if (!arch) throw new CronplaneError('not_found', `no launcher is built for "${platform}"`);
  return arch;
}

async function findLauncher(
  install: AgentInstall,
  version: string,
  platform: string,
): Promise<{ readonly version: string; readonly arch: LauncherArch; readonly sha256: string }> {
  const arch = launcherArch(platform);
  const artifact = await findArtifact(install, version);
  const sha256 = artifact.launchers[arch];
  if (sha256 === undefined) {
    throw new CronplaneError('not_found', `no launcher of version "${version}" for linux-${arch}`);
  }
  return { version: artifact.version, arch, sha256 };
}

/** The public routes, mounted at `/`. */
export function installRoutes(install: AgentInstall): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/install.sh', async (c) => {
      const script = await install.artifacts.installScript();
      c.header('content-type', 'text/plain; charset=utf-8');
      c.header('cache-control', 'no-cache');
      return c.body(script.replaceAll(URL_PLACEHOLDER, baseUrl(install, c)));
    })
    .get(`/artifacts/agent/:version/${BUNDLE_FILE}`, async (c) => {
      const { version } = await findArtifact(install, c.req.param('version'));
      const bytes = await install.artifacts.read(version);
      if (!bytes) throw new CronplaneError('not_found', `no agent bundle of version "${version}"`);
      c.header('content-type', 'application/octet-stream');
      return c.body(bytes);
    })
    .get(`/artifacts/agent/:version/${BUNDLE_FILE}.sha256`, async (c) => {
      const { sha256Hex } = await findArtifact(install, c.req.param('version'));
      c.header('content-type', 'text/plain; charset=utf-8');
      return c.body(`${sha256Hex}  ${BUNDLE_FILE}\n`);
    })
    .get(`/artifacts/agent/:version/:platform/${LAUNCHER_FILE}`, async (c) => {
      const { version, arch } = await findLauncher(
        install,
        c.req.param('version'),
        c.req.param('platform'),
      );
      const bytes = await install.artifacts.readLauncher(version, arch);
      if (!bytes) {
        throw new CronplaneError(
          'not_found',
          `no launcher of version "${version}" for linux-${arch}`,
        );
      }
      c.header('content-type', 'application/octet-stream');
      return c.body(bytes);
    })
    .get(`/artifacts/agent/:version/:platform/${LAUNCHER_FILE}.sha256`, async (c) => {
      const { sha256 } = await findLauncher(
        install,
        c.req.param('version'),
        c.req.param('platform'),
      );
      c.header('content-type', 'text/plain; charset=utf-8');
      return c.body(`${sha256}  ${LAUNCHER_FILE}\n`);
    });
}

/** The agent-token route, mounted at `/v1` behind authentication. */
export function agentBootstrapRoutes(install: AgentInstall): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/agents/bootstrap', async (c) => {
    const current = await install.artifacts.current();
    if (!current) {
      throw new CronplaneError(
        'unavailable',
        'this control plane has no agent bundle to offer (run `npm run build:agent` there)',
      );
    }
    const base = baseUrl(install, c);
    const downloads = versionUrl(install, base, current.version);
    const launchers: AgentBootstrap['launchers'] = {};
    for (const arch of LAUNCHER_ARCHES) {
      const sha256 = current.launchers[arch];
      if (sha256 !== undefined) {
        launchers[arch] = { url: `${downloads}/linux-${arch}/${LAUNCHER_FILE}`, sha256 };
      }
    }
    const { etcdEndpoints, mongoUrl, database, prefix } = install.connection;
    // It carries database credentials: no cache anywhere may keep it.
    c.header('cache-control', 'no-store');
    return c.json({
      etcdEndpoints,
      mongoUrl,
      database,
      prefix,
      controlPlaneUrl: base,
      agent: {
        version: current.version,
        url: `${downloads}/${BUNDLE_FILE}`,
        sha256: current.sha256Hex,
      },
      launchers,
    } satisfies AgentBootstrap);
  });
}
