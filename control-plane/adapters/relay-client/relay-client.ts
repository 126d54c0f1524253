/**
 * Calls relay operations over signed HTTP. Errors come back as `{error, code, details}` and are
 * rebuilt with `fromErrorBody`, never matched with `instanceof` across the hop.
 */
import { CronplaneError, fromErrorBody } from '../../../core/errors.ts';
import type { RelayOperation, RelayRequest, RelayResponse } from '../../../core/relay-wire.ts';
import { RELAY_PATH_PREFIX, relayWire } from '../../../core/relay-wire.ts';
import { createRelaySigner } from './relay-signer.ts';

export interface RelayClientOptions {
  /** The relay's origin, e.g. `http://127.0.0.1:8090`. */
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface RelayClient {
  call<Op extends RelayOperation>(op: Op, request: RelayRequest<Op>): Promise<RelayResponse<Op>>;
}

const DEFAULT_RELAY_TIMEOUT_MS = 10_000;

function relayOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CronplaneError('invalid_config', `relay URL "${url}" is not a URL`);
  }
  if (
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    (parsed.pathname !== '/' && parsed.pathname !== '') ||
    parsed.search !== ''
  ) {
    throw new CronplaneError('invalid_config', `relay URL "${url}" must be an http(s) origin`);
  }
  return parsed.origin;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    const json: unknown = await response.json();
    return json;
  } catch {
    return undefined;
  }
}

export function createRelayClient(options: RelayClientOptions): RelayClient {
  const origin = relayOrigin(options.url);
  const signer = createRelaySigner(options.secret);
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RELAY_TIMEOUT_MS;

  return {
    async call(op, request) {
      const path = RELAY_PATH_PREFIX + op;
      // Copied into a plain ArrayBuffer-backed array: Cloudflare's runtime types declare
      // TextEncoder's result as possibly shared-memory backed, which WebCrypto refuses.
      const body = new Uint8Array(new TextEncoder().encode(JSON.stringify(request)));
      const headers = await signer.sign('POST', path, body);
      let response: Response;
      try {
        response = await fetchFn(origin + path, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new CronplaneError('unavailable', `relay is unreachable: ${reason}`);
      }
      const json = await readJson(response);
      if (!response.ok) {
        const error = fromErrorBody(json, `relay answered HTTP ${response.status}`);
        // The caller's own credentials are not at fault; passing 401 through would say they are.
        if (error.code === 'unauthorized' || error.code === 'forbidden') {
          throw new CronplaneError(
            'unavailable',
            `relay refused the request (${error.message}); check the shared secret and clocks`,
          );
        }
        throw error;
      }
      const result = relayWire[op].readResponse(json);
      if (result === null) {
        throw new CronplaneError('internal', `relay sent a malformed answer to ${op}`);
      }
      return result;
    },
  };
}
