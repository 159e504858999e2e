/**
 * The WebAssembly SIMD kernel of `stack` (WAT text, assembled by compute/cpu/wasm.ts).
 *
 * Four output pixels per f32x4 lane group; for each group the inputs are visited in
 * order with the sums in registers, each input's contribution added only in the lanes
 * where it counts (v128.bitselect), so every sum sees exactly the additions, in exactly
 * the order, of spec.ts and shaders/stack.wgsl, each rounded to float32 (f32x4 rounds
 * every add, multiply, divide and square root to float32 like WGSL).
 *
 * MEDIAN and MEANCLIP sort the good values of each lane (the others set to +Inf, after
 * every finite value) with an odd-even transposition network of adjacent exchanges that
 * swap only when strictly out of order (pmin / pmax): a stable sort, so the sorted values
 * are those of the reference's insertion sort, bit for bit (-0 and +0 included). The
 * per-lane medians and quartiles are gathered from the sorted columns by index.
 *
 * One exported function per statistic and weighting, `stack_<stat>_<perPixel>`, with
 * arguments (n, nt, groups, stride, numIter, k, badBits, noDataBits, clippedBits,
 * rejectedBits, pW, pWg, pTb, pTt, pRej, pG, pS, pK, pNx, pWs, pImg, pVr, pMsk, pOImg, pOVar,
 * pOMsk, pOCov): byte addresses of per-warp weights (f32[n]) and their validity masks
 * (i32[n], -1 where > 0 and finite), threshold bits (i32[nt]),
 * thresholds (f32[nt]), scratch v128[nt] and v128[n] x 5, input planes (plane i at
 * p + i * stride bytes) and output planes; `groups` groups of 4 pixels are written.
 */

const PARAMS = `
    (param $n i32) (param $nt i32) (param $groups i32) (param $stride i32)
    (param $numIter i32) (param $kf f32)
    (param $badB i32) (param $nodataB i32) (param $clippedB i32) (param $rejectedB i32)
    (param $pW i32) (param $pWg i32) (param $pTb i32) (param $pTt i32) (param $pRej i32)
    (param $pG i32) (param $pS i32) (param $pK i32) (param $pNx i32) (param $pWs i32)
    (param $pImg i32) (param $pVr i32) (param $pMsk i32)
    (param $pOImg i32) (param $pOVar i32) (param $pOMsk i32) (param $pOCov i32)
    (local $g i32) (local $q i32) (local $i i32) (local $o i32) (local $t i32)
    (local $j i32) (local $r i32) (local $it i32) (local $a i32)
    (local $m v128) (local $x v128) (local $v v128) (local $w v128)
    (local $cov v128) (local $good v128) (local $badc v128) (local $kk v128)
    (local $covW v128) (local $rej v128) (local $ng v128) (local $nk v128)
    (local $sw v128) (local $sx v128) (local $sv v128) (local $mor v128) (local $ss v128)
    (local $extra v128) (local $value v128) (local $var v128) (local $empty v128)
    (local $xa v128) (local $xb v128) (local $ngc v128) (local $half v128) (local $med v128)
    (local $sbase v128) (local $center v128) (local $hw v128) (local $active v128)
    (local $mu v128) (local $d v128) (local $k v128)
    (local $bad v128) (local $nodata v128) (local $badnd v128) (local $commit v128)`;

/** A loop `for (var = from; var < limit; var += 1) body`. */
function loop(v: string, from: string, limit: string, body: string): string {
  return `
    (local.set $${v} ${from})
    (block $${v}_done (loop $${v}_loop
      (br_if $${v}_done (i32.ge_u (local.get $${v}) ${limit}))
      ${body}
      (local.set $${v} (i32.add (local.get $${v}) (i32.const 1)))
      (br $${v}_loop)))`;
}

const INF = '(v128.const f32x4 inf inf inf inf)';
const ZERO = '(v128.const i32x4 0 0 0 0)';
const ONE_I = '(v128.const i32x4 1 1 1 1)';

/**
 * `local = local + add` in the lanes of `mask` (f32x4), as `local + (add & mask)`: the
 * other lanes add +0, which leaves any sum but -0 unchanged, and these sums start at +0
 * and so are never -0 (x + y is -0 only when both are -0).
 */
