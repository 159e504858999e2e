// gpu-drp shared WGSL prelude, prepended to every op shader.
//
// Non-finite tests use the bit pattern, not x != x: WGSL lets compilers assume that
// NaN and infinities do not occur in arithmetic, so comparisons cannot be trusted.

const F32_EXP_MASK: u32 = 0x7f800000u;

// True when x is neither NaN nor +-Inf.
fn is_finite_bits(x: f32) -> bool {
  return (bitcast<u32>(x) & F32_EXP_MASK) != F32_EXP_MASK;
}

// A quiet NaN. Built from a runtime value: a NaN may not appear in a const-expression.
fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// +Inf, built at run time for the same reason.
fn inf_f32() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

// Linear workgroup index of a dispatch folded into (x, y, z) to fit
// maxComputeWorkgroupsPerDimension; the host folds n groups with foldWorkgroups(n).
fn wg_linear(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + nwg.x * (wid.y + nwg.y * wid.z);
}
