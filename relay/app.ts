/**
 * The relay's HTTP surface: `POST /relay/v1/<operation>`, each request signed, and an unsigned
 * `GET /healthz`. The signature is checked on the raw body before it is parsed or acted on.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTP_STATUS_BY_CODE, MAX_REQUEST_BODY_BYTES } from '../core/api.ts';
import { CronplaneError, ValidationError, toErrorBody } from '../core/errors.ts';
import { RELAY_PATH_PREFIX, isRelayOperation } from '../core/relay-wire.ts';
import type { DataPorts } from '../control-plane/ports.ts';
import { runOperation } from './operations.ts';
import type { SignatureVerifier } from './signature-verifier.ts';

export interface RelayAppOptions {
  readonly maxBodyBytes?: number;
  readonly logUnexpected?: (error: unknown) => void;
}

export function createRelayApp(
  ports: DataPorts,
  verifier: SignatureVerifier,
  options: RelayAppOptions = {},
): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const logUnexpected = options.logUnexpected ?? ((error: unknown) => console.error(error));
  const app = new Hono();

  app.onError((thrown, c) => {
    const error =
      thrown instanceof CronplaneError ? thrown : new CronplaneError('internal', 'internal error');
    if (error !== thrown) logUnexpected(thrown);
    // The rest of an oversized body may still be in flight: do not let the connection be reused.
    if (error.code === 'payload_too_large') c.header('Connection', 'close');
    return c.json(toErrorBody(error), HTTP_STATUS_BY_CODE[error.code]);
  });
  app.notFound((c) => c.json(toErrorBody(new CronplaneError('not_found', 'no such route')), 404));

  app.get('/healthz', async (c) => {
    const report = await ports.health.check();
    return c.json(report, report.ok ? 200 : 503);
  });

  app.post(
    `${RELAY_PATH_PREFIX}:operation`,
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new CronplaneError('payload_too_large', `body is larger than ${maxBodyBytes} bytes`);
      },
    }),
    async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      const url = new URL(c.req.url);
      await verifier.verify({
        method: c.req.method,
        pathWithQuery: url.pathname + url.search,
        header: (name) => c.req.header(name),
        body,
      });
      const operation = c.req.param('operation');
      if (!isRelayOperation(operation)) {
        throw new CronplaneError('not_found', `unknown relay operation "${operation}"`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(body));
      } catch {
        throw new ValidationError('body is not valid JSON', [{ field: '', message: 'not JSON' }]);
      }
      return c.json(await runOperation(ports, operation, parsed));
    },
  );

  return app;
}
