/**
 * The whole expression: macros, the field count (5, 6 or 7), and the split into what cron-parser
 * reads (six fields, second first) and the year filter cronplane applies on top.
 */
import { CronExpressionError, quote } from './cron-expression-error.ts';
import {
  DAY_OF_MONTH,
  HOUR,
  MINUTE,
  MONTH,
  SECOND,
  WEEKDAY,
  normalizeField,
  parseYearField,
} from './cron-fields.ts';

/**
 * Vixie cron's macros. cron-parser has most of these but not @midnight, and has extras
 * (@weekdays, @secondly) other crons lack; we map ours so the accepted set is exactly this one.
 */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSyntax {
  /** Six fields, second first, each `*`, `?` or the list of its values: cron-parser's input. */
  readonly cronParserExpr: string;
  /** The fields as written, second first (then the year, if any), for messages. */
  readonly rawFields: readonly string[];
  /** Allowed years ascending, or null when the expression has no year filter. */
  readonly years: readonly number[] | null;
}

const FIELDS_5 = '"minute hour day month weekday"';
const FIELDS_6 = '"second minute hour day month weekday"';
const FIELDS_7 = '"second minute hour day month weekday year"';

/** A 6th field holding a number >= 1970 is a year written in the wrong form. */
function looksLikeYear(field: string): boolean {
  return (field.match(/\d+/g) ?? []).some((digits) => Number(digits) >= 1970);
}

export function parseCronSyntax(expr: string): CronSyntax {
  const trimmed = expr.trim();
  let text = trimmed;
  if (text.startsWith('@')) {
    const macro = Object.hasOwn(CRON_MACROS, text.toLowerCase())
      ? CRON_MACROS[text.toLowerCase()]
      : undefined;
    if (macro === undefined) {
      throw new CronExpressionError(
        'expression',
        `${quote(trimmed)}: unknown macro; use one of ${Object.keys(CRON_MACROS).join(', ')}`,
      );
    }
    text = macro;
  }
  const fields = text === '' ? [] : text.split(/\s+/);
  if (fields.length === 6) {
    const sixth = fields[5] ?? '';
    if (looksLikeYear(sixth)) {
      const sevenFields = `0 ${fields.join(' ')}`;
      throw new CronExpressionError(
        'year',
        `${quote(trimmed)}: the 6th field looks like a year; 6-field expressions are ${FIELDS_6}` +
          ` — for a year use 7 fields: ${quote(sevenFields)}`,
      );
    }
  }
  if (fields.length < 5 || fields.length > 7) {
    throw new CronExpressionError(
      'expression',
      `${quote(trimmed)}: expected 5, 6 or 7 fields (${FIELDS_5}, ${FIELDS_6} or ${FIELDS_7}),` +
        ` got ${fields.length}`,
    );
  }
  // A 5-field expression fires at second 0, so it gets a leading "0".
  const rawFields = fields.length === 5 ? ['0', ...fields] : fields;
  const specs = [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, WEEKDAY];
  const normalized = specs.map((spec, i) => normalizeField(spec, rawFields[i] ?? '', trimmed));
  const yearField = fields.length === 7 ? fields[6] : undefined;
  return {
    cronParserExpr: normalized.join(' '),
    rawFields,
    years: yearField === undefined ? null : parseYearField(yearField, trimmed),
  };
}
