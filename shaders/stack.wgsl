// stack: N warps on one grid into a coadd, one invocation per output pixel. Semantics
// and the float32 order of operations are those of src/ops/stack/spec.ts and
// src/ops/stack/cpu-kernel.ts (the CPU reference); keep the two in step.
//
// Buffers hold one band of rows; input plane i of the band starts at i * P.npix.

const MAXN: u32 = 64u; // gpu-drp:define

struct Params {
  npix: u32,          // pixels in the band (rows * width)
  n: u32,             // inputs
  stat: u32,          // 0 MEAN, 1 MEANCLIP, 2 MEDIAN
  num_iter: u32,
  k: f32,             // numSigmaClip
  per_pixel: u32,     // 1: w = 1 / variance
  bad_bits: u32,
  nodata_bits: u32,
  clipped_bits: u32,
  rejected_bits: u32,
  n_thresh: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> imgs: array<f32>;
@group(0) @binding(2) var<storage, read> vrs: array<f32>;
@group(0) @binding(3) var<storage, read> msks: array<u32>;
// aux: n per-warp weights (f32 bits), then n_thresh thresholds (f32 bits), then their mask bits.
@group(0) @binding(4) var<storage, read> aux: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_img: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_msk: array<u32>;
@group(0) @binding(8) var<storage, read_write> coverage: array<u32>;

const IQR_TO_SIGMA: f32 = 0.741;
const HALF_PI: f32 = 1.5707963267948966;

fn quantile(s: ptr<function, array<f32, MAXN>>, n: u32, q: f32) -> f32 {
  let pos = f32(n - 1u) * q;
  let lo = u32(floor(pos));
  let hi = min(lo + 1u, n - 1u);
  let fr = pos - f32(lo);
  let a = (*s)[lo];
  return a + fr * ((*s)[hi] - a);
}

@compute @workgroup_size(64, 1, 1)
fn stack_px(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let p = wg_linear(wid, nwg) * 64u + lid;
  if (p >= P.npix) { return; }
  var xs: array<f32, MAXN>;
  var ws: array<f32, MAXN>;
  var vs: array<f32, MAXN>;
  var ms: array<u32, MAXN>;
  var keep: array<u32, MAXN>;
  var next: array<u32, MAXN>;
  var rej_w: array<f32, 8>;
  var ng = 0u;
  var rejected = false;
  var cov_w = 0.0;
  for (var i = 0u; i < P.n; i++) {
    let o = i * P.npix + p;
    let m = msks[o];
    if ((m & P.nodata_bits) != 0u) { continue; }
    let x = imgs[o];
    let v = vrs[o];
    var w = bitcast<f32>(aux[i]);
    if (P.per_pixel != 0u) {
      w = 0.0;
      if (v > 0.0 && is_finite_bits(v)) { w = 1.0 / v; }
    }
    cov_w = cov_w + w;
    if ((m & P.bad_bits) != 0u || !is_finite_bits(x) || !is_finite_bits(v) || !(w > 0.0) || !is_finite_bits(w)) {
      rejected = true;
      for (var t = 0u; t < P.n_thresh; t++) {
        if ((m & aux[P.n + P.n_thresh + t]) != 0u) { rej_w[t] = rej_w[t] + w; }
      }
      continue;
    }
    xs[ng] = x;
    ws[ng] = w;
    vs[ng] = v;
    ms[ng] = m;
    ng = ng + 1u;
  }
  var extra = 0u;
  if (rejected) { extra = P.rejected_bits; }
  for (var t = 0u; t < P.n_thresh; t++) {
    if (cov_w > 0.0 && rej_w[t] / cov_w > bitcast<f32>(aux[P.n + t])) { extra = extra | aux[P.n + P.n_thresh + t]; }
  }
  if (ng == 0u) {
    out_img[p] = nan_f32();
    out_var[p] = inf_f32();
    out_msk[p] = P.nodata_bits | extra;
    coverage[p] = 0u;
    return;
  }
  for (var i = 0u; i < ng; i++) { keep[i] = 1u; }
  var value = 0.0;
  if (P.stat != 0u) {
    var sorted: array<f32, MAXN>;
    for (var i = 0u; i < ng; i++) {
      let x = xs[i];
      var j = i32(i) - 1;
      while (j >= 0 && sorted[j] > x) {
        sorted[j + 1] = sorted[j];
        j = j - 1;
      }
      sorted[j + 1] = x;
    }
    var median: f32;
    if ((ng & 1u) == 1u) {
      median = sorted[(ng - 1u) >> 1u];
    } else {
      median = (sorted[ng / 2u - 1u] + sorted[ng / 2u]) * 0.5;
    }
    if (P.stat == 2u) {
      value = median;
    } else {
      let iqr = quantile(&sorted, ng, 0.75) - quantile(&sorted, ng, 0.25);
      var center = median;
      var hw = P.k * (IQR_TO_SIGMA * iqr);
      for (var it = 0u; it < P.num_iter; it++) {
        if (it > 0u) {
          var sw = 0.0;
          var sx = 0.0;
          var nk = 0u;
          for (var i = 0u; i < ng; i++) {
            if (keep[i] == 0u) { continue; }
            sw = sw + ws[i];
            sx = sx + ws[i] * xs[i];
            nk = nk + 1u;
          }
          let mu = sx / sw;
          var ss = 0.0;
          for (var i = 0u; i < ng; i++) {
            if (keep[i] == 0u) { continue; }
            let d = xs[i] - mu;
            ss = ss + d * d;
          }
          center = mu;
          hw = 0.0;
          if (nk >= 2u) { hw = P.k * sqrt(ss / f32(nk - 1u)); }
        }
        if (!(hw > 0.0)) { continue; }
        var nk2 = 0u;
        for (var i = 0u; i < ng; i++) {
          var kk = 0u;
          if (abs(xs[i] - center) <= hw) { kk = 1u; }
          next[i] = kk;
          nk2 = nk2 + kk;
        }
        if (nk2 > 0u) {
          for (var i = 0u; i < ng; i++) { keep[i] = next[i]; }
        }
      }
    }
  }
  var sw = 0.0;
  var sx = 0.0;
  var sv = 0.0;
  var m = 0u;
  var nk = 0u;
  for (var i = 0u; i < ng; i++) {
    if (keep[i] == 0u) { continue; }
    let w = ws[i];
    sw = sw + w;
    sx = sx + w * xs[i];
    sv = sv + (w * w) * vs[i];
    m = m | ms[i];
    nk = nk + 1u;
  }
  if (P.stat != 2u) { value = sx / sw; }
  var variance = sv / (sw * sw);
  if (P.stat == 2u) { variance = variance * HALF_PI; }
  if (nk < ng) { extra = extra | P.clipped_bits; }
  out_img[p] = value;
  out_var[p] = variance;
  out_msk[p] = m | extra;
  coverage[p] = nk;
}
