/** Typed errors with stable codes; the wire form is `{ error, code, details }`. */

export type ErrorCode =
  | 'invalid_input'
  | 'invalid_cron'
  | 'invalid_config'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

export interface FieldError {
  /** Dotted path of the offending field, e.g. `labels.env` or `cronExpr`. */
  readonly field: string;
  readonly message: string;
}

export class CronplaneError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly FieldError[];

  constructor(code: ErrorCode, message: string, details: readonly FieldError[] = []) {
    super(message);
    this.name = 'CronplaneError';
    this.code = code;
    this.details = details;
  }
}

export class ValidationError extends CronplaneError {
  constructor(message: string, details: readonly FieldError[]) {
    super('invalid_input', message, details);
    this.name = 'ValidationError';
  }
}

export interface ErrorBody {
  readonly error: string;
  readonly code: ErrorCode;
  readonly details: readonly FieldError[];
}

export function toErrorBody(error: CronplaneError): ErrorBody {
  return { error: error.message, code: error.code, details: error.details };
}

const knownCodes: ReadonlySet<string> = new Set<ErrorCode>([
  'invalid_input',
  'invalid_cron',
  'invalid_config',
  'not_found',
  'conflict',
  'precondition_failed',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'unavailable',
  'internal',
]);

/** Rebuilds an error from its wire form after a network hop; never trust `instanceof` across one. */
export function fromErrorBody(body: unknown, fallbackMessage: string): CronplaneError {
  if (typeof body === 'object' && body !== null) {
    const { error, code, details } = body as Record<string, unknown>;
    const message = typeof error === 'string' ? error : fallbackMessage;
    const safeCode =
      typeof code === 'string' && knownCodes.has(code) ? (code as ErrorCode) : 'internal';
    const safeDetails = Array.isArray(details)
      ? details.flatMap((d: unknown) => {
          if (typeof d !== 'object' || d === null) return [];
          const { field, message: m } = d as Record<string, unknown>;
          return typeof field === 'string' && typeof m === 'string' ? [{ field, message: m }] : [];
        })
      : [];
    return safeCode === 'invalid_input'
      ? new ValidationError(message, safeDetails)
      : new CronplaneError(safeCode, message, safeDetails);
  }
  return new CronplaneError('internal', fallbackMessage);
}
