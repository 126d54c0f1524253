/**
 * One cron field at a time: checks the syntax with messages that name the field and quote the
 * part at fault, and rewrites the field for cron-parser as the list of values it stands for.
 * cron-parser would reject most bad inputs too, but with messages that do not say which field is
 * wrong, and it rejects some good ones (duplicates such as `0,7`).
 *
 * Grammar of a field: a comma list of items; an item is `*`, a value or a range `a-b`, each
 * optionally followed by a step `/n`; `a/n` means `a-max/n`. Values are numbers, or names in
 * the month (JAN) and weekday (MON) fields. Extras: `?` (day of month, weekday: the whole field),
 * `L` (last day of month), `5L` (last Friday), `5#3` (third Friday; the whole field only).
 */
import { CronExpressionError, quote, type CronFieldName } from './cron-expression-error.ts';

export interface FieldSpec {
  readonly name: CronFieldName;
  readonly min: number;
  readonly max: number;
  /** Lower-case three-letter names and the number each stands for. */
  readonly names?: Readonly<Record<string, number>>;
  /** Added to out-of-range messages, e.g. which numbers mean Sunday. */
  readonly rangeHint?: string;
}

const MONTH_NAMES = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
} as const;

const WEEKDAY_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } as const;

export const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
export const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
export const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
export const DAY_OF_MONTH: FieldSpec = { name: 'day of month', min: 1, max: 31 };
export const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: MONTH_NAMES,
  rangeHint: ' (or JAN-DEC)',
};
export const WEEKDAY: FieldSpec = {
  name: 'weekday',
  min: 0,
  max: 7,
  names: WEEKDAY_NAMES,
  rangeHint: ' (0 and 7 are Sunday; or SUN-SAT)',
};
/** Years are filtered on top of cron-parser; the range keeps searches bounded. */
export const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

/** Carries what an error message needs: the whole expression and the field. */
interface Context {
  readonly expr: string;
  readonly spec: FieldSpec;
}

function fail(ctx: Context, part: string, reason: string): never {
  throw new CronExpressionError(
    ctx.spec.name,
    `${quote(ctx.expr)}: ${ctx.spec.name} ${quote(part)}: ${reason}`,
  );
}

function parseValue(ctx: Context, item: string, text: string): number {
  const { spec } = ctx;
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      fail(ctx, item, `${text} is out of range ${spec.min}-${spec.max}${spec.rangeHint ?? ''}`);
    }
    return value;
  }
  if (/^[A-Za-z]+$/.test(text)) {
    if (!spec.names) fail(ctx, item, `${spec.name} takes numbers, not names`);
    const key = text.toLowerCase();
    // hasOwn: "constructor" must not resolve through the prototype.
    const value = Object.hasOwn(spec.names, key) ? spec.names[key] : undefined;
    if (value === undefined) {
      const known = Object.keys(spec.names).map((n) => n.toUpperCase());
      fail(ctx, item, `"${text}" is not a ${spec.name} name (${known[0]}-${known.at(-1)})`);
    }
    return value;
  }
  if (text === '') fail(ctx, item, 'a value is missing');
  return fail(ctx, item, `"${text}" is not a number`);
}

function parseStep(ctx: Context, item: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    fail(ctx, item, `the step after "/" must be a whole number of at least 1`);
  }
  return Number(text);
}

/** `a` or `a-b` with a <= b. */
function parseRange(ctx: Context, item: string, text: string): [start: number, end: number] {
  const bounds = text.split('-');
  if (bounds.length > 2) fail(ctx, item, 'a range has one "-"');
  const start = parseValue(ctx, item, bounds[0] ?? '');
  if (bounds.length === 1) return [start, start];
  let end = parseValue(ctx, item, bounds[1] ?? '');
  // MON-SUN reads naturally; Sunday is 0 by name, so as a range end it means 7.
  if (ctx.spec === WEEKDAY && end === 0 && start > 0) end = 7;
  if (start > end) fail(ctx, item, `the range starts after it ends (${start} > ${end})`);
  return [start, end];
}

/** `*`, `a` or `a-b`, each with an optional `/n`: the values it stands for. */
function expandStepped(ctx: Context, item: string): number[] {
  const { spec } = ctx;
  const [base = '', stepText, ...extra] = item.split('/');
  if (extra.length > 0) fail(ctx, item, 'an item has at most one "/"');
  const step = stepText === undefined ? 1 : parseStep(ctx, item, stepText);
  const [start, rangeEnd] = base === '*' ? [spec.min, spec.max] : parseRange(ctx, item, base);
  // `a/n` means `a-max/n`, as in Vixie cron and cron-parser.
  const end = stepText !== undefined && !base.includes('-') ? spec.max : rangeEnd;
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return values;
}

