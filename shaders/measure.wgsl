// measure: one invocation per source (peak); sums run over the source's pixels in a fixed
// order (no atomics), float32. Semantics: src/ops/measure/spec.ts; the CPU reference
// (float64, same order) is src/ops/measure/cpu-kernel.ts.

struct Params {
  width: u32,
  height: u32,
  count: u32,
  nv: u32,
  nap: u32,
  centroid_iter: u32,
  shape_iter: u32,
  bad_bits: u32,
  edge_bits: u32,
  sat_bits: u32,
  intrp_bits: u32,
  sigma: f32,
  // 0: Gaussian PSF template; 1: the kernel image psf_kernel (psf_w x psf_h, odd, centred).
  psf_kind: u32,
  psf_w: u32,
  psf_h: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> vr: array<f32>;
@group(0) @binding(3) var<storage, read> msk: array<u32>;
// Peak pixels: x, y per source.
@group(0) @binding(4) var<storage, read> peaks: array<i32>;
@group(0) @binding(5) var<storage, read> radii: array<f32>;
@group(0) @binding(6) var<storage, read_write> vals: array<f32>;
@group(0) @binding(7) var<storage, read_write> flags_out: array<u32>;
@group(0) @binding(8) var<storage, read> psf_kernel: array<f32>;

const F_EDGE: u32 = 1u;
const F_SAT: u32 = 2u;
const F_INTRP: u32 = 4u;
const F_NANAP: u32 = 8u;
const F_CENTROID: u32 = 16u;
const F_SHAPE: u32 = 32u;
const F_PSFFLUX: u32 = 64u;
const SUB: i32 = 5;
const PI: f32 = 3.14159265358979;

// Lanczos-3 at d (0 beyond |d| >= 3, 1 at 0).
fn lanczos3(d: f32) -> f32 {
  if (d == 0.0) { return 1.0; }
  if (abs(d) >= 3.0) { return 0.0; }
  return 3.0 * sin(PI * d) * sin(PI * d / 3.0) / (PI * PI * d * d);
}

fn usable(o: u32) -> bool {
  return (msk[o] & P.bad_bits) == 0u && is_finite_bits(img[o]) && is_finite_bits(vr[o]);
}

@compute @workgroup_size(64, 1, 1)
fn measure_sources(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let s = wg_linear(wid, nwg) * 64u + lid;
  if (s >= P.count) { return; }
  let W = i32(P.width);
  let H = i32(P.height);
  let px = peaks[2u * s];
  let py = peaks[2u * s + 1u];
  let sigma = P.sigma;
  let inv2s2 = 1.0 / (2.0 * sigma * sigma);
  let rc = i32(ceil(4.0 * sigma));
  let norm = 1.0 / (2.0 * PI * sigma * sigma);
  var flags = 0u;
  for (var q = -rc; q <= rc; q++) {
    for (var p = -rc; p <= rc; p++) {
      let x = px + p;
      let y = py + q;
      if (x < 0 || y < 0 || x >= W || y >= H) {
        flags = flags | F_EDGE;
        continue;
      }
      let m = msk[u32(y * W + x)];
      if ((m & P.edge_bits) != 0u) { flags = flags | F_EDGE; }
      if ((m & P.sat_bits) != 0u) { flags = flags | F_SAT; }
      if ((m & P.intrp_bits) != 0u) { flags = flags | F_INTRP; }
    }
  }
  let x0 = max(0, px - rc);
  let x1 = min(W - 1, px + rc);
  let y0 = max(0, py - rc);
  let y1 = min(H - 1, py + rc);

  // Centroid.
  var cx = 0.0;
  var cy = 0.0;
  var sw = 0.0;
  for (var it = 0u; it < P.centroid_iter; it++) {
    sw = 0.0;
    var sx = 0.0;
    var sy = 0.0;
    for (var y = y0; y <= y1; y++) {
      let dy = f32(y - py) - cy;
      for (var x = x0; x <= x1; x++) {
        let o = u32(y * W + x);
        if (!usable(o)) { continue; }
        let dx = f32(x - px) - cx;
        let wi = exp(-(dx * dx + dy * dy) * inv2s2) * img[o];
        sw = sw + wi;
        sx = sx + wi * dx;
        sy = sy + wi * dy;
      }
    }
    if (!(sw > 0.0)) { break; }
    cx = cx + 2.0 * sx / sw;
    cy = cy + 2.0 * sy / sw;
  }
  if (!(sw > 0.0) || !(abs(cx) <= 2.0) || !(abs(cy) <= 2.0)) {
    flags = flags | F_CENTROID;
    cx = 0.0;
    cy = 0.0;
  }
  var exx = 0.0;
  var eyy = 0.0;
  var s0c = 0.0;
  for (var y = y0; y <= y1; y++) {
    let dy = f32(y - py) - cy;
    for (var x = x0; x <= x1; x++) {
      let o = u32(y * W + x);
      if (!usable(o)) { continue; }
      let dx = f32(x - px) - cx;
      let w = exp(-(dx * dx + dy * dy) * inv2s2);
      let v = vr[o];
      s0c = s0c + w * img[o];
      exx = exx + w * w * v * dx * dx;
      eyy = eyy + w * w * v * dy * dy;
    }
  }
  exx = 4.0 * exx / (s0c * s0c);
  eyy = 4.0 * eyy / (s0c * s0c);

  // Adaptive moments.
  var mxx = sigma * sigma;
  var myy = sigma * sigma;
  var mxy = 0.0;
  var shape_ok = true;
  for (var it = 0u; it < P.shape_iter; it++) {
    let det = mxx * myy - mxy * mxy;
    if (!(det > 0.0)) {
      shape_ok = false;
      break;
    }
    let ixx = myy / det;
    let iyy = mxx / det;
    let ixy = -mxy / det;
    let rs = min(12, max(2, i32(ceil(3.0 * sqrt((mxx + myy) / 2.0)))));
    var s0 = 0.0;
    var qxx = 0.0;
    var qyy = 0.0;
    var qxy = 0.0;
    for (var y = max(0, py - rs); y <= min(H - 1, py + rs); y++) {
      let dy = f32(y - py) - cy;
      for (var x = max(0, px - rs); x <= min(W - 1, px + rs); x++) {
        let o = u32(y * W + x);
        if (!usable(o)) { continue; }
        let dx = f32(x - px) - cx;
        let wi = exp(-0.5 * (ixx * dx * dx + 2.0 * ixy * dx * dy + iyy * dy * dy)) * img[o];
        s0 = s0 + wi;
        qxx = qxx + wi * dx * dx;
        qyy = qyy + wi * dy * dy;
        qxy = qxy + wi * dx * dy;
      }
    }
    if (!(s0 > 0.0)) {
      shape_ok = false;
      break;
    }
    mxx = 2.0 * qxx / s0;
    myy = 2.0 * qyy / s0;
    mxy = 2.0 * qxy / s0;
  }
  if (!shape_ok || !(mxx > 0.0 && myy > 0.0 && mxx * myy - mxy * mxy > 0.0)) {
    flags = flags | F_SHAPE;
    mxx = nan_f32();
    myy = nan_f32();
    mxy = nan_f32();
  }

  // PSF flux.
  var spi = 0.0;
  var spp = 0.0;
  var sppv = 0.0;
  if (P.psf_kind == 1u) {
    // The kernel shifted to the centroid by Lanczos-3 (spec.ts): c = n + f per axis,
    // P(d) = sum_k wx[k] wy[k'] K(d - n - (k - 2)), over the 4 sigma square.
    let kw = i32(P.psf_w);
    let kh = i32(P.psf_h);
    let khw = (kw - 1) / 2;
    let khh = (kh - 1) / 2;
    let nx = i32(floor(cx));
    let ny = i32(floor(cy));
    let fx = cx - f32(nx);
    let fy = cy - f32(ny);
    var wx: array<f32, 6>;
    var wy: array<f32, 6>;
    var sx = 0.0;
    var sy = 0.0;
    for (var k = 0; k < 6; k++) {
      wx[k] = lanczos3(f32(k - 2) - fx);
      wy[k] = lanczos3(f32(k - 2) - fy);
      sx = sx + wx[k];
      sy = sy + wy[k];
    }
    for (var k = 0; k < 6; k++) {
      wx[k] = wx[k] / sx;
      wy[k] = wy[k] / sy;
    }
    for (var y = y0; y <= y1; y++) {
      let my = y - py - ny;
      for (var x = x0; x <= x1; x++) {
        let mx = x - px - nx;
        let o = u32(y * W + x);
        if (!usable(o)) { continue; }
        var pm = 0.0;
        for (var ky = 0; ky < 6; ky++) {
          let row = my - (ky - 2) + khh;
          if (row < 0 || row >= kh) { continue; }
          var acc = 0.0;
          for (var kx = 0; kx < 6; kx++) {
            let col = mx - (kx - 2) + khw;
            if (col < 0 || col >= kw) { continue; }
            acc = acc + wx[kx] * psf_kernel[u32(row * kw + col)];
          }
          pm = pm + wy[ky] * acc;
        }
        spi = spi + pm * img[o];
        spp = spp + pm * pm;
        sppv = sppv + pm * pm * vr[o];
      }
    }
  } else {
    for (var y = y0; y <= y1; y++) {
      let dy = f32(y - py) - cy;
      for (var x = x0; x <= x1; x++) {
        let o = u32(y * W + x);
        if (!usable(o)) { continue; }
        let dx = f32(x - px) - cx;
        let pm = exp(-(dx * dx + dy * dy) * inv2s2) * norm;
        spi = spi + pm * img[o];
        spp = spp + pm * pm;
        sppv = sppv + pm * pm * vr[o];
      }
    }
  }
  var psf_flux = spi / spp;
  var psf_err = sqrt(sppv) / spp;
  if (!(spp > 0.0)) {
    flags = flags | F_PSFFLUX;
    psf_flux = nan_f32();
    psf_err = nan_f32();
  }

  // Apertures.
  var ap_f: array<f32, 8>;
  var ap_v: array<f32, 8>;
  let nap = P.nap;
  let rmax = radii[nap - 1u];
  let ra = i32(ceil(rmax + 1.0));
  for (var q = -ra; q <= ra; q++) {
    let y = py + q;
    let dy = f32(q) - cy;
    for (var p = -ra; p <= ra; p++) {
      let x = px + p;
      let dx = f32(p) - cx;
      let d = sqrt(dx * dx + dy * dy);
      if (d >= rmax + 0.7072) { continue; }
      let inside = x >= 0 && y >= 0 && x < W && y < H;
      var ok = false;
      if (inside) { ok = usable(u32(y * W + x)); }
      for (var k = 0u; k < nap; k++) {
        let r = radii[k];
        var f: f32;
        if (d <= r - 0.7072) {
          f = 1.0;
        } else if (d >= r + 0.7072) {
          f = 0.0;
        } else {
          var c = 0;
          for (var j = 0; j < SUB; j++) {
            let sy = dy + (f32(j) + 0.5) / f32(SUB) - 0.5;
            for (var i = 0; i < SUB; i++) {
              let sx = dx + (f32(i) + 0.5) / f32(SUB) - 0.5;
              if (sx * sx + sy * sy <= r * r) { c = c + 1; }
            }
          }
          f = f32(c) / f32(SUB * SUB);
        }
        if (f == 0.0) { continue; }
        if (!inside) {
          flags = flags | F_EDGE;
          continue;
        }
        if (!ok) {
          flags = flags | F_NANAP;
          continue;
        }
        let o = u32(y * W + x);
        ap_f[k] = ap_f[k] + f * img[o];
        ap_v[k] = ap_v[k] + f * f * vr[o];
      }
    }
  }
  let o = s * P.nv;
  vals[o] = cx;
  vals[o + 1u] = cy;
  vals[o + 2u] = sqrt(exx);
  vals[o + 3u] = sqrt(eyy);
  vals[o + 4u] = mxx;
  vals[o + 5u] = myy;
  vals[o + 6u] = mxy;
  vals[o + 7u] = psf_flux;
  vals[o + 8u] = psf_err;
  vals[o + 9u] = img[u32(py * W + px)];
  for (var k = 0u; k < nap; k++) {
    vals[o + 10u + 2u * k] = ap_f[k];
    vals[o + 11u + 2u * k] = sqrt(ap_v[k]);
  }
  flags_out[s] = flags;
}