function addIf(local: string, add: string, mask: string): string {
  return `(local.set $${local} (f32x4.add (local.get $${local}) (v128.and ${add} ${mask})))`;
}

/** Address of input plane element (i, group) in the plane at `base`: base + i * stride + q. */
const at = (base: string) => `(i32.add (local.get $${base}) (local.get $o))`;
/** Address of scratch column i (v128 per input) at `base`. */
const col = (base: string) =>
  `(i32.add (local.get $${base}) (i32.shl (local.get $i) (i32.const 4)))`;
/** `o = i * stride + q`. */
const setO = '(local.set $o (i32.add (i32.mul (local.get $i) (local.get $stride)) (local.get $q)))';
/** The f32x4 weights of input i: per-warp splat, or 1 / v where v > 0 and finite, else 0. */
const weight = (perPixel: boolean) =>
  perPixel
    ? `(v128.and (f32x4.div (v128.const f32x4 1 1 1 1) (local.get $v))
         (v128.and (f32x4.gt (local.get $v) ${ZERO}) (f32x4.lt (local.get $v) ${INF})))`
    : `(f32x4.splat (f32.load (i32.add (local.get $pW) (i32.shl (local.get $i) (i32.const 2)))))`;

/** All-ones lanes where the weight of input i is > 0 and finite (per-warp: precomputed). */
const weightOk = (perPixel: boolean) =>
  perPixel
    ? `(v128.and (f32x4.gt (local.get $w) ${ZERO}) (f32x4.lt (local.get $w) ${INF}))`
    : `(i32x4.splat (i32.load (i32.add (local.get $pWg) (i32.shl (local.get $i) (i32.const 2)))))`;

/** The sorted value at each lane's index in `idx` (i32x4), from the columns at $pS. */
const gather = (idx: string) =>
  `(call $gather (i32x4.add (i32x4.shl ${idx} (i32.const 4)) (local.get $sbase)))`;

/** `out = quantile(q)` of spec.ts, per lane, from the sorted columns (n = $ngc). */
function quantile(q: number, out: string): string {
  const nm1 = `(i32x4.sub (local.get $ngc) ${ONE_I})`;
  return `
    (local.set $d (f32x4.mul (f32x4.convert_i32x4_s ${nm1}) (v128.const f32x4 ${q} ${q} ${q} ${q})))
    (local.set $xb (i32x4.trunc_sat_f32x4_s (local.get $d)))
    (local.set $xa ${gather('(local.get $xb)')})
    (local.set $${out} (f32x4.add (local.get $xa)
      (f32x4.mul (f32x4.sub (local.get $d) (f32x4.convert_i32x4_s (local.get $xb)))
        (f32x4.sub ${gather(`(i32x4.min_s (i32x4.add (local.get $xb) ${ONE_I}) ${nm1})`)} (local.get $xa)))))`;
}

/**
 * `kk` = the kept mask of input i: a pass's new kept set (pNx) is committed lazily, in
 * the lanes of $commit, by the next loop that reads the kept set.
 */
const keptCommitted = `(local.set $kk (v128.bitselect (v128.load ${col('pNx')}) (v128.load ${col('pK')}) (local.get $commit)))`;

/**
 * The odd-even transposition sort of the n columns at $pS: a loop for any n, or for
 * `sortN` > 0 (n = sortN) unrolled over locals $s0.. (no memory traffic between stages).
 */
function sortNet(sortN: number): string {
  if (sortN > 0) {
    const ce: string[] = [];
    for (let r = 0; r < sortN; r++) {
      for (let j = r & 1; j + 1 < sortN; j += 2) {
        ce.push(`(local.set $xa (local.get $s${j}))
      (local.set $s${j} (f32x4.pmin (local.get $xa) (local.get $s${j + 1})))
      (local.set $s${j + 1} (f32x4.pmax (local.get $s${j + 1}) (local.get $xa)))`);
      }
    }
    const cols = Array.from({ length: sortN }, (_, i) => i);
    return `
      ${cols.map((i) => `(local.set $s${i} (v128.load offset=${16 * i} (local.get $pS)))`).join('\n      ')}
      ${ce.join('\n      ')}
      ${cols.map((i) => `(v128.store offset=${16 * i} (local.get $pS) (local.get $s${i}))`).join('\n      ')}`;
  }
  return loop(
    'r',
    '(i32.const 0)',
    '(local.get $n)',
    `(local.set $j (i32.and (local.get $r) (i32.const 1)))
      (block $j_done (loop $j_loop
        (br_if $j_done (i32.ge_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
        (local.set $a (i32.add (local.get $pS) (i32.shl (local.get $j) (i32.const 4))))
        (local.set $xa (v128.load (local.get $a)))
        (local.set $xb (v128.load offset=16 (local.get $a)))
        (v128.store (local.get $a) (f32x4.pmin (local.get $xa) (local.get $xb)))
        (v128.store offset=16 (local.get $a) (f32x4.pmax (local.get $xb) (local.get $xa)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $j_loop)))`,
  );
}

