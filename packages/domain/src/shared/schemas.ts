import * as z from 'zod';

/** Building blocks every bounded context's schemas share. */
export const idOf = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `Must be a ${prefix}_… id`);

/** A UUID (a user's id), taken in lower case as it is stored: one written in upper case names the same user. */
export const uuid = z
  .string()
  .toLowerCase()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'Must be a UUID');

export const email = z.string().trim().toLowerCase().max(254).pipe(z.email());

export const isoDateTime = z.iso.datetime({ offset: true });

/**
 * Stored times are kept and compared as ISO strings, which sort as time only with a four-digit
 * year: an instant of year 0 or before, or after 9999 (in UTC, `-000001-…`, `+010000-…`), sorts
 * before every other and would make a range run backwards. Such dates are refused.
 */
export const FIRST_DAY = '0001-01-01';
export const inSortableYears = (utcIso: string) => /^\d{4}-/.test(utcIso) && utcIso >= FIRST_DAY;
export const SORTABLE_YEARS = 'Between years 0001 and 9999 (UTC)';

/**
 * Whether `s` is a UTC instant written as `toISOString` writes it (`…T10:00:00.000Z`): what a
 * stored time is. `Date.parse` alone takes impossible dates, rolled over (`02-31` as `03-03`,
 * `24:00` as the next day's midnight).
 */
export const isUtcInstant = (s: string) => {
  const time = Date.parse(s);
  return !Number.isNaN(time) && new Date(time).toISOString() === s;
};

/** A date-time with any offset, as UTC ISO in years 0001–9999: stored times compare with it as strings. */
export const utcDateTime = isoDateTime
  .transform((value) => new Date(value).toISOString())
  .refine(inSortableYears, SORTABLE_YEARS);

/**
 * The exclusive end of a UTC day as a key bound: ISO 8601's `24:00` sorts after every instant
 * of the day and before the next day, and stays a four-digit year on 9999-12-31 (the next day
 * would be `+010000-01-01`, which sorts before every year).
 */
export const endOfDay = (day: string) => `${day}T24:00:00.000Z`;
export const dayOf = (instant: string) => new Date(instant).toISOString().slice(0, 10);

/**
 * A bound, to the millisecond keys hold, rounded up: an inclusive start at `…00.0005Z` begins after
 * `…00.000Z`, and an exclusive end there ends after it (rounded down, the start would take an
 * instant before it, and the end exclude the instant a range starting there includes). Past the
 * last millisecond of 9999 it stays in 9999 (`24:00`), as `9999-12-31T23:59:59.999999Z` (a
 * client's "no end") asks.
 */
export const utcCeil = (s: string) => {
  const finer = /\.\d{3}(\d+)/.exec(s)?.[1];
  const date = new Date(s);
  const exact = date.toISOString();
  if (!finer || !/[1-9]/.test(finer)) return exact;
  const ceil = new Date(date.getTime() + 1).toISOString();
  return ceil.startsWith('+') && !exact.startsWith('+') ? endOfDay('9999-12-31') : ceil;
};

/** A date-time with any offset as UTC ISO rounded up to the millisecond (`utcCeil`), in years 0001–9999. */
export const utcDateTimeCeil = isoDateTime.transform(utcCeil).refine(inSortableYears, SORTABLE_YEARS);

/** A date-time with any offset whose UTC instant is in years 0001–9999, kept as sent (to be compared exactly first). */
export const sortableDateTime = isoDateTime.refine((v) => inSortableYears(new Date(v).toISOString()), SORTABLE_YEARS);

/**
 * Whether the instant `a` names is after `b`'s, to the nanosecond: `Date` keeps milliseconds, so
 * `…00.0009Z` and `…00.0001Z` are one instant to it, and a range from the first to the second
 * would pass for an ordered one.
 */
export function instantAfter(a: string, b: string): boolean {
  const nanos = (iso: string) =>
    BigInt(Date.parse(iso)) * 1_000_000n + BigInt((/\.\d{3}(\d{0,6})/.exec(iso)?.[1] ?? '').padEnd(6, '0'));
  return nanos(a) > nanos(b);
}

export const pageQuery = z.object({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

/**
 * The query of a list that comes whole: a catalogue, or a set the domain caps (an organization's
 * roles and routing rules). `limit` and `cursor` are refused, not ignored, so that a client paging
 * it does not take the first answer for a page; other parameters are ignored as on every route.
 */
export const wholeListQuery = <S extends z.ZodRawShape>(shape: S = {} as S) =>
  z.looseObject(shape).superRefine((query, ctx) => {
    for (const key of ['limit', 'cursor'])
      if (key in query)
        ctx.addIssue({ code: 'custom', path: [key], message: 'This list comes whole: it takes no limit or cursor' });
  });

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const noContent = z.undefined();
