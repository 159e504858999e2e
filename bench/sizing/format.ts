/**
 * Number formatting for the sizing report and chart: deterministic (no locale), three
 * significant figures, thousands separators, SI prefixes for large counts.
 */

/** "12,345" for an integer (rounded), with ',' between thousands; negative numbers keep their sign. */
export function grouped(x: number): string {
  const n = Math.round(x);
  const s = Math.abs(n).toString();
  const parts: string[] = [];
  for (let i = s.length; i > 0; i -= 3) parts.unshift(s.slice(Math.max(0, i - 3), i));
  return `${n < 0 ? '-' : ''}${parts.join(',')}`;
}

/**
 * Three significant figures below 1000 ("0.0312", "4.21", "187"), whole numbers with
 * separators from 1000 up ("4,213"); '–' for null or non-finite.
 */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  if (Math.abs(x) >= 1000) return grouped(x);
  if (Math.abs(x) < 1e-4) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

const PREFIXES = [
  { p: 1e18, s: 'E' },
  { p: 1e15, s: 'P' },
  { p: 1e12, s: 'T' },
  { p: 1e9, s: 'G' },
  { p: 1e6, s: 'M' },
  { p: 1e3, s: 'k' },
] as const;

/** A large count with an SI prefix and 3 significant figures: 1.21e16 -> "12.1 P". */
export function si(x: number | null | undefined, unit = ''): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  for (const { p, s } of PREFIXES) {
    if (a >= p) return `${String(Number((x / p).toPrecision(3)))} ${s}${unit}`.trimEnd();
  }
  return `${num(x)}${unit ? ` ${unit}` : ''}`;
}

/** Whole devices as shown: "≥ 12" when the figure is a lower bound. */
export function devicesText(whole: number, lowerBound: boolean): string {
  return `${lowerBound ? '≥ ' : ''}${grouped(whole)}`;
}