/** Most inputs for which the sort is unrolled (a module per input count). */
export const SORT_UNROLL_MAX = 16;

/** One kernel: stat 0 MEAN, 1 MEANCLIP, 2 MEDIAN. */
function kernel(stat: 0 | 1 | 2, perPixel: boolean, sortN: number): string {
  const load = `
      (local.set $m (v128.load ${at('pMsk')}))
      (local.set $x (v128.load ${at('pImg')}))
      (local.set $v (v128.load ${at('pVr')}))`;
  // Pass 1: coverage, good inputs, rejection weights; for MEAN and MEDIAN also the sums.
  const gatherPass = `
    (local.set $covW ${ZERO}) (local.set $rej ${ZERO}) (local.set $ng ${ZERO})
    (local.set $sw ${ZERO}) (local.set $sx ${ZERO}) (local.set $sv ${ZERO}) (local.set $mor ${ZERO})
    ${loop('t', '(i32.const 0)', '(local.get $nt)', `(v128.store (i32.add (local.get $pRej) (i32.shl (local.get $t) (i32.const 4))) ${ZERO})`)}
    ${loop(
      'i',
      '(i32.const 0)',
      '(local.get $n)',
      `${setO}${load}
      (local.set $w ${weight(perPixel)})
      (local.set $cov (i32x4.eq (v128.and (local.get $m) (local.get $nodata)) ${ZERO}))
      ${addIf('covW', '(local.get $w)', '(local.get $cov)')}
      (local.set $good (v128.and
        (v128.and (i32x4.eq (v128.and (local.get $m) (local.get $badnd)) ${ZERO})
          (v128.and (f32x4.lt (f32x4.abs (local.get $x)) ${INF}) (f32x4.lt (f32x4.abs (local.get $v)) ${INF})))
        ${weightOk(perPixel)}))
      (local.set $badc (v128.andnot (local.get $cov) (local.get $good)))
      (local.set $rej (v128.or (local.get $rej) (local.get $badc)))
      (if (v128.any_true (local.get $badc)) (then
        ${loop(
          't',
          '(i32.const 0)',
          '(local.get $nt)',
          `(local.set $a (i32.add (local.get $pRej) (i32.shl (local.get $t) (i32.const 4))))
          (local.set $xa (v128.load (local.get $a)))
          (v128.store (local.get $a) (f32x4.add (local.get $xa) (v128.and (local.get $w)
            (v128.andnot (local.get $badc) (i32x4.eq (v128.and (local.get $m)
              (i32x4.splat (i32.load (i32.add (local.get $pTb) (i32.shl (local.get $t) (i32.const 2)))))) ${ZERO})))))`,
        )}))
      (local.set $ng (i32x4.sub (local.get $ng) (local.get $good)))
      ${
        stat !== 1
          ? `${addIf('sw', '(local.get $w)', '(local.get $good)')}
      ${addIf('sx', '(f32x4.mul (local.get $w) (local.get $x))', '(local.get $good)')}
      ${addIf('sv', '(f32x4.mul (f32x4.mul (local.get $w) (local.get $w)) (local.get $v))', '(local.get $good)')}
      (local.set $mor (v128.or (local.get $mor) (v128.and (local.get $m) (local.get $good))))`
          : `(v128.store ${col('pK')} (local.get $good))
      (v128.store ${col('pWs')} (local.get $w))`
      }
      ${stat !== 0 ? `(v128.store ${col('pG')} (local.get $good)) (v128.store ${col('pS')} (v128.bitselect (local.get $x) ${INF} (local.get $good)))` : ''}`,
    )}
    (local.set $extra (v128.and (local.get $rej) (i32x4.splat (local.get $rejectedB))))
    ${loop(
      't',
      '(i32.const 0)',
      '(local.get $nt)',
      `(local.set $extra (v128.or (local.get $extra)
        (v128.and (i32x4.splat (i32.load (i32.add (local.get $pTb) (i32.shl (local.get $t) (i32.const 2)))))
          (v128.and (f32x4.gt (local.get $covW) ${ZERO})
            (f32x4.gt (f32x4.div (v128.load (i32.add (local.get $pRej) (i32.shl (local.get $t) (i32.const 4)))) (local.get $covW))
              (f32x4.splat (f32.load (i32.add (local.get $pTt) (i32.shl (local.get $t) (i32.const 2))))))))))`,
    )}`;
  // Stable sort of the columns (odd-even transposition), then the median.
  const sortAndMedian = `
    ${sortNet(sortN)}
    (local.set $ngc (i32x4.max_s (local.get $ng) ${ONE_I}))
    (local.set $half (i32x4.shr_u (local.get $ngc) (i32.const 1)))
    (local.set $xb ${gather('(local.get $half)')})
    (local.set $xa ${gather(`(i32x4.max_s (i32x4.sub (local.get $half) ${ONE_I}) ${ZERO})`)})
    (local.set $med (v128.bitselect (local.get $xb)
      (f32x4.mul (f32x4.add (local.get $xa) (local.get $xb)) (v128.const f32x4 0.5 0.5 0.5 0.5))
      (i32x4.ne (v128.and (local.get $ngc) ${ONE_I}) ${ZERO})))`;
  // MEANCLIP passes over the columns $pK (kept), $pG (good), $pWs (weights).
  const clip = `
    ${quantile(0.75, 'hw')}
    ${quantile(0.25, 'mu')}
    (local.set $hw (f32x4.sub (local.get $hw) (local.get $mu)))
    (local.set $hw (f32x4.mul (local.get $k) (f32x4.mul (v128.const f32x4 0.741 0.741 0.741 0.741) (local.get $hw))))
    (local.set $center (local.get $med))
    (local.set $commit ${ZERO})
    ${loop(
      'it',
      '(i32.const 0)',
      '(local.get $numIter)',
      `(if (i32.gt_u (local.get $it) (i32.const 0)) (then
        (local.set $sw ${ZERO}) (local.set $sx ${ZERO}) (local.set $nk ${ZERO}) (local.set $ss ${ZERO})
        ${loop(
          'i',
          '(i32.const 0)',
          '(local.get $n)',
          `${setO}
          ${keptCommitted}
          (v128.store ${col('pK')} (local.get $kk))
          (local.set $w (v128.load ${col('pWs')}))
          ${addIf('sw', '(local.get $w)', '(local.get $kk)')}
          ${addIf('sx', `(f32x4.mul (local.get $w) (v128.load ${at('pImg')}))`, '(local.get $kk)')}
          (local.set $nk (i32x4.sub (local.get $nk) (local.get $kk)))`,
        )}
        (local.set $commit ${ZERO})
        (local.set $mu (f32x4.div (local.get $sx) (local.get $sw)))
        ${loop(
          'i',
          '(i32.const 0)',
          '(local.get $n)',
          `${setO}
          (local.set $d (f32x4.sub (v128.load ${at('pImg')}) (local.get $mu)))
          ${addIf('ss', '(f32x4.mul (local.get $d) (local.get $d))', `(v128.load ${col('pK')})`)}`,
        )}
        (local.set $center (local.get $mu))
        (local.set $hw (v128.and
          (f32x4.mul (local.get $k) (f32x4.sqrt (f32x4.div (local.get $ss)
            (f32x4.convert_i32x4_s (i32x4.sub (local.get $nk) ${ONE_I})))))
          (i32x4.gt_s (local.get $nk) ${ONE_I})))))
      (local.set $active (f32x4.gt (local.get $hw) ${ZERO}))
      (if (v128.any_true (local.get $active)) (then
        (local.set $nk ${ZERO})
        ${loop(
          'i',
          '(i32.const 0)',
          '(local.get $n)',
          `${setO}
          (local.set $kk (v128.and (v128.load ${col('pG')})
            (f32x4.le (f32x4.abs (f32x4.sub (v128.load ${at('pImg')}) (local.get $center))) (local.get $hw))))
          (v128.store ${col('pNx')} (local.get $kk))
          (local.set $nk (i32x4.sub (local.get $nk) (local.get $kk)))`,
        )}
        (local.set $commit (v128.and (local.get $active) (i32x4.gt_s (local.get $nk) ${ZERO})))))`,
    )}
    (local.set $sw ${ZERO}) (local.set $sx ${ZERO}) (local.set $sv ${ZERO}) (local.set $mor ${ZERO}) (local.set $nk ${ZERO})
    ${loop(
      'i',
      '(i32.const 0)',
      '(local.get $n)',
      `${setO}${load}
      ${keptCommitted}
      (local.set $w (v128.load ${col('pWs')}))
      ${addIf('sw', '(local.get $w)', '(local.get $kk)')}
      ${addIf('sx', '(f32x4.mul (local.get $w) (local.get $x))', '(local.get $kk)')}
      ${addIf('sv', '(f32x4.mul (f32x4.mul (local.get $w) (local.get $w)) (local.get $v))', '(local.get $kk)')}
      (local.set $mor (v128.or (local.get $mor) (v128.and (local.get $m) (local.get $kk))))
      (local.set $nk (i32x4.sub (local.get $nk) (local.get $kk)))`,
    )}
    (local.set $extra (v128.or (local.get $extra)
      (v128.and (i32x4.splat (local.get $clippedB)) (i32x4.lt_s (local.get $nk) (local.get $ng)))))`;
  const finish = `
    ${stat !== 1 ? '(local.set $nk (local.get $ng))' : ''}
    (local.set $value ${stat === 2 ? '(local.get $med)' : '(f32x4.div (local.get $sx) (local.get $sw))'})
    (local.set $var (f32x4.div (local.get $sv) (f32x4.mul (local.get $sw) (local.get $sw))))
    ${stat === 2 ? `(local.set $var (f32x4.mul (local.get $var) (v128.const f32x4 1.5707963267948966 1.5707963267948966 1.5707963267948966 1.5707963267948966)))` : ''}
    (local.set $empty (i32x4.eq (local.get $ng) ${ZERO}))
    (v128.store (i32.add (local.get $pOImg) (local.get $q))
      (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $value) (local.get $empty)))
    (v128.store (i32.add (local.get $pOVar) (local.get $q))
      (v128.bitselect ${INF} (local.get $var) (local.get $empty)))
    (v128.store (i32.add (local.get $pOMsk) (local.get $q))
      (v128.or (local.get $extra) (v128.bitselect (local.get $nodata) (local.get $mor) (local.get $empty))))
    (v128.store (i32.add (local.get $pOCov) (local.get $q)) (local.get $nk))`;
  return `
  (func (export "stack_${stat}_${perPixel ? 1 : 0}")${PARAMS}
    ${Array.from({ length: sortN }, (_, i) => `(local $s${i} v128)`).join(' ')}
    (local.set $bad (i32x4.splat (local.get $badB)))
    (local.set $nodata (i32x4.splat (local.get $nodataB)))
    (local.set $badnd (v128.or (local.get $bad) (local.get $nodata)))
    (local.set $k (f32x4.splat (local.get $kf)))
    (local.set $sbase (i32x4.add (i32x4.splat (local.get $pS)) (v128.const i32x4 0 4 8 12)))
    ${loop(
      'g',
      '(i32.const 0)',
      '(local.get $groups)',
      `(local.set $q (i32.shl (local.get $g) (i32.const 4)))
      ${gatherPass}
      ${stat !== 0 ? sortAndMedian : ''}
      ${stat === 1 ? clip : ''}
      ${finish}`,
    )})`;
}

