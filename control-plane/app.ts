/**
 * @module The control plane's HTTP app, built from its ports. No runtime imports: the same app
 * runs under `@hono/node-server` and on the edge; entry files only wire ports into it.
 */
import type { MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { MAX_REQUEST_BODY_BYTES } from '../core/api.ts';
import { CronplaneError } from '../core/errors.ts';
import type { AppEnv } from './auth.ts';
import { accessFor, authenticate, requireAccess } from './auth.ts';
import { createErrorHandler, errorResponse } from './http-errors.ts';
import { openApiDocument } from './openapi.ts';
import type { ControlPlanePorts } from './ports.ts';
import { cronRoutes } from './routes/cron.ts';
import { healthRoutes } from './routes/health.ts';
import { agentBootstrapRoutes, installRoutes } from './routes/install.ts';
import { jobRoutes } from './routes/jobs.ts';
import { liveHealthRoutes } from './routes/live-health.ts';
import { runRoutes } from './routes/runs.ts';
import { runningRoutes } from './routes/running.ts';
import { workerRoutes } from './routes/workers.ts';

export interface AppOptions {
  /** Epoch-ms clock for `updatedAt`, kill requests and schedule previews. */
  readonly now?: () => number;
  readonly maxBodyBytes?: number;
  /** Receives unexpected errors (the client only ever sees "internal error"). */
  readonly logUnexpected?: (error: unknown) => void;
  /** Serves the console for GET requests no API route answered (Node: a static handler). */
  readonly staticAssets?: MiddlewareHandler;
}

export function createApp(ports: ControlPlanePorts, options: AppOptions = {}): Hono<AppEnv> {
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(options.logUnexpected ?? ((error) => console.error(error))));
  app.notFound((c) =>
    errorResponse(c, new CronplaneError('not_found', `no route ${c.req.method} ${c.req.path}`)),
  );

  app.route('/', healthRoutes(ports.health));
  if (ports.install) app.route('/', installRoutes(ports.install));

  const auth = authenticate(ports.auth);
  app.use('/openapi.json', auth, requireAccess('read'));
  app.get('/openapi.json', (c) => c.json(openApiDocument));

  // The role matrix is decided here, once, so no route can forget it: reads are GET, everything
  // else changes state, and the agent endpoints are named in accessFor.
  app.use('/v1/*', auth, (c, next) => requireAccess(accessFor(c.req.method, c.req.path))(c, next));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new CronplaneError(
          'payload_too_large',
          `request body is larger than ${maxBodyBytes} bytes`,
        );
      },
    }),
  );
  // Who the token belongs to, so a client (the console) can show only what the role allows.
  app.get('/v1/whoami', (c) => c.json(c.get('principal')));
  app.route('/v1', jobRoutes({ ports, now }));
  app.route('/v1', runRoutes(ports.runLogs));
  app.route('/v1', workerRoutes(ports.workers, ports.healthHub));
  app.route('/v1', liveHealthRoutes(ports.healthHub));
  app.route('/v1', runningRoutes(ports.jobs));
  app.route('/v1', cronRoutes(now));
  if (ports.install) app.route('/v1', agentBootstrapRoutes(ports.install));

  if (options.staticAssets) app.get('*', options.staticAssets);
  return app;
}
