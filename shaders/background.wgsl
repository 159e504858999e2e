// background: mesh statistics (one workgroup of 256 per bin) and model evaluation (one
// invocation per pixel). Semantics and float32 order of operations: src/ops/background/
// spec.ts and cpu-kernel.ts (the CPU reference reproduces the lane order and the tree).

struct Params {
  width: u32,
  height: u32,
  nx: u32,          // bins along x
  nbins: u32,       // nx * ny
  ignore_bits: u32,
  num_iter: u32,
  k: f32,           // numSigmaClip
  nseg: u32,        // model segments per row
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> msk: array<u32>;
// Bin edges: nx + 1 along x, then ny + 1 along y.
@group(0) @binding(3) var<storage, read> edges: array<u32>;
// Per bin: value (f32 bits), good count, stdev (f32 bits).
@group(0) @binding(4) var<storage, read_write> stats: array<u32>;
// Model tables: height x nseg x 4 coefficients; per column segment and t.
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(6) var<storage, read> segs: array<u32>;
@group(0) @binding(7) var<storage, read> ts: array<f32>;
@group(0) @binding(8) var<storage, read_write> model: array<f32>;
@group(0) @binding(9) var<storage, read_write> out_img: array<f32>;

const IQR_TO_SIGMA: f32 = 0.741;

var<workgroup> hist: array<atomic<u32>, 768>;
var<workgroup> red_f: array<f32, 256>;
var<workgroup> red_u: array<u32, 256>;
var<workgroup> sel_prefix: array<u32, 3>;
var<workgroup> sel_rank: array<u32, 3>;

// Order-preserving map of f32 bits to u32 (negative floats reversed).
fn key_of(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

fn val_of(k: u32) -> f32 {
  if ((k & 0x80000000u) != 0u) { return bitcast<f32>(k & 0x7fffffffu); }
  return bitcast<f32>(~k);
}

fn sum_f(lid: u32, v: f32) -> f32 {
  red_f[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { red_f[lid] = red_f[lid] + red_f[lid + s]; }
    workgroupBarrier();
  }
  let r = red_f[0];
  workgroupBarrier();
  return r;
}

fn sum_u(lid: u32, v: u32) -> u32 {
  red_u[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { red_u[lid] = red_u[lid] + red_u[lid + s]; }
    workgroupBarrier();
  }
  let r = red_u[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(256, 1, 1)
fn bin_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let b_raw = wg_linear(wid, nwg);
  let b = min(b_raw, P.nbins - 1u);
  let ix = b % P.nx;
  let iy = b / P.nx;
  let x0 = edges[ix];
  let bw = edges[ix + 1u] - x0;
  let y0 = edges[P.nx + 1u + iy];
  let npx = bw * (edges[P.nx + 2u + iy] - y0);

  var cnt = 0u;
  for (var j = lid; j < npx; j += 256u) {
    let p = (y0 + j / bw) * P.width + x0 + j % bw;
    if ((msk[p] & P.ignore_bits) == 0u && is_finite_bits(img[p])) { cnt += 1u; }
  }
  let n = sum_u(lid, cnt);
  let nm1 = max(n, 1u) - 1u;

  // Exact order statistics: 4 radix passes of 8 bits over the keys, 3 ranks at once.
  if (lid < 3u) {
    sel_prefix[lid] = 0u;
    var r = nm1 / 2u;
    if (lid == 0u) { r = nm1 / 4u; }
    if (lid == 2u) { r = (3u * nm1) / 4u; }
    sel_rank[lid] = r;
  }
  for (var rp = 0u; rp < 4u; rp++) {
    let shift = 24u - 8u * rp;
    var hi_mask = 0u;
    if (rp > 0u) { hi_mask = 0xffffffffu << (shift + 8u); }
    atomicStore(&hist[lid], 0u);
    atomicStore(&hist[lid + 256u], 0u);
    atomicStore(&hist[lid + 512u], 0u);
    workgroupBarrier();
    let pf = array<u32, 3>(sel_prefix[0], sel_prefix[1], sel_prefix[2]);
    for (var j = lid; j < npx; j += 256u) {
      let p = (y0 + j / bw) * P.width + x0 + j % bw;
      let x = img[p];
      if ((msk[p] & P.ignore_bits) != 0u || !is_finite_bits(x)) { continue; }
      let key = key_of(x);
      let digit = (key >> shift) & 255u;
      for (var t = 0u; t < 3u; t++) {
        if ((key & hi_mask) == (pf[t] & hi_mask)) { atomicAdd(&hist[t * 256u + digit], 1u); }
      }
    }
    workgroupBarrier();
    if (lid < 3u) {
      var rank = sel_rank[lid];
      var d = 0u;
      loop {
        let h = atomicLoad(&hist[lid * 256u + d]);
        if (rank < h || d == 255u) { break; }
        rank -= h;
        d += 1u;
      }
      sel_rank[lid] = rank;
      sel_prefix[lid] = sel_prefix[lid] | (d << shift);
    }
    workgroupBarrier();
  }
  let q25 = val_of(sel_prefix[0]);
  let q50 = val_of(sel_prefix[1]);
  let q75 = val_of(sel_prefix[2]);
  workgroupBarrier();

  var center = q50;
  var hw = P.k * (IQR_TO_SIGMA * (q75 - q25));
  var value = nan_f32();
  var stdev = nan_f32();
  for (var it = 0u; it < P.num_iter; it++) {
    let clip = hw > 0.0;
    var s = 0.0;
    var c = 0u;
    for (var j = lid; j < npx; j += 256u) {
      let p = (y0 + j / bw) * P.width + x0 + j % bw;
      let x = img[p];
      if ((msk[p] & P.ignore_bits) != 0u || !is_finite_bits(x)) { continue; }
      if (clip && !(abs(x - center) <= hw)) { continue; }
      s = s + x;
      c += 1u;
    }
    let total = sum_f(lid, s);
    let count = sum_u(lid, c);
    let mean = total / f32(max(count, 1u));
    var ss = 0.0;
    for (var j = lid; j < npx; j += 256u) {
      let p = (y0 + j / bw) * P.width + x0 + j % bw;
      let x = img[p];
      if ((msk[p] & P.ignore_bits) != 0u || !is_finite_bits(x)) { continue; }
      if (clip && !(abs(x - center) <= hw)) { continue; }
      let d = x - mean;
      ss = ss + d * d;
    }
    let dev = sum_f(lid, ss);
    if (count > 0u) {
      var sd = 0.0;
      if (count > 1u) { sd = sqrt(dev / f32(count - 1u)); }
      value = mean;
      stdev = sd;
      center = mean;
      hw = P.k * sd;
    }
  }
  if (lid == 0u && b_raw < P.nbins) {
    stats[3u * b] = bitcast<u32>(value);
    stats[3u * b + 1u] = n;
    stats[3u * b + 2u] = bitcast<u32>(stdev);
  }
}

@compute @workgroup_size(256, 1, 1)
fn apply_model(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let p = wg_linear(wid, nwg) * 256u + lid;
  if (p >= P.width * P.height) { return; }
  let y = p / P.width;
  let x = p - y * P.width;
  let o = (y * P.nseg + segs[x]) * 4u;
  let t = ts[x];
  var m = coef[o + 3u] * t + coef[o + 2u];
  m = m * t + coef[o + 1u];
  m = m * t + coef[o];
  model[p] = m;
  out_img[p] = img[p] - m;
}
