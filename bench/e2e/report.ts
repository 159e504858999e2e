/** The markdown report of an end-to-end benchmark record (side by side, with the ratio). */
import { APERTURE_RADIUS } from './accuracy.ts';
import { PEER_BAD_PLANES } from './peers.ts';
import type { E2eRecord, WallStats } from './run.ts';

const sec = (ms: number) => (ms / 1000).toFixed(2);
const wall = (w: WallStats) =>
  w.all.length > 1 ? `${sec(w.median)} s (${sec(w.min)}–${sec(w.max)})` : `${sec(w.median)} s`;
const pct = (f: number) => (Number.isFinite(f) ? `${(100 * f).toFixed(1)}%` : '–');
const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

/** Markdown: the settings, the side-by-side table, the ratio, accuracy and how it was measured. */
export function renderE2eReport(r: E2eRecord): string {
  const e = r.e2e;
  const p = e.peers;
  const a = e.accuracy;
  const ours = a.ours;
  const peer = a.peers;
  const backend =
    r.backend === 'webgpu'
      ? `webgpu (${r.adapter?.vendor ?? '?'} ${r.adapter?.device ?? ''}${r.adapter?.isSoftware ? ', software' : ''})`
      : `cpu backend, ${e.settings.threads} threads`;
  const L: string[] = [];
  L.push(`# gpu-bench e2e: ${e.preset} simulation, ${e.grid.width} x ${e.grid.height} grid`);
  L.push('');
  L.push(
    `${r.date.slice(0, 19)}Z, git ${r.git_rev}, ${r.host} (${r.cpu_model}), Node ${r.node}. ` +
      `Load average (1, 5, 15 min) before the timed runs: ${e.loadAverage.before.map((v) => v.toFixed(2)).join(', ')}; ` +
      `after: ${e.loadAverage.after.map((v) => v.toFixed(2)).join(', ')}. ` +
      'On a shared machine these timings are indicative, not final.',
  );
  L.push('');
  L.push(
    `Data: the simulator's \`${e.preset}\` preset (seed ${e.seed}): ${e.inputs.calexps} calexps ` +
      `(${e.inputs.visits} visits, CCDs of ${e.inputs.ccdWidth} x ${e.inputs.ccdHeight}, ` +
      `${(e.inputs.pixels / 1e6).toFixed(1)} Mpix, ${e.inputs.compressed ? 'GZIP_2 tile-compressed' : 'uncompressed'}) ` +
      `onto a ${e.grid.width} x ${e.grid.height} grid (tract ${e.grid.tract} pixels from (${e.grid.tractMinX}, ${e.grid.tractMinY})` +
      `${e.grid.patches.length ? `, the inner boxes of patches ${e.grid.patches.join(' ')}` : ''}); ` +
      "the same `.head` file is gpu-coadd's `--grid` and SWarp's output header.",
  );
  L.push('');
  L.push(
    `## Wall time (spawn to exit${e.settings.repeat > 1 ? `, median of ${e.settings.repeat} runs in alternating order, min–max` : ', one run each'})`,
  );
  L.push('');
  L.push(`| | gpu-coadd (${backend}) | SWarp + Source Extractor (${e.settings.threads} threads) |`);
  L.push('|---|---|---|');
  const stages = Object.entries(e.ours.stageMs)
    .map(([k, v]) => `${k} ${sec(v)}`)
    .join(', ');
  if (p.ran && p.totalMs && p.swarp && p.sextractor) {
    L.push(`| **wall time** | **${wall(e.ours.wallMs)}** | **${wall(p.totalMs)}** |`);
    L.push(
      `| where the time went (s) | ${stages}; outside the stages (start-up, input scan, plan) ${sec(e.ours.otherMs)} | SWarp (resample + CLIPPED combine) ${wall(p.swarp.wallMs)}; Source Extractor (detect + measure) ${wall(p.sextractor.wallMs)} |`,
    );
    L.push(`| sources in the catalog | ${e.ours.sources} | ${p.sextractor.sources} |`);
    L.push(`| tool | ${e.ours.tool} | ${p.swarp.version}; ${p.sextractor.version} |`);
  } else {
    L.push(`| **wall time** | **${wall(e.ours.wallMs)}** | not run: ${p.skippedReason ?? '?'} |`);
    L.push(
      `| where the time went (s) | ${stages}; outside the stages ${sec(e.ours.otherMs)} | – |`,
    );
    L.push(`| sources in the catalog | ${e.ours.sources} | – |`);
  }
  L.push('');
  if (e.ratio !== null) {
    const verdict =
      e.ratio >= 1
        ? `gpu-coadd is ${e.ratio.toFixed(2)}x faster`
        : `gpu-coadd is ${(1 / e.ratio).toFixed(2)}x slower (takes ${pct(1 / e.ratio - 1)} more wall time)`;
    L.push(
      `**Ratio (SWarp + Source Extractor wall) / (gpu-coadd wall) = ${e.ratio.toFixed(2)}**: ${verdict}.`,
    );
  } else {
    L.push(`No ratio: the peers did not run (${p.skippedReason ?? '?'}).`);
  }
  L.push('');
  L.push(
    `## Accuracy against truth (same code for both; ${a.regionPixels} grid pixels covered by ${peer ? 'both coadds' : 'the coadd'}, ${a.edgeMarginPixels} px from the edges; match radius ${a.matchRadiusArcsec} arcsec)`,
  );
  L.push('');
  L.push('| | gpu-coadd | SWarp + Source Extractor |');
  L.push('|---|---|---|');
  const both = (f: (s: NonNullable<typeof peer>) => string) =>
    `${f(ours)} | ${peer ? f(peer) : '–'}`;
  L.push(`| detections in the region | ${both((s) => String(s.detections))} |`);
  L.push(
    `| completeness, bright sources (point-source S/N >= ${a.brightSnr} on our coadd: >= ${a.brightFluxNjy.toFixed(0)} nJy, ${ours.brightTruth} truth sources) | ${both((s) => pct(s.brightCompleteness))} |`,
  );
  L.push(
    `| false detections (no truth source of any flux within the radius) | ${both((s) => pct(s.falseFraction))} |`,
  );
  L.push(
    `| flux / true flux, bright stars: median (robust sigma) [n] | ${both((s) => `${num(s.fluxRatioMedian, 4)} (${num(s.fluxRatioScatter, 4)}) [${s.brightStarsMatched}]`)} |`,
  );
  L.push(
    `| aperture flux (radius ${APERTURE_RADIUS} px) / true flux, bright stars: median (robust sigma) | ${both((s) => `${num(s.apFluxRatioMedian, 4)} (${num(s.apFluxRatioScatter, 4)})`)} |`,
  );
  L.push(
    `| astrometric offset of bright stars, RMS (median), arcsec | ${both((s) => `${num(s.astrometricRmsArcsec, 4)} (${num(s.astrometricMedianArcsec, 4)})`)} |`,
  );
  L.push('');
  L.push(
    `Fluxes: gpu-coadd \`psf_flux\` (a linear fit of the coadd's PSF model: the inputs' PSF kernel images resampled to the grid and averaged with the stack weights, when the coadd has one) and \`ap_flux_${APERTURE_RADIUS}\` (nJy); Source Extractor \`FLUX_AUTO\` and \`FLUX_APER\` of diameter ${2 * APERTURE_RADIUS} px (image units, which are nJy: SWarp kept the calexps' nJy with flux scale 1, so the conversion factor is 1).`,
  );
  L.push('');
  L.push('Completeness by AB magnitude (truth sources in the region; matched fraction):');
  L.push('');
  L.push('| mag | truth | gpu-coadd | SWarp + Source Extractor |');
  L.push('|---|---|---|---|');
  ours.bins.forEach((b, k) => {
    if (b.truth === 0) return;
    const pb = peer?.bins[k];
    L.push(
      `| ${b.magLo.toFixed(1)}–${b.magHi.toFixed(1)} | ${b.truth} | ${pct(b.matched / b.truth)} | ${pb ? pct(pb.matched / pb.truth) : '–'} |`,
    );
  });
  L.push('');
  if (a.coaddDiff) {
    const d = a.coaddDiff;
    L.push(
      `Coadd images (gpu-coadd minus SWarp on ${d.pixels} common pixels, in units of our per-pixel noise ${a.coaddNoiseNjy.toFixed(2)} nJy): ` +
        `median |diff| ${num(d.medianAbsOverNoise, 3)} sigma, median diff ${num(d.medianOverNoise, 3)} sigma, 95th percentile |diff| ${num(d.p95AbsOverNoise, 3)} sigma.`,
    );
    L.push('');
  }
  L.push('## How it was measured');
  L.push('');
  L.push(
    '- Each tool is a child process timed from spawn to exit, on the same data in the same run' +
      (e.settings.repeat > 1 ? ', alternating which side runs first.' : ' (gpu-coadd first).'),
  );
  L.push(
    `- Page cache: before timing, every input file and gpu-coadd's build were read once (${e.warmup.files} files, ${(e.warmup.bytes / 2 ** 20).toFixed(0)} MiB) and each tool was started once.`,
  );
  if (p.ran) {
    L.push(
      `- SWarp reads all image HDUs of an MEF as separate images, so each calexp was converted once into a single-HDU image and a weight map (inverse variance, 0 where ${PEER_BAD_PLANES.join('/')} or the variance is not finite), with the SIP distortion rewritten as TPV terms (SWarp does not read SIP; largest position error of the rewrite ${p.tpvMaxErrorPixels.toExponential(1)} px). ` +
        `That conversion (${p.conversionReused ? 'reused from the data cache' : `${sec(p.conversionMs)} s`}) is not charged to SWarp.` +
        (e.inputs.compressed
          ? ' The calexps are GZIP_2 tile-compressed and gpu-coadd decompresses them inside its timed run; the SWarp inputs are uncompressed.'
          : ''),
    );
    L.push(
      '- SWarp: LANCZOS3, OVERSAMPLING 1, COMBINE_TYPE CLIPPED (its defaults CLIP_SIGMA 4, CLIP_AMPFRAC 0.3), MAP_WEIGHT inverse-variance weights per pixel, SUBTRACT_BACK N, flux scale 1, FSCALASTRO_TYPE NONE, resampled images in a scratch directory on disk (its normal way). gpu-coadd: MEANCLIP (3 sigma, 2 iterations) with one weight per warp (1 / mean variance), Lanczos3, per-pixel area factor.',
    );
    L.push(
      `- Source Extractor on SWarp's coadd and weight map: Gaussian filter of the coadd PSF sigma ${e.settings.psfSigma.toFixed(3)} px (gpu-coadd's: the mean of the inputs'), DETECT_THRESH ${p.sextractor ? p.sextractor.detectThresh.toFixed(4) : '?'} = ${e.settings.threshold} x sqrt(sum k^2) / sum k. ${
        e.ours.noiseRatio === null
          ? `gpu-coadd thresholds the PSF-smoothed image at ${e.settings.threshold} sigma of the smoothed noise (from the variance plane); Source Extractor compares the filtered image with the RMS of the unfiltered background, and for white noise the smoothed RMS is sqrt(sum k^2) / sum k of it, so the two thresholds cut at the same S/N.`
          : `gpu-coadd thresholds the PSF-smoothed image at ${e.settings.threshold} sigma of the smoothed noise measured on the coadd: the variance plane's prediction times ${e.ours.noiseRatio.toFixed(4)}, because warping correlates the noise. Source Extractor compares the filtered image with the RMS of the unfiltered background, and for white noise the smoothed RMS is sqrt(sum k^2) / sum k of it; if SWarp's Lanczos3 coadd has noise correlated as ours, its cut is about ${e.ours.noiseRatio.toFixed(2)} times lower in true S/N than ours (${(e.settings.threshold / e.ours.noiseRatio).toFixed(2)} sigma; not measured here).`
      } DETECT_MINAREA 1, CLEAN N, BACK_TYPE MANUAL 0 (the calexps are background-subtracted and gpu-coadd subtracts none), apertures of radius 3, 6, 9, 12 px.`,
    );
  }
  L.push(
    `- Accuracy: truth sources (truth/sources.csv) in the region are matched one-to-one to detections, brightest first, nearest unmatched detection within ${a.matchRadiusArcsec} arcsec. Bright: flux >= ${a.brightSnr} x the point-source noise of our coadd (median per-pixel sigma x sqrt(4 pi) x PSF sigma). Flux ratios and astrometry use bright stars only (gpu-coadd's PSF flux is not a galaxy's total flux); the robust sigma is 1.4826 x MAD.`,
  );
  L.push('');
  L.push('## Commands');
  L.push('');
  L.push('```');
  L.push(e.ours.command.join(' '));
  if (p.swarp) L.push(p.swarp.command.join(' '));
  if (p.sextractor) L.push(p.sextractor.command.join(' '));
  L.push('```');
  L.push('');
  return `${L.join('\n')}\n`;
}
