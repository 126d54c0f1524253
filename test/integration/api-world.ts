/**
 * A control plane over real HTTP, in one of three modes: on Node reading etcd and MongoDB
 * directly, on Node through a relay on its own loopback port, or the Worker under `wrangler dev`
 * through such a relay; with its own key prefix and database, plus raw clients to seed and
 * observe.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Etcd3 } from 'etcd3';
import type { Db } from 'mongodb';
import { MongoClient } from 'mongodb';
import type { DataConfig } from '../../control-plane/entry/node.ts';
import { startControlPlane } from '../../control-plane/entry/node.ts';
import type { Role } from '../../core/api.ts';
import type { KeyLayout } from '../../core/keys.ts';
import { createKeyLayout } from '../../core/keys.ts';
import { startRelay } from '../../relay/server.ts';
import type { Stack } from '../stack/index.ts';
import { uniqueDatabase, uniquePrefix } from '../stack/index.ts';
import { startWranglerDev } from '../stack/wrangler-dev.ts';

export type ApiMode = 'direct' | 'relay' | 'worker';
export const API_MODES: readonly ApiMode[] = ['direct', 'relay', 'worker'];

export const TOKENS: Readonly<Record<Role, string>> = {
  admin: 'admin-token-for-tests-0123456789',
  viewer: 'viewer-token-for-tests-0123456789',
  agent: 'agent-token-for-tests-0123456789',
};

const RELAY_SECRET = 'api-test-relay-secret-0123456789';

interface ServedApi {
  readonly url: string;
  stop(): Promise<void>;
}

/** The Worker under `wrangler dev`, reaching the relay at `relayUrl`, with the test tokens. */
async function startWorker(relayUrl: string): Promise<ServedApi> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cronplane-worker-'));
  const worker = await startWranglerDev({
    dataDir,
    vars: {
      RELAY_URL: relayUrl,
      RELAY_SECRET,
      ADMIN_TOKEN: TOKENS.admin,
      VIEWER_TOKEN: TOKENS.viewer,
      AGENT_TOKEN: TOKENS.agent,
    },
  });
  return {
    url: worker.url,
    async stop() {
      await worker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CallOptions {
  /** A role's token, `none` for no Authorization header, or a literal token. Default admin. */
  readonly as?: Role | 'none' | { readonly token: string };
  readonly body?: unknown;
  /** Sent as is instead of `body`; a stream goes chunked, without Content-Length. */
  readonly rawBody?: string | Buffer | (() => Readable);
  readonly headers?: Record<string, string>;
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  readonly json: unknown;
}

/**
 * One request on a connection of its own, through node:http: the path goes out exactly as
 * written (fetch would resolve `..`), and a server that answers an oversized body early and
 * closes the connection cannot break the next request on a reused socket.
 */
function send(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | Readable | undefined,
): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      method,
      path,
      headers: {
        ...(typeof body === 'string' || Buffer.isBuffer(body)
          ? { 'content-length': String(Buffer.byteLength(body)) }
          : {}),
        ...headers,
      },
      agent: false,
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    // Once answered, a reset while we were still sending an oversized body is expected.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (body instanceof Readable) {
      body.on('error', () => request.destroy());
      body.pipe(request);
    } else {
      request.end(body);
    }
  });
}

export interface ApiWorld {
  readonly mode: ApiMode;
  readonly url: string;
  readonly keys: KeyLayout;
  readonly database: string;
  readonly etcd: Etcd3;
  readonly db: Db;
  call(method: string, path: string, options?: CallOptions): Promise<ApiAnswer>;
  /** Key → value and mod revision under the prefix: equal snapshots mean nothing was written. */
  keyspace(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function openApiWorld(stack: Stack, mode: ApiMode): Promise<ApiWorld> {
  const prefix = uniquePrefix();
  const database = uniqueDatabase();
  const direct = {
    etcdEndpoints: stack.etcd.endpoints,
    mongoUrl: stack.mongo.url,
    database,
    prefix,
  };
  const relay =
    mode === 'direct'
      ? undefined
      : await startRelay({ ...direct, secret: RELAY_SECRET, port: 0, host: '127.0.0.1' });
  const data: DataConfig = relay
    ? { kind: 'relay', url: relay.url, secret: RELAY_SECRET }
    : { kind: 'direct', ...direct };
  const controlPlane: ServedApi = await (
    mode === 'worker' && relay
      ? startWorker(relay.url)
      : startControlPlane({
          port: 0,
          host: '127.0.0.1',
          data,
          tokens: (Object.keys(TOKENS) as Role[]).map((role) => ({
            name: role,
            role,
            token: TOKENS[role],
          })),
        })
  ).catch(async (error: unknown) => {
    await relay?.stop();
    throw error;
  });
  const etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  const mongo = new MongoClient(stack.mongo.url);

  return {
    mode,
    url: controlPlane.url,
    keys: createKeyLayout(prefix),
    database,
    etcd,
    db: mongo.db(database),
    call(method, path, { as = 'admin', body, rawBody, headers = {} } = {}) {
      const token = as === 'none' ? undefined : typeof as === 'string' ? TOKENS[as] : as.token;
      const payload =
        typeof rawBody === 'function'
          ? rawBody()
          : (rawBody ?? (body === undefined ? undefined : JSON.stringify(body)));
      return send(
        controlPlane.url,
        method,
        path,
        {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        payload,
      );
    },
    async keyspace() {
      const { kvs } = await etcd.getAll().prefix(prefix).exec();
      return Object.fromEntries(
        kvs.map((kv) => [kv.key.toString(), `${kv.mod_revision}:${kv.value.toString('base64')}`]),
      );
    },
    async close() {
      await controlPlane.stop();
      await relay?.stop();
      etcd.close();
      await mongo.close();
    },
  };
}