/** A value list item, or one of the special forms: `L` (a day) or `5L` (a weekday). */
function expandItem(ctx: Context, item: string): number[] | string {
  const { spec } = ctx;
  // cron-parser picks a random seed for H when none is given: agents would disagree on ticks.
  if (/^H(?![A-Za-z])/i.test(item)) fail(ctx, item, 'H (hashed values) is not supported');
  const unexpected = /[^0-9A-Za-z*/,-]/.exec(item);
  if (unexpected) fail(ctx, item, `unexpected character ${quote(unexpected[0])}`);
  if (spec === DAY_OF_MONTH && /W/i.test(item)) {
    fail(ctx, item, 'W (nearest weekday) is not supported');
  }
  if (spec === DAY_OF_MONTH && /L/i.test(item)) {
    if (item.toUpperCase() !== 'L') {
      fail(ctx, item, '"L" (last day of the month) stands alone, without offset, range or step');
    }
    return 'L';
  }
  if (spec === WEEKDAY && /L$/i.test(item)) {
    const day = item.slice(0, -1);
    if (day === '') {
      fail(ctx, item, '"L" needs a weekday before it, e.g. 5L (last Friday of the month)');
    }
    if (/[-/*]/.test(day)) {
      fail(ctx, item, '"L" follows a single weekday, e.g. 5L (last Friday of the month)');
    }
    return `${parseValue(ctx, item, day) % 7}L`;
  }
  return expandStepped(ctx, item);
}

/** `5#3`: the third Friday. cron-parser allows it only as the whole weekday field. */
function parseNthWeekday(ctx: Context, text: string): string {
  if (ctx.spec !== WEEKDAY) fail(ctx, text, '"#" is only allowed in the weekday field');
  if (text.includes(',')) fail(ctx, text, '"#" cannot be combined with a list');
  const [day = '', nth = '', ...rest] = text.split('#');
  if (rest.length > 0 || /[-/*?]/.test(day) || /L$/i.test(day)) {
    fail(ctx, text, '"#" takes one weekday and an occurrence, e.g. 5#3 (third Friday)');
  }
  if (!/^[1-5]$/.test(nth)) fail(ctx, text, 'the occurrence after "#" must be 1-5');
  return `${parseValue(ctx, text, day) % 7}#${nth}`;
}

/**
 * Checks one field and returns it for cron-parser: `*` and `?` as they are (cron-parser tells
 * "unrestricted" from the text), anything else as the sorted list of the values it stands for.
 * Listing values also removes duplicates (`0,7` in weekdays, `1-5,3`), which cron-parser
 * rejects but other crons accept.
 */
export function normalizeField(spec: FieldSpec, text: string, expr: string): string {
  const ctx = { expr, spec };
  if (text === '*') return '*';
  if (text === '?') {
    if (spec !== DAY_OF_MONTH && spec !== WEEKDAY) {
      fail(ctx, text, '"?" is only allowed in the day of month and weekday fields');
    }
    return '?';
  }
  if (text.includes('#')) return parseNthWeekday(ctx, text);
  const items = text.split(',');
  if (items.includes('')) fail(ctx, text, 'a list item is empty');
  const values = new Set<number>();
  const specials = new Set<string>();
  for (const item of items) {
    if (item === '?') fail(ctx, text, '"?" stands alone as the whole field');
    const expanded = expandItem(ctx, item);
    if (typeof expanded === 'string') specials.add(expanded);
    // Weekday 7 is Sunday, which cron-parser stores as 0.
    else for (const value of expanded) values.add(spec === WEEKDAY ? value % 7 : value);
  }
  const sorted = [...values].sort((a, b) => a - b).map(String);
  return [...sorted, ...[...specials].sort()].join(',');
}

/** The years a year field allows, ascending; null for `*` (no filter). */
export function parseYearField(text: string, expr: string): number[] | null {
  const ctx = { expr, spec: YEAR };
  if (text === '*') return null;
  const items = text.split(',');
  if (items.includes('')) fail(ctx, text, 'a list item is empty');
  const years = new Set<number>();
  for (const item of items) {
    const unexpected = /[^0-9*/-]/.exec(item);
    if (unexpected) fail(ctx, item, `unexpected character ${quote(unexpected[0])}`);
    for (const year of expandStepped(ctx, item)) years.add(year);
  }
  return [...years].sort((a, b) => a - b);
}
