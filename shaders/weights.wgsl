// weights: per-chunk sums for the per-warp weights of stack (1 / mean variance of the
// good pixels), on a warp that stays on the device. One workgroup per chunk of 64
// pixels of one row; the chunk's good variances (mask without bad bits, image and
// variance finite; the others count +0) are summed in float32 by a pairwise tree with
// strides 32, 16, 8, 4, 2, 1, the tree src/ops/stack/wat.ts `varsum` evaluates on the
// CPU, so both backends get the same chunk sums to the bit. The host adds the chunk
// sums in float64 (src/ops/stack/weights.ts weightFromChunks).

struct Params {
  width: u32,
  rows: u32,
  chunks: u32,     // chunks per row: ceil(width / 64)
  bad_bits: u32,
  offset: u32,     // first pixel of the planes (a band of a larger buffer)
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> vr: array<f32>;
@group(0) @binding(3) var<storage, read> msk: array<u32>;
// Per chunk: the float32 sum (bits) and the count of good pixels.
@group(0) @binding(4) var<storage, read_write> sums: array<vec2<u32>>;

var<workgroup> s: array<f32, 64>;
var<workgroup> c: array<u32, 64>;

@compute @workgroup_size(64, 1, 1)
fn chunk_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let g = wg_linear(wid, nwg);
  // Uniform control flow: every invocation of a workgroup takes the same branch.
  if (g >= P.rows * P.chunks) { return; }
  let row = g / P.chunks;
  let x = (g % P.chunks) * 64u + lid;
  var v = 0.0;
  var good = 0u;
  if (x < P.width) {
    let p = P.offset + row * P.width + x;
    let xv = vr[p];
    if ((msk[p] & P.bad_bits) == 0u && is_finite_bits(img[p]) && is_finite_bits(xv)) {
      v = xv;
      good = 1u;
    }
  }
  s[lid] = v;
  c[lid] = good;
  workgroupBarrier();
  for (var st = 32u; st > 0u; st = st >> 1u) {
    if (lid < st) {
      s[lid] = s[lid] + s[lid + st];
      c[lid] = c[lid] + c[lid + st];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sums[g] = vec2<u32>(bitcast<u32>(s[0]), c[0]);
  }
}
