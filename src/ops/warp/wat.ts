/**
 * The WebAssembly kernel of `warp` on the CPU backend (WAT text, assembled by
 * compute/cpu/wasm.ts): one source onto a tile of its target region, in float64, the
 * taps unrolled for one kernel half-width per module. Positions (grid.ts's interpolation,
 * with the cell terms computed once per cell), the edge rule, the mask footprint and the
 * weights are the operations of cpu-kernel.ts#warpRowsJs in the same order; the tap sums
 * run over f64x2 pairs of taps (lanes added at the end), so they may differ from the JS
 * kernel's in the last float64 bit (and, rarely, the float32 result by one ulp), the same
 * way on every run.
 *
 * Export `warp(srcW, srcH, bx0, by0, bw, bh, step, gnx, gny, k0, c0, r0, c1, r1, noData,
 * pGix, pGfx, pGiy, pGfy, pGa, pImg, pVar, pMsk, pOImg, pOVar, pOMsk, ostride, pTab) -> filled`:
 * - srcW x srcH: the whole source (the edge rule); bx0, by0, bw: the source box held in
 *   the planes at pImg (f32), pVar (f32), pMsk (i32), `bw` columns and `bh` rows, which
 *   must hold every footprint that passes the edge rule on this tile (else it traps);
 * - step, gnx, gny: the grid (grid.ts); its node arrays at pGix (i32), pGfx (f32), pGiy
 *   (i32), pGfy (f32), pGa (f32) start at node k0 (they hold the tile's cell rows);
 * - columns c0 .. c1 - 1 and rows r0 .. r1 - 1 of the tile, relative to grid node (0, 0);
 *   the output tile at pOImg (f32), pOVar (f32), pOMsk (i32), rows `ostride` pixels apart, read for
 *   the NO_DATA bit (first source wins) and written where this source gives a value;
 * - pTab: the Lanczos table (f64, cpu-kernel.ts#lanczosTable), unused for bilinear.
 * Returns how many tile pixels got a value.
 */

/** Samples per pixel of the Lanczos table (cpu-kernel.ts LANCZOS_TABLE_RESOLUTION). */
const R = 4096;

const f64 = (x: number) => `(f64.const ${Number.isInteger(x) ? x.toFixed(1) : x})`;
const get = (name: string) => `(local.get $${name})`;

/** Weights of one axis into locals `${p}0..` (and squares `${p}q0..`), their sum into `${p}s`. */
function weights(p: string, f: string, n: number, bilinear: boolean): string {
  const taps = 2 * n;
  if (bilinear) {
    return `
      (local.set $${p}0 (f64.sub ${f64(1)} ${get(f)}))
      (local.set $${p}1 ${get(f)})
      (local.set $${p}s ${f64(1)})
      (local.set $${p}q0 (f64.mul ${get(`${p}0`)} ${get(`${p}0`)}))
      (local.set $${p}q1 (f64.mul ${get(`${p}1`)} ${get(`${p}1`)}))`;
  }
  // q = (f + taps - 1) R; i = floor(q); tap t at table index i - t R.
  let s = `
      (local.set $q (f64.mul (f64.sub (f64.add ${get(f)} ${f64(taps)}) ${f64(1)}) ${f64(R)}))
      (local.set $fl (f64.floor ${get('q')}))
      (local.set $fr (f64.sub ${get('q')} ${get('fl')}))
      (local.set $a (i32.add ${get('pTab')}
        (i32.shl (i32.sub (i32.trunc_f64_s ${get('fl')}) (i32.const ${(taps - 1) * R})) (i32.const 3))))
      (local.set $${p}s ${f64(0)})`;
  for (let t = 0; t < taps; t++) {
    const off = (taps - 1 - t) * R * 8;
    s += `
      (local.set $ta (f64.load offset=${off} ${get('a')}))
      (local.set $${p}${t} (f64.add ${get('ta')}
        (f64.mul ${get('fr')} (f64.sub (f64.load offset=${off + 8} ${get('a')}) ${get('ta')}))))
      (local.set $${p}s (f64.add ${get(`${p}s`)} ${get(`${p}${t}`)}))`;
  }
  for (let t = 0; t < taps; t++)
    s += `
      (local.set $${p}q${t} (f64.mul ${get(`${p}${t}`)} ${get(`${p}${t}`)}))`;
  return s;
}

/**
 * The tap sums si, sv: per row j with wy_j != 0, the f64x2 lane sums ri = sum wx_i img
 * and rv = sum wx_i^2 var over tap pairs (i, i + 1), then si += wy_j ri, sv += wy_j^2 rv
 * lane-wise, the lanes added at the end. `checkX`: zero the values under zero x taps
 * (they must not bring in NaN neighbours), needed only when some x weight is zero.
 */
