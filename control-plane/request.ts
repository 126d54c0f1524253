/** Reading untrusted request parts: JSON bodies, path names, query integers, If-Match. */
import type { Context } from 'hono';
import { isRevision } from '../core/api.ts';
import { ValidationError } from '../core/errors.ts';
import { isValidName, isValidRunId } from '../core/names.ts';
import { invalidField } from '../core/wire.ts';

/** Parses the body as JSON; an empty body reads as `emptyValue` when the route allows one. */
export async function readJsonBody(c: Context, emptyValue?: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '' && emptyValue !== undefined) return emptyValue;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('request body is not valid JSON', [
      { field: '', message: 'must be valid JSON' },
    ]);
  }
}

export function jobNameParam(c: Context): string {
  const name = c.req.param('name');
  if (!isValidName(name)) {
    throw invalidField('name', 'must match [A-Za-z0-9._-]{1,64} and not be "." or ".."');
  }
  return name;
}

export function runIdParam(c: Context): string {
  const runId = c.req.param('runId');
  if (!isValidRunId(runId)) throw invalidField('runId', 'must match [A-Za-z0-9._-]{1,128}');
  return runId;
}

/** An integer query parameter within bounds, or `fallback` when absent. */
export function integerQuery(
  c: Context,
  field: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  const text = c.req.query(field);
  if (text === undefined) return bounds.fallback;
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= bounds.min && value <= bounds.max)) {
    throw invalidField(field, `must be an integer from ${bounds.min} to ${bounds.max}`);
  }
  return value;
}

/** The revision in `If-Match` (strong ETag or bare), or undefined when the header is absent. */
export function ifMatchHeader(c: Context): string | undefined {
  const header = c.req.header('if-match');
  if (header === undefined) return undefined;
  const revision = header.trim().replace(/^"(.*)"$/, '$1');
  if (!isRevision(revision)) {
    throw invalidField('If-Match', 'must be a revision returned as the ETag of this job');
  }
  return revision;
}

export function etag(revision: string): string {
  return `"${revision}"`;
}
