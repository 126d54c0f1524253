/** The years a 7-field expression allows, with the look-ups the year filter needs. */

export interface YearSet {
  readonly first: number;
  readonly last: number;
  has(year: number): boolean;
  /** The smallest allowed year greater than `year`, or null. */
  after(year: number): number | null;
  /** The greatest allowed year smaller than `year`, or null. */
  before(year: number): number | null;
}

/** `years` ascending, without duplicates, at least one. */
export function createYearSet(years: readonly number[]): YearSet {
  const first = years[0];
  const last = years.at(-1);
  if (first === undefined || last === undefined) throw new RangeError('a year set needs a year');
  const allowed = new Set(years);
  return {
    first,
    last,
    has: (year) => allowed.has(year),
    after: (year) => years.find((y) => y > year) ?? null,
    before: (year) => years.findLast((y) => y < year) ?? null,
  };
}
