/**
 * Bearer-token authentication and role checks. Tokens are kept as SHA-256 digests and compared
 * in constant time against every configured digest, so neither the tokens nor which of them
 * nearly matched can be learned from the server.
 */
import type { MiddlewareHandler } from 'hono';
import type { Role } from '../core/api.ts';
import { bytesToHex, constantTimeEqual, hexToBytes } from '../core/bytes.ts';
import { CronplaneError } from '../core/errors.ts';
import type { AuthConfig, TokenEntry } from './ports.ts';
import { bearerFromSubprotocols, isWebSocketUpgrade, offeredSubprotocols } from './subprotocols.ts';

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

export interface AppEnv {
  Variables: { principal: Principal };
}

/**
 * What a route needs: `read` (inspect anything), `write` (change jobs, kill runs), `connect`
 * (an agent's health session) or `bootstrap` (a new agent's connection settings) — the last
 * two the agent token's only uses.
 */
export type Access = 'read' | 'write' | 'connect' | 'bootstrap';

/** The role matrix. */
export const ACCESS_BY_ROLE: Readonly<Record<Role, readonly Access[]>> = {
  admin: ['read', 'write'],
  viewer: ['read'],
  agent: ['connect', 'bootstrap'],
};

export const AGENT_CONNECT_PATH = '/v1/agents/connect';
/** It hands out database credentials: agents only, not even admins. */
export const AGENT_BOOTSTRAP_PATH = '/v1/agents/bootstrap';

/** The access a request needs: by method, except for the agent endpoints. */
export function accessFor(method: string, path: string): Access {
  if (path === AGENT_CONNECT_PATH) return 'connect';
  if (path === AGENT_BOOTSTRAP_PATH && method === 'GET') return 'bootstrap';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** Tokens longer than this are refused before hashing; real ones are ~43 characters. */
const MAX_TOKEN_CHARS = 1024;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return bytesToHex(new Uint8Array(digest));
}

/** Builds a token entry from a plain token, for entry files reading tokens from configuration. */
export async function createTokenEntry(
  name: string,
  role: Role,
  token: string,
): Promise<TokenEntry> {
  return { name, role, sha256Hex: await sha256Hex(token) };
}

interface KnownToken {
  readonly principal: Principal;
  readonly digest: Uint8Array;
}

function prepareTokens(auth: AuthConfig): KnownToken[] {
  return auth.tokens.map((entry) => {
    const digest = hexToBytes(entry.sha256Hex);
    if (!digest || digest.length !== 32) {
      throw new CronplaneError('invalid_config', `token "${entry.name}" has no valid SHA-256 hash`);
    }
    return { principal: { name: entry.name, role: entry.role }, digest };
  });
}

/**
 * The bearer token: from `Authorization`, or on a WebSocket upgrade without that header from a
 * `bearer.<token>` subprotocol (browsers cannot set headers on a WebSocket; see subprotocols.ts).
 */
function bearerToken(header: (name: string) => string | undefined): string | undefined {
  const authorization = header('authorization');
  if (authorization === undefined && isWebSocketUpgrade(header('upgrade'))) {
    return bearerFromSubprotocols(offeredSubprotocols(header('sec-websocket-protocol')));
  }
  return /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
}

/** Resolves the bearer token to a principal, or answers 401. */
export function authenticate(auth: AuthConfig): MiddlewareHandler<AppEnv> {
  const known = prepareTokens(auth);
  return async (c, next) => {
    const token = bearerToken((name) => c.req.header(name));
    if (token === undefined || token.length > MAX_TOKEN_CHARS) {
      throw new CronplaneError('unauthorized', 'a bearer token is required');
    }
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)),
    );
    let principal: Principal | undefined;
    // No early exit: every configured token is compared on every request.
    for (const candidate of known) {
      if (constantTimeEqual(candidate.digest, digest)) principal = candidate.principal;
    }
    if (!principal) throw new CronplaneError('unauthorized', 'unknown token');
    c.set('principal', principal);
    await next();
  };
}

/** Answers 403 unless the authenticated role grants `access`. */
export function requireAccess(access: Access): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { role } = c.get('principal');
    if (!ACCESS_BY_ROLE[role].includes(access)) {
      throw new CronplaneError('forbidden', `role "${role}" may not ${access} here`);
    }
    await next();
  };
}
