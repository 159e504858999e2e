/**
 * WebAssembly SIMD kernels of `background` (CPU backend), assembled by compileWat. f32x4
 * arithmetic rounds every operation to float32, the spec's formulas at four pixels per
 * instruction; memory is the caller's WasmScratch (byte offsets below).
 *
 * clipSum(s, nb, c, h, lanes) -> count: over nb blocks of 256 float32 at s, element
 *   j of a block is added (float32) to lanes[j] when |v - c| <= h (NaN never is);
 *   lanes (256 float32) start at 0; returns the number added. Excluded elements add +0,
 *   which leaves a float32 sum unchanged (sums are never -0: they start at +0).
 * clipSq(s, nb, c, h, mean, lanes): as clipSum, adding (v - mean)^2 (float32 each).
 * bracket(s, n, lo0, hi0, lo1, hi1, lo2, hi2, b0, b1, b2, out): over the n float32 at s,
 *   per bracket k: lt_k = the number of v < lo_k, and the v with lo_k <= v <= hi_k are
 *   copied in order to b_k (m_k of them; NaN is neither); writes lt0, lt1, lt2, m0, m1,
 *   m2 as int32 at out. Branch-free (every v is stored, the count advances or not).
 * poly(t, img, model, out, n, c0, c1, c2, c3): for i = 0, 4, ... < n (4 lanes, so up
 *   to 3 past n are written): m = ((c3 t + c2) t + c1) t + c0, model = m,
 *   out = img - m (float32).
 */
