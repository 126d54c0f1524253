/** Shape checks for values that crossed a process boundary (HTTP bodies, stored documents). */
import { ValidationError } from './errors.ts';

export type UnknownRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is UnknownRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isString = (value: unknown): value is string => typeof value === 'string';

/** A non-negative safe integer: epoch ms, counts, pids. */
export const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

export const isInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value);

/**
 * An object carrying only `allowedKeys`; anything else is a ValidationError naming every
 * unknown field, so a misspelt field is reported rather than silently ignored.
 */
export function expectRecord(
  value: unknown,
  field: string,
  allowedKeys: readonly string[],
): UnknownRecord {
  if (!isRecord(value)) {
    throw new ValidationError(`${field || 'body'} must be a JSON object`, [
      { field, message: 'must be a JSON object' },
    ]);
  }
  const unknown = Object.keys(value).filter((key) => !allowedKeys.includes(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown field ${unknown.map((key) => `"${key}"`).join(', ')}`,
      unknown.map((key) => ({ field: field ? `${field}.${key}` : key, message: 'unknown field' })),
    );
  }
  return value;
}

export function invalidField(field: string, message: string): ValidationError {
  return new ValidationError(`${field} ${message}`, [{ field, message }]);
}
