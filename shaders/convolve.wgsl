// convolve: separable (conv_h then conv_v), general 2-D (conv_2d) and the border
// (edge). Semantics are those of src/ops/convolve/spec.ts; taps are flipped on the host
// so out(x) = sum_i f[i] * in(x - r + i). Every pass stages its input tile, halo
// included, in workgroup memory, then sums the non-zero taps in kernel order.
//
// Buffers hold one band of rows of the image: the band's input rows (with the kernel's
// halo) and the band's output rows; `P` says where they sit in the full image.

struct Params {
  width: u32,        // image columns
  band_rows: u32,    // rows present in the input buffers
  rx: u32,           // kernel half-width (columns)
  ry: u32,           // kernel half-height (rows)
  kw: u32,           // taps along x (2-D: table width)
  kh: u32,           // taps along y
  out_first: u32,    // first output row, as a row of the input buffers
  out_rows: u32,     // output rows in this band
  band_y0: u32,      // image row of the input buffers' row 0
  height: u32,       // image rows
  copy_edge: u32,    // 1: copy input at the border; 0: NaN / +Inf
  edge_bits: u32,    // mask bits for border pixels
  nodata_bits: u32,  // mask bits for non-finite sums
  groups_x: u32,     // workgroups along the tiled axis (x)
  total_groups: u32, // workgroups in the (folded) dispatch that carry work
  zero_nonfinite: u32, // 1: a non-finite source image or variance counts as 0 in both (conv_h, conv_2d)
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src_img: array<f32>;
@group(0) @binding(2) var<storage, read> src_var: array<f32>;
@group(0) @binding(3) var<storage, read> src_msk: array<u32>;
// Separable: fx (kw taps) then fx^2, fy (kh taps), fy^2. 2-D: f (kw*kh) then f^2.
@group(0) @binding(4) var<storage, read> taps: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst_img: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> dst_msk: array<u32>;

// Row segment (conv_h), column strip (conv_v) or tile (conv_2d) with its halo.
override WG_X: u32 = 64u;
override WG_Y: u32 = 1u;
override TILE_N: u32 = 64u;
var<workgroup> s_img: array<f32, TILE_N>;
var<workgroup> s_var: array<f32, TILE_N>;
var<workgroup> s_msk: array<u32, TILE_N>;

// Stage source pixel i in tile slot k; with zero_nonfinite, a pixel whose image or
// variance is not finite enters as 0 in both (as detection's smoothing wants it).
fn stage(k: u32, i: u32) {
  var a = src_img[i];
  var v = src_var[i];
  if (P.zero_nonfinite != 0u && !(is_finite_bits(a) && is_finite_bits(v))) {
    a = 0.0;
    v = 0.0;
  }
  s_img[k] = a;
  s_var[k] = v;
}

fn finish(o: u32, si: f32, sv: f32, m: u32) {
  if (is_finite_bits(si) && is_finite_bits(sv)) {
    dst_img[o] = si;
    dst_var[o] = sv;
    dst_msk[o] = m;
  } else {
    dst_img[o] = nan_f32();
    dst_var[o] = inf_f32();
    dst_msk[o] = m | P.nodata_bits;
  }
}

// Horizontal pass over every input row of the band, interior columns [rx, W - rx).
// Workgroup = WG_X output pixels of one row; TILE_N = WG_X + 2 rx.
@compute @workgroup_size(WG_X, 1, 1)
fn conv_h(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let g = wg_linear(wid, nwg);
  if (g >= P.total_groups) { return; }
  let row = g / P.groups_x;
  let x0 = (g % P.groups_x) * WG_X;            // first interior column - rx
  let n_in = P.width - 2u * P.rx;
  let base = row * P.width;
  let span = WG_X + 2u * P.rx;
  for (var k = lid; k < span; k += WG_X) {
    let x = x0 + k;
    if (x < P.width) {
      stage(k, base + x);
      s_msk[k] = src_msk[base + x];
    }
  }
  workgroupBarrier();
  let xi = x0 + lid;
  if (xi >= n_in) { return; }
  var si = 0.0;
  var sv = 0.0;
  var m = 0u;
  for (var i = 0u; i < P.kw; i++) {
    let w = taps[i];
    if (w != 0.0) {
      si = si + w * s_img[lid + i];
      sv = sv + taps[P.kw + i] * s_var[lid + i];
      m = m | s_msk[lid + i];
    }
  }
  let o = base + xi + P.rx;
  dst_img[o] = si;
  dst_var[o] = sv;
  dst_msk[o] = m;
}

// Vertical pass: output rows of the band inside [ry, H - ry), interior columns.
// Workgroup = WG_X x WG_Y outputs; TILE_N = WG_X * (WG_Y + 2 ry).
@compute @workgroup_size(WG_X, WG_Y, 1)
fn conv_v(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid3: vec3<u32>) {
  let g = wg_linear(wid, nwg);
  if (g >= P.total_groups) { return; }
  let n_in = P.width - 2u * P.rx;
  let x0 = (g % P.groups_x) * WG_X;
  let r0 = (g / P.groups_x) * WG_Y;            // first output row of the tile, in out rows
  let span = WG_Y + 2u * P.ry;
  let lid = lid3.y * WG_X + lid3.x;
  // Input row of tile row t: out_first + r0 + t - ry (always inside the band).
  for (var k = lid; k < span * WG_X; k += WG_X * WG_Y) {
    let t = k / WG_X;
    let x = x0 + (k % WG_X);
    let r = P.out_first + r0 + t;
    if (x < n_in && r >= P.ry && r - P.ry < P.band_rows) {
      let s = (r - P.ry) * P.width + x + P.rx;
      s_img[k] = src_img[s];
      s_var[k] = src_var[s];
      s_msk[k] = src_msk[s];
    }
  }
  workgroupBarrier();
  let xi = x0 + lid3.x;
  let ro = r0 + lid3.y;
  if (xi >= n_in || ro >= P.out_rows) { return; }
  let y = P.band_y0 + P.out_first + ro;        // image row
  if (y < P.ry || y + P.ry >= P.height) { return; }
  var si = 0.0;
  var sv = 0.0;
  var m = 0u;
  let fy = 2u * P.kw;
  for (var j = 0u; j < P.kh; j++) {
    let w = taps[fy + j];
    if (w != 0.0) {
      let s = (lid3.y + j) * WG_X + lid3.x;
      si = si + w * s_img[s];
      sv = sv + taps[fy + P.kh + j] * s_var[s];
      m = m | s_msk[s];
    }
  }
  finish(ro * P.width + xi + P.rx, si, sv, m);
}

// General 2-D kernel. Workgroup = WG_X x WG_Y outputs;
// TILE_N = (WG_X + 2 rx) * (WG_Y + 2 ry).
@compute @workgroup_size(WG_X, WG_Y, 1)
fn conv_2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid3: vec3<u32>) {
  let g = wg_linear(wid, nwg);
  if (g >= P.total_groups) { return; }
  let n_in = P.width - 2u * P.rx;
  let x0 = (g % P.groups_x) * WG_X;            // tile's first column - rx (image column)
  let r0 = (g / P.groups_x) * WG_Y;
  let tw = WG_X + 2u * P.rx;
  let th = WG_Y + 2u * P.ry;
  let lid = lid3.y * WG_X + lid3.x;
  for (var k = lid; k < tw * th; k += WG_X * WG_Y) {
    let t = k / tw;
    let x = x0 + (k % tw);
    let r = P.out_first + r0 + t;              // input row + ry
    if (x < P.width && r >= P.ry && r - P.ry < P.band_rows) {
      let s = (r - P.ry) * P.width + x;
      stage(k, s);
      s_msk[k] = src_msk[s];
    }
  }
  workgroupBarrier();
  let xi = x0 + lid3.x;
  let ro = r0 + lid3.y;
  if (xi >= n_in || ro >= P.out_rows) { return; }
  let y = P.band_y0 + P.out_first + ro;
  if (y < P.ry || y + P.ry >= P.height) { return; }
  var si = 0.0;
  var sv = 0.0;
  var m = 0u;
  let n = P.kw * P.kh;
  for (var j = 0u; j < P.kh; j++) {
    for (var i = 0u; i < P.kw; i++) {
      let w = taps[j * P.kw + i];
      if (w != 0.0) {
        let s = (lid3.y + j) * tw + lid3.x + i;
        si = si + w * s_img[s];
        sv = sv + taps[n + j * P.kw + i] * s_var[s];
        m = m | s_msk[s];
      }
    }
  }
  finish(ro * P.width + xi + P.rx, si, sv, m);
}

// The border the kernel cannot reach, over the band's output rows.
@compute @workgroup_size(64, 1, 1)
fn edge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wg_linear(wid, nwg);
  let k = g * 64u + lid;
  if (k >= P.out_rows * P.width) { return; }
  let x = k % P.width;
  let ro = k / P.width;
  let y = P.band_y0 + P.out_first + ro;
  let interior = x >= P.rx && x + P.rx < P.width && y >= P.ry && y + P.ry < P.height;
  if (interior) { return; }
  let s = (P.out_first + ro) * P.width + x;
  if (P.copy_edge != 0u) {
    dst_img[k] = src_img[s];
    dst_var[k] = src_var[s];
    dst_msk[k] = src_msk[s] | P.edge_bits;
  } else {
    dst_img[k] = nan_f32();
    dst_var[k] = inf_f32();
    dst_msk[k] = P.edge_bits;
  }
}