export const BACKGROUND_WAT = `
(module
  (import "env" "mem" (memory 1))
  (func $zero (param $lanes i32)
    (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (i32.const 1024)))
      (v128.store (i32.add (local.get $lanes) (local.get $i)) (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))
  (func (export "clipSum")
    (param $s i32) (param $nb i32) (param $c f32) (param $h f32) (param $lanes i32)
    (result i32)
    (local $p i32) (local $end i32) (local $i i32) (local $a i32)
    (local $v v128) (local $m v128) (local $cv v128) (local $hv v128) (local $cnt v128)
    (call $zero (local.get $lanes))
    (local.set $cv (f32x4.splat (local.get $c)))
    (local.set $hv (f32x4.splat (local.get $h)))
    (local.set $p (local.get $s))
    (local.set $end (i32.add (local.get $s) (i32.mul (local.get $nb) (i32.const 1024))))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (i32.const 1024)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $m (f32x4.le (f32x4.abs (f32x4.sub (local.get $v) (local.get $cv))) (local.get $hv)))
        (local.set $a (i32.add (local.get $lanes) (local.get $i)))
        (v128.store (local.get $a)
          (f32x4.add (v128.load (local.get $a)) (v128.and (local.get $v) (local.get $m))))
        (local.set $cnt (i32x4.sub (local.get $cnt) (local.get $m)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $il)))
      (local.set $p (i32.add (local.get $p) (i32.const 1024)))
      (br $bl)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $cnt)) (i32x4.extract_lane 1 (local.get $cnt)))
      (i32.add (i32x4.extract_lane 2 (local.get $cnt)) (i32x4.extract_lane 3 (local.get $cnt)))))
  (func (export "clipSq")
    (param $s i32) (param $nb i32) (param $c f32) (param $h f32) (param $mean f32)
    (param $lanes i32)
    (local $p i32) (local $end i32) (local $i i32) (local $a i32)
    (local $v v128) (local $m v128) (local $d v128) (local $cv v128) (local $hv v128)
    (local $mv v128)
    (call $zero (local.get $lanes))
    (local.set $cv (f32x4.splat (local.get $c)))
    (local.set $hv (f32x4.splat (local.get $h)))
    (local.set $mv (f32x4.splat (local.get $mean)))
    (local.set $p (local.get $s))
    (local.set $end (i32.add (local.get $s) (i32.mul (local.get $nb) (i32.const 1024))))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (i32.const 1024)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $m (f32x4.le (f32x4.abs (f32x4.sub (local.get $v) (local.get $cv))) (local.get $hv)))
        (local.set $d (f32x4.sub (local.get $v) (local.get $mv)))
        (local.set $a (i32.add (local.get $lanes) (local.get $i)))
        (v128.store (local.get $a)
          (f32x4.add (v128.load (local.get $a))
            (v128.and (f32x4.mul (local.get $d) (local.get $d)) (local.get $m))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $il)))
      (local.set $p (i32.add (local.get $p) (i32.const 1024)))
      (br $bl))))
  (func (export "bracket")
    (param $s i32) (param $n i32)
    (param $lo0 f32) (param $hi0 f32) (param $lo1 f32) (param $hi1 f32)
    (param $lo2 f32) (param $hi2 f32)
    (param $b0 i32) (param $b1 i32) (param $b2 i32) (param $out i32)
    (local $p i32) (local $end i32) (local $v f32)
    (local $lt0 i32) (local $lt1 i32) (local $lt2 i32)
    (local $m0 i32) (local $m1 i32) (local $m2 i32)
    (local.set $p (local.get $s))
    (local.set $end (i32.add (local.get $s) (i32.shl (local.get $n) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $v (f32.load (local.get $p)))
      (local.set $lt0 (i32.add (local.get $lt0) (f32.lt (local.get $v) (local.get $lo0))))
      (local.set $lt1 (i32.add (local.get $lt1) (f32.lt (local.get $v) (local.get $lo1))))
      (local.set $lt2 (i32.add (local.get $lt2) (f32.lt (local.get $v) (local.get $lo2))))
      (f32.store (i32.add (local.get $b0) (i32.shl (local.get $m0) (i32.const 2))) (local.get $v))
      (f32.store (i32.add (local.get $b1) (i32.shl (local.get $m1) (i32.const 2))) (local.get $v))
      (f32.store (i32.add (local.get $b2) (i32.shl (local.get $m2) (i32.const 2))) (local.get $v))
      (local.set $m0 (i32.add (local.get $m0)
        (i32.and (f32.ge (local.get $v) (local.get $lo0)) (f32.le (local.get $v) (local.get $hi0)))))
      (local.set $m1 (i32.add (local.get $m1)
        (i32.and (f32.ge (local.get $v) (local.get $lo1)) (f32.le (local.get $v) (local.get $hi1)))))
      (local.set $m2 (i32.add (local.get $m2)
        (i32.and (f32.ge (local.get $v) (local.get $lo2)) (f32.le (local.get $v) (local.get $hi2)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l)))
    (i32.store (local.get $out) (local.get $lt0))
    (i32.store offset=4 (local.get $out) (local.get $lt1))
    (i32.store offset=8 (local.get $out) (local.get $lt2))
    (i32.store offset=12 (local.get $out) (local.get $m0))
    (i32.store offset=16 (local.get $out) (local.get $m1))
    (i32.store offset=20 (local.get $out) (local.get $m2)))
  (func (export "poly")
    (param $t i32) (param $img i32) (param $model i32) (param $out i32) (param $n i32)
    (param $c0 f32) (param $c1 f32) (param $c2 f32) (param $c3 f32)
    (local $i i32) (local $b i32) (local $tv v128) (local $m v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $v0 (f32x4.splat (local.get $c0)))
    (local.set $v1 (f32x4.splat (local.get $c1)))
    (local.set $v2 (f32x4.splat (local.get $c2)))
    (local.set $v3 (f32x4.splat (local.get $c3)))
    (block $d (loop $l
      (br_if $d (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $b (i32.shl (local.get $i) (i32.const 2)))
      (local.set $tv (v128.load (i32.add (local.get $t) (local.get $b))))
      (local.set $m (f32x4.add (f32x4.mul (local.get $v3) (local.get $tv)) (local.get $v2)))
      (local.set $m (f32x4.add (f32x4.mul (local.get $m) (local.get $tv)) (local.get $v1)))
      (local.set $m (f32x4.add (f32x4.mul (local.get $m) (local.get $tv)) (local.get $v0)))
      (v128.store (i32.add (local.get $model) (local.get $b)) (local.get $m))
      (v128.store (i32.add (local.get $out) (local.get $b))
        (f32x4.sub (v128.load (i32.add (local.get $img) (local.get $b))) (local.get $m)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))))
`;
