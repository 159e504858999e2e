/**
 * The order statistic of rank `r` of a[lo..hi] (inclusive): Hoare quickselect with
 * median-of-three pivots, in place (a[lo..r-1] <= a[r] <= a[r+1..hi] afterwards). NaN
 * must not be present. Used by the CPU background kernel (bin percentiles) and by
 * detection's noise measurement.
 */
export function selectRank(
  a: Float32Array | Float64Array,
  lo0: number,
  hi0: number,
  r: number,
): number {
  let lo = lo0;
  let hi = hi0;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three into a[mid].
    if ((a[mid] as number) < (a[lo] as number)) swap(a, mid, lo);
    if ((a[hi] as number) < (a[lo] as number)) swap(a, hi, lo);
    if ((a[hi] as number) < (a[mid] as number)) swap(a, hi, mid);
    const pivot = a[mid] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return a[r] as number;
  }
  return a[r] as number;
}

function swap(a: Float32Array | Float64Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}