/**
 * varsum(n, chunks, stride, badBits, pImg, pVr, pMsk, pSum, pCnt): one row of each input
 * (input i at p + i * stride bytes, padded to `chunks` x 64 pixels with NaN images), cut
 * in chunks of 64 pixels. A chunk's variance over its good pixels (mask without badBits,
 * image and variance finite; the others count +0) is summed in float32 by the pairwise
 * tree of weights.ts (strides 32, 16, 8, 4, 2, 1), exactly as shaders/weights.wgsl's
 * workgroups sum it, and the chunk sum is added to the f64 at pSum + 8 i, chunks in
 * order; good pixels are counted in the i32x4 at pCnt + 16 i.
 */
const VARSUM = (() => {
  const v = (j: number) => `$v${j}`;
  const locals = Array.from({ length: 16 }, (_, j) => `(local ${v(j)} v128)`).join(' ');
  const loads = Array.from(
    { length: 16 },
    (_, j) => `
        (local.set $x (v128.load offset=${16 * j} ${at('pVr')}))
        (local.set $good (v128.and
          (i32x4.eq (v128.and (v128.load offset=${16 * j} ${at('pMsk')}) (local.get $bad)) ${ZERO})
          (v128.and (f32x4.lt (f32x4.abs (v128.load offset=${16 * j} ${at('pImg')})) ${INF})
            (f32x4.lt (f32x4.abs (local.get $x)) ${INF}))))
        (local.set ${v(j)} (v128.and (local.get $x) (local.get $good)))
        (local.set $cnt (i32x4.sub (local.get $cnt) (local.get $good)))`,
  ).join('');
  // Pixel p of the chunk is lane p & 3 of vector p >> 2: stride 32 pairs vector j with
  // j + 8, 16 with j + 4, 8 with j + 2, 4 with j + 1; strides 2 and 1 pair lanes.
  const tree: string[] = [];
  for (const half of [8, 4, 2, 1]) {
    for (let j = 0; j < half; j++)
      tree.push(`(local.set ${v(j)} (f32x4.add (local.get ${v(j)}) (local.get ${v(j + half)})))`);
  }
  const lane = (l: number) => `(f32x4.extract_lane ${l} (local.get $v0))`;
  return `
  (func (export "varsum")
    (param $n i32) (param $chunks i32) (param $stride i32) (param $badB i32)
    (param $pImg i32) (param $pVr i32) (param $pMsk i32) (param $pSum i32) (param $pCnt i32)
    (local $i i32) (local $c i32) (local $o i32) (local $a i32)
    (local $bad v128) (local $x v128) (local $good v128) (local $cnt v128) (local $s f64)
    ${locals}
    (local.set $bad (i32x4.splat (local.get $badB)))
    ${loop(
      'i',
      '(i32.const 0)',
      '(local.get $n)',
      `(local.set $a (i32.add (local.get $pCnt) (i32.shl (local.get $i) (i32.const 4))))
      (local.set $cnt (v128.load (local.get $a)))
      (local.set $s (f64.load (i32.add (local.get $pSum) (i32.shl (local.get $i) (i32.const 3)))))
      ${loop(
        'c',
        '(i32.const 0)',
        '(local.get $chunks)',
        `(local.set $o (i32.add (i32.mul (local.get $i) (local.get $stride))
          (i32.shl (local.get $c) (i32.const 8))))
        ${loads}
        ${tree.join(' ')}
        (local.set $s (f64.add (local.get $s) (f64.promote_f32
          (f32.add (f32.add ${lane(0)} ${lane(2)}) (f32.add ${lane(1)} ${lane(3)})))))`,
      )}
      (f64.store (i32.add (local.get $pSum) (i32.shl (local.get $i) (i32.const 3))) (local.get $s))
      (v128.store (local.get $a) (local.get $cnt))`,
    )})`;
})();

/**
 * The module text: a lane gather helper, varsum and the six stack kernels, for any
 * number of inputs (sortN = 0) or with the sort unrolled for exactly sortN inputs.
 */
export const stackWat = (sortN: number): string => `
(module
  (import "env" "mem" (memory 1))
  ;; The f32 at each of the four byte addresses in the lanes of $a.
  (func $gather (param $a v128) (result v128)
    (f32x4.replace_lane 3
      (f32x4.replace_lane 2
        (f32x4.replace_lane 1
          (f32x4.splat (f32.load (i32x4.extract_lane 0 (local.get $a))))
          (f32.load (i32x4.extract_lane 1 (local.get $a))))
        (f32.load (i32x4.extract_lane 2 (local.get $a))))
      (f32.load (i32x4.extract_lane 3 (local.get $a)))))
  ${VARSUM}
  ${kernel(0, false, sortN)}
  ${kernel(0, true, sortN)}
  ${kernel(1, false, sortN)}
  ${kernel(1, true, sortN)}
  ${kernel(2, false, sortN)}
  ${kernel(2, true, sortN)}
)`;
