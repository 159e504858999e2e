/**
 * An independent, deliberately naive reference of detect's footprints (spec.ts): BFS
 * flood fill with 8-connectivity, brute-force disc dilation, brute-force peaks, ids by
 * lowest pixel index. Same float32 threshold test as the backends.
 */

export interface RefFootprints {
  /** Per footprint: sorted pixel indices. */
  readonly pixels: number[][];
  /** Per footprint: peak pixel indices, brightest first. */
  readonly peaks: number[][];
}

export function referenceFootprints(
  img: Float32Array,
  vr: Float32Array,
  W: number,
  H: number,
  o: {
    threshold: number;
    sign: 1 | -1;
    minPixels: number;
    radius: number;
    maxPeaksPerFootprint?: number;
  },
): RefFootprints {
  const f = Math.fround;
  const thr = f(o.threshold);
  const n = W * H;
  const above = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const v = f(o.sign * img[p]!);
    const s = vr[p]!;
    above[p] =
      Number.isFinite(v) && Number.isFinite(s) && s > 0 && v >= f(thr * f(Math.sqrt(s))) ? 1 : 0;
  }
  const comps = components(above, W, H);
  const kept = new Uint8Array(n);
  const keptComp = comps.filter((c) => c.length >= o.minPixels);
  for (const c of keptComp) for (const p of c) kept[p] = 1;
  const peaks: number[] = [];
  for (const c of keptComp) {
    for (const p of c) {
      const x = p % W;
      const y = (p - x) / W;
      const vp = o.sign * img[p]!;
      let ok = true;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if ((!dx && !dy) || xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
          const q = yy * W + xx;
          if (!above[q]) continue;
          const vq = o.sign * img[q]!;
          if (vq > vp || (vq === vp && q < p)) ok = false;
        }
      }
      if (ok) peaks.push(p);
    }
  }
  let grown = kept;
  if (o.radius > 0) {
    grown = new Uint8Array(n);
    const r = o.radius;
    for (let p = 0; p < n; p++) {
      if (!kept[p]) continue;
      const x = p % W;
      const y = (p - x) / W;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (dx * dx + dy * dy <= r * r && xx >= 0 && yy >= 0 && xx < W && yy < H)
            grown[yy * W + xx] = 1;
        }
      }
    }
  }
  const fps = components(grown, W, H);
  const owner = new Int32Array(n).fill(-1);
  fps.forEach((c, i) => {
    for (const p of c) owner[p] = i;
  });
  const fpPeaks: number[][] = fps.map(() => []);
  for (const p of peaks) fpPeaks[owner[p]!]!.push(p);
  for (const list of fpPeaks) {
    list.sort((a, b) => {
      const d = o.sign * (img[b]! - img[a]!);
      return d !== 0 ? d : a - b;
    });
    // detect keeps the brightest maxPeaksPerFootprint (default 1000) of a footprint.
    list.length = Math.min(list.length, o.maxPeaksPerFootprint ?? 1000);
  }
  return { pixels: fps, peaks: fpPeaks };
}

/** 8-connected components of a 0/1 image, each sorted, ordered by lowest index. */
function components(set: Uint8Array, W: number, H: number): number[][] {
  const seen = new Uint8Array(set.length);
  const out: number[][] = [];
  for (let s = 0; s < set.length; s++) {
    if (!set[s] || seen[s]) continue;
    const comp: number[] = [];
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      comp.push(p);
      const x = p % W;
      const y = (p - x) / W;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
          const q = yy * W + xx;
          if (set[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    comp.sort((a, b) => a - b);
    out.push(comp);
  }
  return out;
}
