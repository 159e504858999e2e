// fill: set `count` 32-bit words of a buffer, from word `offset`, to one bit pattern
// (device-side initialization of planes: NaN images, +Inf variances, NO_DATA masks).

struct Params {
  value: u32,
  offset: u32,
  count: u32,
  _p: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> words: array<u32>;

@compute @workgroup_size(64, 1, 1)
fn fill_u32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * 64u + lid;
  if (i < P.count) { words[P.offset + i] = P.value; }
}
