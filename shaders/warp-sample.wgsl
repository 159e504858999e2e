// warp-sample: the per-pixel warp of one source (grid interpolation, Lanczos or bilinear
// kernel, mask footprint, LSST's edge rule), shared by warp.wgsl and coadd.wgsl through
// `// gpu-drp:include warp-sample.wgsl`. Semantics: src/ops/warp/spec.ts; the float64 CPU
// reference is src/ops/warp/cpu-kernel.ts (same formulas; here in float32).
// Bindings 0-4 are the source and its grid; includers use 5 and up.

const PI: f32 = 3.14159265358979;
const MASK_WEIGHT_MIN: f32 = 1e-5;

struct Params {
  src_w: u32,
  src_h: u32,
  gx0: i32,         // grid node (0, 0), target parent pixels
  gy0: i32,
  step: u32,
  gnx: u32,
  gny: u32,
  rx0: i32,         // region to fill, target parent pixels
  ry0: i32,
  rw: u32,
  rh: u32,
  ox0: i32,         // output box corner and width
  oy0: i32,
  ow: u32,
  n: u32,           // kernel half-width
  kernel: u32,      // 0 Lanczos, 1 bilinear
  nodata: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src_img: array<f32>;
@group(0) @binding(2) var<storage, read> src_var: array<f32>;
@group(0) @binding(3) var<storage, read> src_msk: array<u32>;
// Five words per grid node: ix (i32), fx (f32), iy (i32), fy (f32), area (f32).
@group(0) @binding(4) var<storage, read> grid: array<u32>;
fn gi(k: u32, w: u32) -> i32 { return bitcast<i32>(grid[5u * k + w]); }
fn gf(k: u32, w: u32) -> f32 { return bitcast<f32>(grid[5u * k + w]); }

// Kernel weights for fraction f into w[0 .. 2n); returns their sum.
fn weights(f: f32, w: ptr<function, array<f32, 10>>) -> f32 {
  if (P.kernel == 1u) {
    (*w)[0] = 1.0 - f;
    (*w)[1] = f;
    return 1.0;
  }
  let nf = f32(P.n);
  let s1 = sin(PI * f);
  let ang = PI * f / nf;
  let sa = sin(ang);
  let ca = cos(ang);
  var sum = 0.0;
  for (var t = 0u; t < 2u * P.n; t++) {
    let k = i32(t) - i32(P.n) + 1;
    let d = f - f32(k);
    var v = 1.0;
    if (d != 0.0) {
      var sgn = 1.0;
      if ((k & 1) != 0) { sgn = -1.0; }
      let b = PI * f32(k) / nf;
      v = nf * sgn * s1 * (sa * cos(b) - ca * sin(b)) / (PI * PI * d * d);
    }
    (*w)[t] = v;
    sum = sum + v;
  }
  return sum;
}

// What one source gives target pixel (x, y): `ok` false when it gives nothing.
struct Sample {
  ok: bool,
  img: f32,
  vr: f32,
  msk: u32,
}

fn warp_sample(x: i32, y: i32) -> Sample {
  let none = Sample(false, 0.0, 0.0, 0u);
  let rxg = u32(x - P.gx0);
  let ryg = u32(y - P.gy0);
  let ci = min(rxg / P.step, max(P.gnx, 2u) - 2u);
  let cj = min(ryg / P.step, max(P.gny, 2u) - 2u);
  var u = 0.0;
  var v = 0.0;
  if (P.gnx > 1u) { u = f32(rxg - ci * P.step) / f32(P.step); }
  if (P.gny > 1u) { v = f32(ryg - cj * P.step) / f32(P.step); }
  let k00 = cj * P.gnx + ci;
  var k10 = k00;
  var k01 = k00;
  if (P.gnx > 1u) { k10 = k00 + 1u; }
  if (P.gny > 1u) { k01 = k00 + P.gnx; }
  var k11 = k01;
  if (P.gnx > 1u) { k11 = k01 + 1u; }
  let i0 = gi(k00, 0u);
  let j0 = gi(k00, 2u);
  let p00 = gf(k00, 1u);
  let p10 = f32(gi(k10, 0u) - i0) + gf(k10, 1u);
  let p01 = f32(gi(k01, 0u) - i0) + gf(k01, 1u);
  let p11 = f32(gi(k11, 0u) - i0) + gf(k11, 1u);
  let q00 = gf(k00, 3u);
  let q10 = f32(gi(k10, 2u) - j0) + gf(k10, 3u);
  let q01 = f32(gi(k01, 2u) - j0) + gf(k01, 3u);
  let q11 = f32(gi(k11, 2u) - j0) + gf(k11, 3u);
  let px = p00 + u * (p10 - p00) + v * (p01 - p00) + u * v * (p11 - p01 - p10 + p00);
  let py = q00 + u * (q10 - q00) + v * (q01 - q00) + u * v * (q11 - q01 - q10 + q00);
  if (!is_finite_bits(px) || !is_finite_bits(py)) { return none; }
  let flx = floor(px);
  let fly = floor(py);
  let ix = i0 + i32(flx);
  let iy = j0 + i32(fly);
  let fx = px - flx;
  let fy = py - fly;
  let n = i32(P.n);
  if (ix - n + 1 < 0 || iy - n + 1 < 0 || ix + n > i32(P.src_w) - 1 || iy + n > i32(P.src_h) - 1) { return none; }
  let sw = P.src_w;
  let b = u32(iy) * sw + u32(ix);
  // Mask: the bilinear footprint, taps of weight >= MASK_WEIGHT_MIN (as cpu-kernel.ts).
  var m = 0u;
  if ((1.0 - fx) * (1.0 - fy) >= MASK_WEIGHT_MIN) { m = m | src_msk[b]; }
  if (fx * (1.0 - fy) >= MASK_WEIGHT_MIN) { m = m | src_msk[b + 1u]; }
  if ((1.0 - fx) * fy >= MASK_WEIGHT_MIN) { m = m | src_msk[b + sw]; }
  if (fx * fy >= MASK_WEIGHT_MIN) { m = m | src_msk[b + sw + 1u]; }
  if ((m & P.nodata) != 0u) { return none; }
  var wx: array<f32, 10>;
  var wy: array<f32, 10>;
  let sx = weights(fx, &wx);
  let sy = weights(fy, &wy);
  let taps = 2u * P.n;
  let x0 = u32(ix - n + 1);
  let y0 = u32(iy - n + 1);
  var si = 0.0;
  var sv = 0.0;
  for (var j = 0u; j < taps; j++) {
    let wyj = wy[j];
    if (wyj == 0.0) { continue; }
    let row = (y0 + j) * sw + x0;
    var ri = 0.0;
    var rv = 0.0;
    for (var i = 0u; i < taps; i++) {
      let w = wx[i];
      if (w == 0.0) { continue; }
      ri = ri + w * src_img[row + i];
      rv = rv + w * w * src_var[row + i];
    }
    si = si + wyj * ri;
    sv = sv + wyj * wyj * rv;
  }
  let norm = sx * sy;
  let a00 = gf(k00, 4u);
  let area = a00 + u * (gf(k10, 4u) - a00) + v * (gf(k01, 4u) - a00) + u * v * (gf(k11, 4u) - gf(k01, 4u) - gf(k10, 4u) + a00);
  let img = area * si / norm;
  let vr = area * area * sv / (norm * norm);
  if (!is_finite_bits(img) || !is_finite_bits(vr)) { return none; }
  return Sample(true, img, vr, m);
}
