/**
 * @module The control plane on Cloudflare Workers: the same app as on Node, its data ports over
 * the signed relay (a Worker cannot keep database connections; see README "Edge and live
 * health"), live health in a Durable Object. Static console files are served by Workers assets
 * (wrangler.toml) before a request reaches this code.
 */
import type { Hono } from 'hono';
import { CronplaneError, toErrorBody } from '../../core/errors.ts';
import { createRelayClient } from '../adapters/relay-client/relay-client.ts';
import { createRelayPorts } from '../adapters/relay-client/relay-ports.ts';
import { createApp } from '../app.ts';
import type { AppEnv } from '../auth.ts';
import { createDurableObjectHub } from '../health/durable-object-hub.ts';
import type { HealthHubObject } from '../health/health-hub-object.ts';
import type { TokenConfig } from '../token-config.ts';
import { createTokenEntries } from '../token-config.ts';

export { HealthHubObject } from '../health/health-hub-object.ts';

/** Bindings: RELAY_URL is a var; the secret and the tokens are secrets (`wrangler secret put`). */
export interface Env {
  readonly RELAY_URL?: string;
  readonly RELAY_SECRET?: string;
  readonly ADMIN_TOKEN?: string;
  readonly VIEWER_TOKEN?: string;
  readonly AGENT_TOKEN?: string;
  readonly HEALTH_HUB: DurableObjectNamespace<HealthHubObject>;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') {
    throw new CronplaneError(
      'invalid_config',
      `the Worker has no ${name}: a var in wrangler.toml, or \`wrangler secret put ${name}\``,
    );
  }
  return value;
}

async function buildApp(env: Env): Promise<Hono<AppEnv>> {
  const tokens: TokenConfig[] = (
    [
      ['admin', env.ADMIN_TOKEN],
      ['viewer', env.VIEWER_TOKEN],
      ['agent', env.AGENT_TOKEN],
    ] as const
  ).flatMap(([role, token]) => (token ? [{ name: role, role, token }] : []));
  const relay = createRelayClient({
    url: required(env.RELAY_URL, 'RELAY_URL'),
    secret: required(env.RELAY_SECRET, 'RELAY_SECRET'),
  });
  return createApp({
    ...createRelayPorts(relay),
    auth: { tokens: await createTokenEntries(tokens) },
    healthHub: createDurableObjectHub(env.HEALTH_HUB),
  });
}

// Built once per isolate: bindings do not change while it lives.
const apps = new WeakMap<Env, Promise<Hono<AppEnv>>>();

export default {
  async fetch(request, env) {
    let app = apps.get(env);
    if (!app) {
      app = buildApp(env);
      apps.set(env, app);
    }
    try {
      return await (await app).fetch(request);
    } catch (error) {
      // Only a configuration error gets here: the app answers its own errors.
      const known =
        error instanceof CronplaneError ? error : new CronplaneError('internal', 'internal error');
      if (!(error instanceof CronplaneError)) console.error(error);
      return Response.json(toErrorBody(known), { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
