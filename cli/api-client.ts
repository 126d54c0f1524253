/**
 * A small client of the control plane's API for the CLI: where to connect (flags, environment,
 * or the `npm start` stack's .cronplane/dev.json), and errors rebuilt from `{error, code, details}`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CronplaneError, fromErrorBody } from '../core/errors.ts';
import { isRecord } from '../core/wire.ts';

export interface ApiTarget {
  readonly url: string;
  readonly token: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiClient {
  /** Resolves for 2xx answers; throws the API's error otherwise. */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
}

/** The local stack's endpoints, so `cronplane job` works right after `npm start`. */
function devTarget(cwd: string): Partial<ApiTarget> {
  const path = join(cwd, '.cronplane', 'dev.json');
  if (!existsSync(path)) return {};
  try {
    const dev: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isRecord(dev)) return {};
    return {
      ...(typeof dev.controlPlaneUrl === 'string' ? { url: dev.controlPlaneUrl } : {}),
      ...(typeof dev.adminToken === 'string' ? { token: dev.adminToken } : {}),
    };
  } catch {
    return {};
  }
}

export function resolveTarget(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): ApiTarget {
  const dev = devTarget(cwd);
  const url = flags.url ?? env.CRONPLANE_URL ?? dev.url;
  const token = flags.token ?? env.CRONPLANE_TOKEN ?? dev.token;
  if (!url)
    throw new CronplaneError('invalid_config', 'no API URL: pass --url or set CRONPLANE_URL');
  if (!token) {
    throw new CronplaneError('invalid_config', 'no API token: pass --token or set CRONPLANE_TOKEN');
  }
  return { url: url.replace(/\/+$/, ''), token };
}

export function createApiClient(target: ApiTarget): ApiClient {
  return {
    async request(method, path, body, headers = {}) {
      let response: Response;
      try {
        response = await fetch(target.url + path, {
          method,
          headers: {
            authorization: `Bearer ${target.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        const reason = error instanceof Error ? (error.cause ?? error) : error;
        throw new CronplaneError('unavailable', `cannot reach ${target.url}: ${String(reason)}`);
      }
      const text = await response.text();
      let json: unknown = undefined;
      if (text !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      if (!response.ok) throw fromErrorBody(json, `HTTP ${response.status} from ${target.url}`);
      return { status: response.status, body: json };
    },
  };
}
