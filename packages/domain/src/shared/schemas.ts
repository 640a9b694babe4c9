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

/** A date-time with any offset, as UTC ISO in years 0001–9999: stored times compare with it as strings. */
export const utcDateTime = isoDateTime
  .transform((value) => new Date(value).toISOString())
  .refine(inSortableYears, SORTABLE_YEARS);

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
