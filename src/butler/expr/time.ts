/**
 * Time values of the `where` language. Times are compared as ISO-8601 strings in one normal
 * form, `YYYY-MM-DDTHH:MM:SS` with an optional fraction of a second (trailing zeros dropped)
 * and no zone designator, so that string order is time order. Times carry no time scale here;
 * the registry stores them in the same form and scale it receives.
 */

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The normal form of an ISO-8601 time text (`2026-01-02`, `2026-01-02T03:04`,
 * `2026-01-02 03:04:05.250`, optionally ending in `Z`), or null when it is not a valid
 * calendar time. Example: `'2026-01-02 03:04:05.250Z'` -> `'2026-01-02T03:04:05.25'`.
 */
export function normalizeIsoTime(text: string): string | null {
  const m = ISO_TIME.exec(text);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12) return null;
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day < 1 || day > monthDays) return null;
  // Second 60 is a leap second, which UTC and TAI strings may legitimately hold.
  if (hour > 23 || minute > 59 || second > 60) return null;
  const fraction = (m[7] ?? '').replace(/0+$/, '');
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const base = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`;
  return fraction.length > 0 ? `${base}.${fraction}` : base;
}

/** The normal form of a JavaScript Date (its UTC fields), as {@link normalizeIsoTime} gives. */
export function normalizeDate(date: Date): string | null {
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  // toISOString gives six-digit signed years outside 0000..9999, which the normal form lacks.
  return iso.length === 24 ? normalizeIsoTime(iso) : null;
}