function sums(n: number, checkX: boolean): string {
  const pairs = n;
  let s = `
      (local.set $si2 (v128.const f64x2 0 0))
      (local.set $sv2 (v128.const f64x2 0 0))
      (local.set $pi ${get('rowI')})
      (local.set $pv ${get('rowV')})`;
  const val = (ptr: string, i: number) => {
    const x = `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${8 * i} ${get(ptr)}))`;
    return checkX ? `(v128.and ${x} ${get(`xm${i}`)})` : x;
  };
  for (let j = 0; j < 2 * n; j++) {
    let ri = '';
    let rv = '';
    for (let i = 0; i < pairs; i++) {
      const ti = `(f64x2.mul ${get(`xw${i}`)} ${val('pi', i)})`;
      const tv = `(f64x2.mul ${get(`xwq${i}`)} ${val('pv', i)})`;
      ri = i === 0 ? ti : `(f64x2.add ${ri} ${ti})`;
      rv = i === 0 ? tv : `(f64x2.add ${rv} ${tv})`;
    }
    s += `
      (if (f64.ne ${get(`y${j}`)} ${f64(0)}) (then
        (local.set $si2 (f64x2.add ${get('si2')} (f64x2.mul (f64x2.splat ${get(`y${j}`)}) ${ri})))
        (local.set $sv2 (f64x2.add ${get('sv2')} (f64x2.mul (f64x2.splat ${get(`yq${j}`)}) ${rv})))))`;
    if (j < 2 * n - 1)
      s += `
      (local.set $pi (i32.add ${get('pi')} ${get('bw4')}))
      (local.set $pv (i32.add ${get('pv')} ${get('bw4')}))`;
  }
  s += `
      (local.set $si (f64.add (f64x2.extract_lane 0 ${get('si2')}) (f64x2.extract_lane 1 ${get('si2')})))
      (local.set $sv (f64.add (f64x2.extract_lane 0 ${get('sv2')}) (f64x2.extract_lane 1 ${get('sv2')})))`;
  return s;
}

/** Pack the x weights into f64x2 pairs (and their zero masks when `masks`). */
function packX(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += `
          (local.set $xw${i} (f64x2.replace_lane 1 (f64x2.splat ${get(`x${2 * i}`)}) ${get(`x${2 * i + 1}`)}))
          (local.set $xwq${i} (f64x2.mul ${get(`xw${i}`)} ${get(`xw${i}`)}))
          (local.set $xm${i} (f64x2.ne ${get(`xw${i}`)} (v128.const f64x2 0 0)))`;
  }
  return s;
}

/**
 * Per-cell terms of grid.ts's bilinear interpolation a00 + u (a10 - a00) + v (a01 - a00)
 * + u v (a11 - a01 - a10 + a00) of node values `${p}00..` (f64 locals; v is the row's).
 */
const cell = (p: string) => `
            (local.set $${p}d10 (f64.sub ${get(`${p}10`)} ${get(`${p}00`)}))
            (local.set $${p}d01v (f64.mul ${get('v')} (f64.sub ${get(`${p}01`)} ${get(`${p}00`)})))
            (local.set $${p}dd (f64.add (f64.sub (f64.sub ${get(`${p}11`)} ${get(`${p}01`)}) ${get(`${p}10`)})
              ${get(`${p}00`)}))`;

/** That interpolation at (u, v), in grid.ts's order of operations (uv = u v). */
const lerp = (p: string) =>
  `(f64.add (f64.add (f64.add ${get(`${p}00`)} (f64.mul ${get('u')} ${get(`${p}d10`)})) ${get(`${p}d01v`)})
    (f64.mul ${get('uv')} ${get(`${p}dd`)}))`;

/** f32 node value at node local `k` of the array at `base`, as f64. */
const nodeF = (base: string, k: string) =>
  `(f64.promote_f32 (f32.load (i32.add ${get(base)} (i32.shl ${get(k)} (i32.const 2)))))`;
/** i32 node value at node local `k`, as f64. */
const nodeI = (base: string, k: string) =>
  `(f64.convert_i32_s (i32.load (i32.add ${get(base)} (i32.shl ${get(k)} (i32.const 2)))))`;

