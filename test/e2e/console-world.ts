/**
 * The world the console's browser tests run in: the console built from source into a temporary
 * folder, the real stack, a Node control plane serving that build, one real agent connected to
 * it for health, and Debian's Chromium driven by playwright-core. Pages are watched: any console
 * error, uncaught exception, failed request or response ≥ 400 is a problem, unless the scenario
 * declared it as one it provokes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { RunningControlPlane } from '../../control-plane/entry/node.ts';
import { startControlPlane } from '../../control-plane/entry/node.ts';
import type { Role } from '../../core/api.ts';
import type { AgentProcess } from '../agent/agent-process.ts';
import { startAgentProcess } from '../agent/agent-process.ts';
import { TOKENS } from '../integration/api-world.ts';
import type { Stack } from '../stack/index.ts';
import { startStack, uniqueDatabase, uniquePrefix } from '../stack/index.ts';

export { TOKENS };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOT_DIR = join(ROOT, 'test-artifacts/console');
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
export const AGENT_ID = 'console-agent';
const DEFAULT_WAIT_MS = 10_000;
/** Small, so a few lines of output show the truncation marker. */
export const AGENT_MAX_OUTPUT_BYTES = 1024;

/** A request a scenario makes fail on purpose. */
export interface ExpectedFailure {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
}

export interface WatchedPage {
  readonly page: Page;
  /** Declares failures this scenario provokes, so they are not reported as problems. */
  expectFailures(...failures: ExpectedFailure[]): void;
  /** The problems seen since the last call, then forgets them. */
  takeProblems(): string[];
  /** Saves `<name>.png` at 1280 px and `<name>-phone.png` at 390 px, full page. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleWorld {
  readonly url: string;
  readonly agent: AgentProcess;
  openPage(): Promise<WatchedPage>;
  /** An API call from the test itself (not the browser), as `role`. */
  api(method: string, path: string, body?: unknown, role?: Role): Promise<Response>;
  close(): Promise<void>;
}

function buildConsole(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'cronplane-console-'));
  const build = spawnSync(process.execPath, [join(ROOT, 'console/build.mjs'), outDir], {
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    throw new Error(`the console did not build:\n${build.stdout}${build.stderr}`);
  }
  return outDir;
}

async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}. The console's browser tests are required: install it ` +
        'with scripts/install-deps.sh (Debian package "chromium").',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

function watch(page: Page): WatchedPage {
  const expected: ExpectedFailure[] = [];
  let problems: string[] = [];
  const isExpected = (method: string, url: string, status: number) =>
    expected.some(
      (failure) =>
        failure.method === method &&
        failure.status === status &&
        failure.path.test(new URL(url).pathname),
    );

  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every response ≥ 400 as a console error too; those are judged below.
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    if (status !== undefined) return;
    problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(
      `request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`,
    ),
  );
  page.on('response', (response) => {
    const request = response.request();
    if (
      response.status() < 400 ||
      isExpected(request.method(), response.url(), response.status())
    ) {
      return;
    }
    problems.push(`HTTP ${response.status()}: ${request.method()} ${response.url()}`);
  });

  return {
    page,
    expectFailures: (...failures) => expected.push(...failures),
    takeProblems() {
      const taken = problems;
      problems = [];
      return taken;
    },
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
      await page.setViewportSize(PHONE);
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
      await page.setViewportSize(DESKTOP);
    },
    close: () => page.context().close(),
  };
}

export async function openConsoleWorld(): Promise<ConsoleWorld> {
  const browser = await launchChromium();
  const consoleDir = buildConsole();
  let stack: Stack | undefined;
  let controlPlane: RunningControlPlane | undefined;
  try {
    stack = await startStack();
    const data = {
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database: uniqueDatabase(),
      prefix: uniquePrefix(),
    };
    controlPlane = await startControlPlane({
      port: 0,
      host: '127.0.0.1',
      data: { kind: 'direct', ...data },
      tokens: (Object.keys(TOKENS) as Role[]).map((role) => ({
        name: role,
        role,
        token: TOKENS[role],
      })),
      consoleDir,
    });
    const { url } = controlPlane;
    const agent = startAgentProcess({
      ...data,
      agentId: AGENT_ID,
      extraArgs: [
        '--control-plane-url',
        url,
        '--agent-token',
        TOKENS.agent,
        '--max-output-bytes',
        String(AGENT_MAX_OUTPUT_BYTES),
      ],
    });
    await agent.waitForEvent('health:connected');
    const running = { stack, controlPlane };
    return {
      url,
      agent,
      async openPage() {
        const context = await browser.newContext({ viewport: DESKTOP });
        const page = await context.newPage();
        // Waits that expect more (a run to appear) say so; the rest fail fast.
        page.setDefaultTimeout(DEFAULT_WAIT_MS);
        return watch(page);
      },
      api: (method, path, body, role = 'admin') =>
        fetch(url + path, {
          method,
          headers: {
            authorization: `Bearer ${TOKENS[role]}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      async close() {
        // The browser goes first: its health stream would otherwise retry against a closed port.
        await browser.close();
        await agent.stop();
        await running.controlPlane.stop();
        await running.stack.stop();
      },
    };
  } catch (error) {
    await browser.close();
    await controlPlane?.stop();
    await stack?.stop();
    throw error;
  }
}
