// coadd: streaming MEAN coadd fused with the warp. Each visit's CCDs are warped pixel by
// pixel (warp_sample) and added straight into running sums: no warp is ever stored.
// Per visit: `var_partials` per source gives the warp's variance sum over good pixels
// (workgroup partial sums; the host adds them in float64 for the per-warp weight), then
// `accumulate` per source adds w x, w, w^2 var, the mask and the counts; `finalize` turns
// the sums into the coadd. The per-pixel arithmetic is that of stack.wgsl's MEAN with
// the visits as inputs in order (src/ops/stack/spec.ts).
//
// "First source wins" within a visit: `claimed` holds, per target pixel, the stamp of the
// last pass that took it (2 visit + 1 for var_partials, 2 visit + 2 for accumulate).

// gpu-drp:include warp-sample.wgsl

struct CoaddParams {
  stamp: u32,
  weight: f32,
  bad_bits: u32,
  nodata_bits: u32,
  thr_bits: u32,      // the mask-propagation plane (SAT by default), 0 for none
  thr: f32,           // its rejected-weight threshold
  rejected_bits: u32,
  npix: u32,          // pixels of the target box (finalize)
}

// Eight words per target pixel: sx, sw, sv (f32), mask OR, count, covered weight (f32),
// rejected flag, rejected weight with the threshold plane (f32).
@group(0) @binding(5) var<storage, read_write> acc: array<u32>;
@group(0) @binding(6) var<storage, read_write> claimed: array<u32>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(9) var<uniform> C: CoaddParams;
@group(0) @binding(10) var<storage, read_write> out_img: array<f32>;
@group(0) @binding(11) var<storage, read_write> out_var: array<f32>;
@group(0) @binding(12) var<storage, read_write> out_msk: array<u32>;
@group(0) @binding(13) var<storage, read_write> coverage: array<u32>;

var<workgroup> red_sum: array<f32, 64>;
var<workgroup> red_cnt: array<f32, 64>;

fn af(o: u32, k: u32) -> f32 { return bitcast<f32>(acc[8u * o + k]); }
fn set_af(o: u32, k: u32, v: f32) { acc[8u * o + k] = bitcast<u32>(v); }

// Target pixel of invocation q of a source's region, and its index in the box.
fn region_pixel(q: u32) -> vec3<i32> {
  let x = P.rx0 + i32(q % P.rw);
  let y = P.ry0 + i32(q / P.rw);
  return vec3<i32>(x, y, i32(u32(y - P.oy0) * P.ow + u32(x - P.ox0)));
}

@compute @workgroup_size(64, 1, 1)
fn var_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let g = wg_linear(wid, nwg);
  let q = g * 64u + lid;
  var v = 0.0;
  var c = 0.0;
  if (q < P.rw * P.rh) {
    let t = region_pixel(q);
    let o = u32(t.z);
    if (claimed[o] != C.stamp) {
      let s = warp_sample(t.x, t.y);
      if (s.ok) {
        claimed[o] = C.stamp;
        if ((s.msk & C.bad_bits) == 0u) {
          v = s.vr;
          c = 1.0;
        }
      }
    }
  }
  red_sum[lid] = v;
  red_cnt[lid] = c;
  workgroupBarrier();
  for (var k = 32u; k > 0u; k = k >> 1u) {
    if (lid < k) {
      red_sum[lid] = red_sum[lid] + red_sum[lid + k];
      red_cnt[lid] = red_cnt[lid] + red_cnt[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[2u * g] = red_sum[0];
    partials[2u * g + 1u] = red_cnt[0];
  }
}

@compute @workgroup_size(64, 1, 1)
fn accumulate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let q = wg_linear(wid, nwg) * 64u + lid;
  if (q >= P.rw * P.rh) { return; }
  let t = region_pixel(q);
  let o = u32(t.z);
  if (claimed[o] == C.stamp) { return; }
  let s = warp_sample(t.x, t.y);
  if (!s.ok) { return; }
  claimed[o] = C.stamp;
  let w = C.weight;
  set_af(o, 5u, af(o, 5u) + w);
  if ((s.msk & C.bad_bits) != 0u || !(w > 0.0)) {
    acc[8u * o + 6u] = 1u;
    if ((s.msk & C.thr_bits) != 0u) { set_af(o, 7u, af(o, 7u) + w); }
    return;
  }
  set_af(o, 0u, af(o, 0u) + w * s.img);
  set_af(o, 1u, af(o, 1u) + w);
  set_af(o, 2u, af(o, 2u) + (w * w) * s.vr);
  acc[8u * o + 3u] = acc[8u * o + 3u] | s.msk;
  acc[8u * o + 4u] = acc[8u * o + 4u] + 1u;
}

@compute @workgroup_size(64, 1, 1)
fn finalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let o = wg_linear(wid, nwg) * 64u + lid;
  if (o >= C.npix) { return; }
  var extra = 0u;
  if (acc[8u * o + 6u] != 0u) { extra = C.rejected_bits; }
  let cov_w = af(o, 5u);
  if (C.thr_bits != 0u && cov_w > 0.0 && af(o, 7u) / cov_w > C.thr) { extra = extra | C.thr_bits; }
  let n = acc[8u * o + 4u];
  coverage[o] = n;
  if (n == 0u) {
    out_img[o] = nan_f32();
    out_var[o] = inf_f32();
    out_msk[o] = C.nodata_bits | extra;
    return;
  }
  let sw = af(o, 1u);
  out_img[o] = af(o, 0u) / sw;
  out_var[o] = af(o, 2u) / (sw * sw);
  out_msk[o] = acc[8u * o + 3u] | extra;
}