/** The module for kernel half-width `n` (bilinear: n = 1). */
export function warpWat(n: number, bilinear: boolean): string {
  const taps = 2 * n;
  const wl: string[] = [];
  for (let t = 0; t < taps; t++) wl.push(`$x${t}`, `$xq${t}`, `$y${t}`, `$yq${t}`);
  return `(module
  (import "env" "mem" (memory 1))
  (func (export "warp")
    (param $srcW i32) (param $srcH i32) (param $bx0 i32) (param $by0 i32) (param $bw i32)
    (param $bh i32)
    (param $step i32) (param $gnx i32) (param $gny i32) (param $k0 i32)
    (param $c0 i32) (param $r0 i32) (param $c1 i32) (param $r1 i32) (param $noData i32)
    (param $pGix i32) (param $pGfx i32) (param $pGiy i32) (param $pGfy i32) (param $pGa i32)
    (param $pImg i32) (param $pVar i32) (param $pMsk i32)
    (param $pOImg i32) (param $pOVar i32) (param $pOMsk i32) (param $ostride i32) (param $pTab i32)
    (result i32)
    (local $filled i32) (local $r i32) (local $c i32) (local $cj i32) (local $ci i32)
    (local $rem i32) (local $o i32) (local $lastX i32) (local $lastY i32) (local $bw4 i32)
    (local $k00 i32) (local $k10 i32) (local $k01 i32) (local $k11 i32) (local $a i32)
    (local $b i32) (local $m i32) (local $lix i32) (local $liy i32)
    (local $pi i32) (local $pv i32) (local $rowI i32) (local $rowV i32) (local $stepf f64)
    (local $u f64) (local $v f64) (local $i0 f64) (local $j0 f64)
    (local $p00 f64) (local $p10 f64) (local $p01 f64) (local $p11 f64)
    (local $q00 f64) (local $q10 f64) (local $q01 f64) (local $q11 f64)
    (local $a00 f64) (local $a10 f64) (local $a01 f64) (local $a11 f64)
    (local $px f64) (local $py f64) (local $flx f64) (local $fly f64) (local $ix f64) (local $iy f64)
    (local $fx f64) (local $fy f64) (local $q f64) (local $fl f64) (local $fr f64) (local $ta f64)
    (local $xs f64) (local $ys f64) (local $si f64) (local $sv f64) (local $ri f64) (local $rv f64)
    (local $norm f64) (local $area f64) (local $img f64) (local $vr f64) (local $xz i32)
    ${wl.map((l) => `(local ${l} f64)`).join(' ')}
    (local $si2 v128) (local $sv2 v128) (local $kc i32) (local $uv f64)
    (local $pd10 f64) (local $pd01v f64) (local $pdd f64) (local $qd10 f64) (local $qd01v f64)
    (local $qdd f64) (local $ad10 f64) (local $ad01v f64) (local $add f64)
    ${Array.from({ length: n }, (_, i) => `(local $xw${i} v128) (local $xwq${i} v128) (local $xm${i} v128)`).join(' ')}
    (local.set $lastX (select (i32.sub ${get('gnx')} (i32.const 2)) (i32.const 0)
      (i32.gt_s ${get('gnx')} (i32.const 2))))
    (local.set $lastY (select (i32.sub ${get('gny')} (i32.const 2)) (i32.const 0)
      (i32.gt_s ${get('gny')} (i32.const 2))))
    (local.set $bw4 (i32.shl ${get('bw')} (i32.const 2)))
    (local.set $stepf (f64.convert_i32_s ${get('step')}))
    (local.set $r ${get('r0')})
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_s ${get('r')} ${get('r1')}))
      (local.set $cj (i32.div_u ${get('r')} ${get('step')}))
      (if (i32.gt_s ${get('cj')} ${get('lastY')}) (then (local.set $cj ${get('lastY')})))
      (local.set $v (if (result f64) (i32.gt_s ${get('gny')} (i32.const 1))
        (then (f64.div (f64.convert_i32_s (i32.sub ${get('r')} (i32.mul ${get('cj')} ${get('step')})))
          ${get('stepf')}))
        (else ${f64(0)})))
      (local.set $ci (i32.div_u ${get('c0')} ${get('step')}))
      (if (i32.gt_s ${get('ci')} ${get('lastX')}) (then (local.set $ci ${get('lastX')})))
      (local.set $rem (i32.sub ${get('c0')} (i32.mul ${get('ci')} ${get('step')})))
      (local.set $c ${get('c0')})
      (local.set $o (i32.add ${get('pOMsk')}
        (i32.shl (i32.mul (i32.sub ${get('r')} ${get('r0')}) ${get('ostride')}) (i32.const 2))))
      (local.set $kc (i32.const -1))
      (block $cols_done (loop $cols
        (br_if $cols_done (i32.ge_s ${get('c')} ${get('c1')}))
        (block $next
          (br_if $next (i32.eqz (i32.and (i32.load ${get('o')}) ${get('noData')})))
          (local.set $u (if (result f64) (i32.gt_s ${get('gnx')} (i32.const 1))
            (then (f64.div (f64.convert_i32_s ${get('rem')}) ${get('stepf')}))
            (else ${f64(0)})))
          ;; the cell's corner values, once per cell along the row
          (if (i32.ne ${get('ci')} ${get('kc')}) (then
            (local.set $kc ${get('ci')})
            (local.set $k00 (i32.sub (i32.add (i32.mul ${get('cj')} ${get('gnx')}) ${get('ci')}) ${get('k0')}))
            (local.set $k10 (select (i32.add ${get('k00')} (i32.const 1)) ${get('k00')}
              (i32.gt_s ${get('gnx')} (i32.const 1))))
            (local.set $k01 (select (i32.add ${get('k00')} ${get('gnx')}) ${get('k00')}
              (i32.gt_s ${get('gny')} (i32.const 1))))
            (local.set $k11 (select (i32.add ${get('k01')} (i32.const 1)) ${get('k01')}
              (i32.gt_s ${get('gnx')} (i32.const 1))))
            (local.set $i0 ${nodeI('pGix', 'k00')})
            (local.set $j0 ${nodeI('pGiy', 'k00')})
            (local.set $p00 ${nodeF('pGfx', 'k00')})
            (local.set $p10 (f64.add (f64.sub ${nodeI('pGix', 'k10')} ${get('i0')}) ${nodeF('pGfx', 'k10')}))
            (local.set $p01 (f64.add (f64.sub ${nodeI('pGix', 'k01')} ${get('i0')}) ${nodeF('pGfx', 'k01')}))
            (local.set $p11 (f64.add (f64.sub ${nodeI('pGix', 'k11')} ${get('i0')}) ${nodeF('pGfx', 'k11')}))
            (local.set $q00 ${nodeF('pGfy', 'k00')})
            (local.set $q10 (f64.add (f64.sub ${nodeI('pGiy', 'k10')} ${get('j0')}) ${nodeF('pGfy', 'k10')}))
            (local.set $q01 (f64.add (f64.sub ${nodeI('pGiy', 'k01')} ${get('j0')}) ${nodeF('pGfy', 'k01')}))
            (local.set $q11 (f64.add (f64.sub ${nodeI('pGiy', 'k11')} ${get('j0')}) ${nodeF('pGfy', 'k11')}))
            (local.set $a00 ${nodeF('pGa', 'k00')})
            (local.set $a10 ${nodeF('pGa', 'k10')})
            (local.set $a01 ${nodeF('pGa', 'k01')})
            (local.set $a11 ${nodeF('pGa', 'k11')})
            ${cell('p')}
            ${cell('q')}
            ${cell('a')}))
          (local.set $uv (f64.mul ${get('u')} ${get('v')}))
          (local.set $px ${lerp('p')})
          (local.set $py ${lerp('q')})
          ;; unmapped (NaN node)
          (br_if $next (f64.ne (f64.sub ${get('px')} ${get('px')}) ${f64(0)}))
          (br_if $next (f64.ne (f64.sub ${get('py')} ${get('py')}) ${f64(0)}))
          (local.set $flx (f64.floor ${get('px')}))
          (local.set $fly (f64.floor ${get('py')}))
          (local.set $ix (f64.add ${get('i0')} ${get('flx')}))
          (local.set $iy (f64.add ${get('j0')} ${get('fly')}))
          (local.set $fx (f64.sub ${get('px')} ${get('flx')}))
          (local.set $fy (f64.sub ${get('py')} ${get('fly')}))
          ;; the edge rule
          (br_if $next (f64.lt (f64.add (f64.sub ${get('ix')} ${f64(n)}) ${f64(1)}) ${f64(0)}))
          (br_if $next (f64.lt (f64.add (f64.sub ${get('iy')} ${f64(n)}) ${f64(1)}) ${f64(0)}))
          (br_if $next (f64.gt (f64.add ${get('ix')} ${f64(n)})
            (f64.convert_i32_s (i32.sub ${get('srcW')} (i32.const 1)))))
          (br_if $next (f64.gt (f64.add ${get('iy')} ${f64(n)})
            (f64.convert_i32_s (i32.sub ${get('srcH')} (i32.const 1)))))
          (local.set $lix (i32.sub (i32.trunc_f64_s ${get('ix')}) ${get('bx0')}))
          (local.set $liy (i32.sub (i32.trunc_f64_s ${get('iy')}) ${get('by0')}))
          ;; the footprint must lie in the source box (else the caller's box is wrong)
          (if (i32.or (i32.or (i32.lt_s ${get('lix')} (i32.const ${n - 1}))
                (i32.lt_s ${get('liy')} (i32.const ${n - 1})))
              (i32.or (i32.ge_s (i32.add ${get('lix')} (i32.const ${n})) ${get('bw')})
                (i32.ge_s (i32.add ${get('liy')} (i32.const ${n})) ${get('bh')})))
            (then unreachable))
          ;; mask: the bilinear footprint, taps of weight >= MASK_WEIGHT_MIN
          (local.set $b (i32.add ${get('pMsk')}
            (i32.shl (i32.add (i32.mul ${get('liy')} ${get('bw')}) ${get('lix')}) (i32.const 2))))
          (local.set $m (i32.const 0))
          (if (f64.ge (f64.mul (f64.sub ${f64(1)} ${get('fx')}) (f64.sub ${f64(1)} ${get('fy')})) ${f64(1e-5)})
            (then (local.set $m (i32.or ${get('m')} (i32.load ${get('b')})))))
          (if (f64.ge (f64.mul ${get('fx')} (f64.sub ${f64(1)} ${get('fy')})) ${f64(1e-5)})
            (then (local.set $m (i32.or ${get('m')} (i32.load offset=4 ${get('b')})))))
          (if (f64.ge (f64.mul (f64.sub ${f64(1)} ${get('fx')}) ${get('fy')}) ${f64(1e-5)})
            (then (local.set $m (i32.or ${get('m')} (i32.load (i32.add ${get('b')} ${get('bw4')}))))))
          (if (f64.ge (f64.mul ${get('fx')} ${get('fy')}) ${f64(1e-5)})
            (then (local.set $m (i32.or ${get('m')} (i32.load offset=4 (i32.add ${get('b')} ${get('bw4')}))))))
          (br_if $next (i32.and ${get('m')} ${get('noData')}))
          ${weights('x', 'fx', n, bilinear)}
          ${weights('y', 'fy', n, bilinear)}
          ${packX(n)}
          (local.set $xz (i32.const 0))
          ${Array.from({ length: taps }, (_, t) => `(local.set $xz (i32.or ${get('xz')} (f64.eq ${get(`x${t}`)} ${f64(0)})))`).join('\n          ')}
          (local.set $a (i32.shl (i32.add (i32.mul (i32.sub ${get('liy')} (i32.const ${n - 1})) ${get('bw')})
            (i32.sub ${get('lix')} (i32.const ${n - 1}))) (i32.const 2)))
          (local.set $rowI (i32.add ${get('pImg')} ${get('a')}))
          (local.set $rowV (i32.add ${get('pVar')} ${get('a')}))
          (if ${get('xz')} (then ${sums(n, true)}) (else ${sums(n, false)}))
          (local.set $norm (f64.mul ${get('xs')} ${get('ys')}))
          (local.set $area ${lerp('a')})
          (local.set $img (f64.div (f64.mul ${get('area')} ${get('si')}) ${get('norm')}))
          (local.set $vr (f64.div (f64.mul (f64.mul ${get('area')} ${get('area')}) ${get('sv')})
            (f64.mul ${get('norm')} ${get('norm')})))
          (br_if $next (f64.ne (f64.sub ${get('img')} ${get('img')}) ${f64(0)}))
          (br_if $next (f64.ne (f64.sub ${get('vr')} ${get('vr')}) ${f64(0)}))
          (local.set $a (i32.sub ${get('o')} ${get('pOMsk')}))
          (f32.store (i32.add ${get('pOImg')} ${get('a')}) (f32.demote_f64 ${get('img')}))
          (f32.store (i32.add ${get('pOVar')} ${get('a')}) (f32.demote_f64 ${get('vr')}))
          (i32.store ${get('o')} ${get('m')})
          (local.set $filled (i32.add ${get('filled')} (i32.const 1))))
        (local.set $o (i32.add ${get('o')} (i32.const 4)))
        (local.set $c (i32.add ${get('c')} (i32.const 1)))
        (local.set $rem (i32.add ${get('rem')} (i32.const 1)))
        (if (i32.and (i32.eq ${get('rem')} ${get('step')}) (i32.lt_s ${get('ci')} ${get('lastX')}))
          (then (local.set $ci (i32.add ${get('ci')} (i32.const 1))) (local.set $rem (i32.const 0))))
        (br $cols)))
      (local.set $r (i32.add ${get('r')} (i32.const 1)))
      (br $rows)))
    ${get('filled')}))
`;
}
