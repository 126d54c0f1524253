/** The one place errors become HTTP: status per error code, `{error, code, details}` bodies. */
import type { Context } from 'hono';
import { HTTP_STATUS_BY_CODE } from '../core/api.ts';
import type { ErrorBody } from '../core/errors.ts';
import { CronplaneError, toErrorBody } from '../core/errors.ts';

export function errorResponse(c: Context, error: CronplaneError): Response {
  if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer realm="cronplane"');
  // The rest of an oversized body may still be in flight; a client that reused this
  // connection would have its next request read as that body's tail.
  if (error.code === 'payload_too_large') c.header('Connection', 'close');
  const body: ErrorBody = toErrorBody(error);
  return c.json(body, HTTP_STATUS_BY_CODE[error.code]);
}

/**
 * An `app.onError` handler. Typed errors go out as they are; anything else is a bug or a
 * dependency's surprise: `logUnexpected` sees it, the client sees only "internal error".
 */
export function createErrorHandler(logUnexpected: (error: unknown) => void) {
  return (thrown: Error, c: Context): Response => {
    if (thrown instanceof CronplaneError) return errorResponse(c, thrown);
    logUnexpected(thrown);
    return errorResponse(c, new CronplaneError('internal', 'internal error'));
  };
}
