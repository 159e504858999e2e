// warp: one source CCD onto its region of the target box, one invocation per target
// pixel; a pixel an earlier source filled is left alone (first source wins).
// Semantics: src/ops/warp/spec.ts.

// gpu-drp:include warp-sample.wgsl

@group(0) @binding(5) var<storage, read_write> out_img: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_msk: array<u32>;
@group(0) @binding(8) var<storage, read_write> filled: atomic<u32>;

@compute @workgroup_size(64, 1, 1)
fn warp_px(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let q = wg_linear(wid, nwg) * 64u + lid;
  if (q >= P.rw * P.rh) { return; }
  let x = P.rx0 + i32(q % P.rw);
  let y = P.ry0 + i32(q / P.rw);
  let o = u32(y - P.oy0) * P.ow + u32(x - P.ox0);
  if ((out_msk[o] & P.nodata) == 0u) { return; }   // an earlier source filled it
  let s = warp_sample(x, y);
  if (!s.ok) { return; }
  out_img[o] = s.img;
  out_var[o] = s.vr;
  out_msk[o] = s.msk;
  atomicAdd(&filled, 1u);
}
