/** "Did you mean ...?" suggestions for unknown config keys, task labels and names. */

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const n = b.length;
  let before = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(n + 1).fill(i);
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[n]!;
}

/**
 * Up to `limit` candidates near `name`: case-insensitive edit distance at most
 * max(2, 40% of the name's length), or the candidate contains the name (or vice versa), and at
 * most 2 more than the closest candidate's. Closest first, ties alphabetical.
 */
export function suggestNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = name.toLowerCase();
  const maxDistance = Math.max(2, Math.ceil(lower.length * 0.4));
  const scored: { name: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    if (c === name) continue;
    const cl = c.toLowerCase();
    let d = editDistance(lower, cl);
    if (d > maxDistance && lower.length >= 3 && (cl.includes(lower) || lower.includes(cl))) {
      d = maxDistance;
    }
    if (d <= maxDistance) scored.push({ name: c, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  // Names sharing a long prefix are all "close"; keep only those nearly as close as the best.
  const best = scored[0]?.d ?? 0;
  return scored
    .filter((s) => s.d <= best + 2)
    .slice(0, limit)
    .map((s) => s.name);
}

/** " Did you mean 'x' or 'y'?" (leading space), or "" when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const close = suggestNames(name, candidates);
  if (close.length === 0) return '';
  return ` Did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`;
}
