// detect: threshold, connected components by union-find with atomicMin (Playne & Hawick
// 2018: roots are the lowest pixel index of their component, whatever the scheduling),
// peaks, and growth by a Euclidean disc. One invocation per pixel, 256 per workgroup.
// Semantics and the float32 threshold test: src/ops/detect/spec.ts and cpu-kernel.ts.

struct Params {
  width: u32,
  height: u32,
  npix: u32,
  min_pixels: u32,
  radius: u32,
  max_peaks: u32,
  sign: f32,
  thr: f32,
}

const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> vr: array<f32>;
// Union-find labels of the set being labelled (threshold set, then grown set).
@group(0) @binding(3) var<storage, read_write> labels: array<atomic<u32>>;
// Component sizes, indexed by root.
@group(0) @binding(4) var<storage, read_write> sizes: array<atomic<u32>>;
// Vertical distance to the nearest kept pixel (capped at radius + 1).
@group(0) @binding(5) var<storage, read_write> gdist: array<u32>;
// peaks[0]: count; then pixel indices.
@group(0) @binding(6) var<storage, read_write> peaks: array<atomic<u32>>;
// Initial labels of the grown set.
@group(0) @binding(7) var<storage, read_write> grown: array<u32>;

fn pixel_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return wg_linear(wid, nwg) * 256u + lid;
}

fn above(p: u32) -> bool {
  let v = P.sign * img[p];
  let s = vr[p];
  return is_finite_bits(v) && is_finite_bits(s) && s > 0.0 && v >= P.thr * sqrt(s);
}

fn find_root(x0: u32) -> u32 {
  var x = x0;
  loop {
    let p = atomicLoad(&labels[x]);
    if (p == x) { return x; }
    x = p;
  }
}

fn unite(a0: u32, b0: u32) {
  var a = a0;
  var b = b0;
  loop {
    a = find_root(a);
    b = find_root(b);
    if (a == b) { return; }
    if (a < b) {
      let old = atomicMin(&labels[b], a);
      if (old == b) { return; }
      b = old;
    } else {
      let old = atomicMin(&labels[a], b);
      if (old == a) { return; }
      a = old;
    }
  }
}

@compute @workgroup_size(256, 1, 1)
fn init_threshold(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  var l = NONE;
  if (above(p)) { l = p; }
  atomicStore(&labels[p], l);
}

@compute @workgroup_size(256, 1, 1)
fn unite_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  if (atomicLoad(&labels[p]) == NONE) { return; }
  let y = p / P.width;
  let x = p - y * P.width;
  if (x > 0u && atomicLoad(&labels[p - 1u]) != NONE) { unite(p, p - 1u); }
  if (y > 0u) {
    let up = p - P.width;
    if (x > 0u && atomicLoad(&labels[up - 1u]) != NONE) { unite(p, up - 1u); }
    if (atomicLoad(&labels[up]) != NONE) { unite(p, up); }
    if (x + 1u < P.width && atomicLoad(&labels[up + 1u]) != NONE) { unite(p, up + 1u); }
  }
}

@compute @workgroup_size(256, 1, 1)
fn flatten_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  if (atomicLoad(&labels[p]) == NONE) { return; }
  atomicStore(&labels[p], find_root(p));
}

@compute @workgroup_size(256, 1, 1)
fn size_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  let l = atomicLoad(&labels[p]);
  if (l != NONE) { atomicAdd(&sizes[l], 1u); }
}

fn kept(q: u32) -> bool {
  let l = atomicLoad(&labels[q]);
  return l != NONE && atomicLoad(&sizes[l]) >= P.min_pixels;
}

@compute @workgroup_size(256, 1, 1)
fn peaks_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  if (!kept(p)) { return; }
  let y = p / P.width;
  let x = p - y * P.width;
  let vp = P.sign * img[p];
  for (var dy = -1; dy <= 1; dy++) {
    let yy = i32(y) + dy;
    if (yy < 0 || yy >= i32(P.height)) { continue; }
    for (var dx = -1; dx <= 1; dx++) {
      let xx = i32(x) + dx;
      if ((dx == 0 && dy == 0) || xx < 0 || xx >= i32(P.width)) { continue; }
      let q = u32(yy) * P.width + u32(xx);
      if (!above(q)) { continue; }
      let vq = P.sign * img[q];
      if (vq > vp || (vq == vp && q < p)) { return; }
    }
  }
  let slot = atomicAdd(&peaks[0], 1u);
  if (slot < P.max_peaks) { atomicStore(&peaks[1u + slot], p); }
}

@compute @workgroup_size(256, 1, 1)
fn grow_v(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  let y = p / P.width;
  let x = p - y * P.width;
  let r = P.radius;
  var g = r + 1u;
  for (var d = 0u; d <= r; d++) {
    if ((y >= d && kept((y - d) * P.width + x)) ||
        (y + d < P.height && kept((y + d) * P.width + x))) {
      g = d;
      break;
    }
  }
  gdist[p] = g;
}

@compute @workgroup_size(256, 1, 1)
fn grow_h(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let p = pixel_index(wid, nwg, lid);
  if (p >= P.npix) { return; }
  let y = p / P.width;
  let x = i32(p - y * P.width);
  let r = i32(P.radius);
  var hit = false;
  for (var dx = -r; dx <= r; dx++) {
    let xx = x + dx;
    if (xx < 0 || xx >= i32(P.width)) { continue; }
    let g = i32(gdist[y * P.width + u32(xx)]);
    if (g <= r && dx * dx + g * g <= r * r) {
      hit = true;
      break;
    }
  }
  var l = NONE;
  if (hit) { l = p; }
  grown[p] = l;
}
