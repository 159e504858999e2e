/**
 * The sizing report in Markdown: summary, inputs with sources, throughputs with
 * provenance, work per release, device time per step, devices per facility for the DR
 * campaign and for nightly keep-up, the LSST comparison, the chart, and the assumptions
 * and caveats. Software adapters are shown only as such (never as GPU performance) and
 * are left out of the facility tables. Output is deterministic for a given result.
 */
import { devicesText, grouped, num, si } from './format.ts';
import type { Campaign, DeviceTime, FacilityRow, SizingResult, Step } from './model.ts';
import type { DeviceThroughput, ThroughputSet } from './throughputs.ts';

/** Options of {@link renderMarkdown}. */
export interface ReportOptions {
  /** File name of the chart next to the report (linked as an image); null = no chart. */
  readonly svgFile: string | null;
  /** Where the records came from, as the user named it (e.g. "bench/results"). */
  readonly resultsDir: string;
  /** The throughput set (for the file lists). */
  readonly throughputs: ThroughputSet;
  /** Survey and profile files used, as named on the command line. */
  readonly surveyFile: string | null;
  readonly profileFile: string | null;
}

const STEP_NAMES: Record<Step, string> = {
  warp: 'warp',
  stack: 'stack',
  detect: 'detect+measure',
  accumulate: 'accumulate',
  io: 'I/O',
};

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  align?: string,
): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r')).join('');
  const sep = head.map((_, i) => (a[i] === 'l' ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function kindText(d: DeviceThroughput): string {
  const k =
    d.kind === 'cpu-core' ? 'CPU core' : d.kind === 'gpu' ? 'GPU' : 'software adapter (not a GPU)';
  return d.origin === 'projection' ? `${k}, projection` : `${k}, measured`;
}

/** A device's label with its projection mark, for tables. */
function labelOf(d: DeviceThroughput): string {
  return d.origin === 'projection' ? `${d.label} *(projection)*` : d.label;
}

function sized(result: SizingResult): Campaign {
  return result.releases.find((c) => c.work.name === result.sizedRelease)!;
}

/** Devices sized in facility tables and summaries: everything but software adapters. */
function realDevices(result: SizingResult): DeviceThroughput[] {
  return result.devices.filter((d) => d.kind !== 'software-gpu');
}

function timeOf(c: Campaign, id: string): DeviceTime {
  return c.perDevice.find((d) => d.deviceId === id)!;
}

function unitOf(d: DeviceThroughput): string {
  return d.kind === 'cpu-core' ? 'cores' : d.kind === 'gpu' ? 'GPUs' : 'instances';
}

function facilityTable(result: SizingResult, rows: readonly FacilityRow[], c: Campaign): string {
  const devs = realDevices(result);
  const head = [
    'facility',
    'share',
    ...devs.map((d) => `${labelOf(d)} (${unitOf(d)})`),
    'LSST baseline (cores)',
  ];
  const body = rows.map((r) => [
    r.name,
    `${num(r.sharePercent)}%`,
    ...devs.map((d) => {
      const x = r.devices.find((y) => y.deviceId === d.id)!;
      return `${devicesText(x.whole, timeOf(c, d.id).missing.length > 0)} (${num(x.exact)})`;
    }),
    `${grouped(r.lsstCores.whole)} (${num(r.lsstCores.exact)})`,
  ]);
  const total = [
    '**total**',
    '100%',
    ...devs.map((d) => {
      const t = timeOf(c, d.id);
      return `${devicesText(
        rows.reduce((s, r) => s + r.devices.find((y) => y.deviceId === d.id)!.whole, 0),
        t.missing.length > 0,
      )} (${num(t.devices)})`;
    }),
    `${grouped(rows.reduce((s, r) => s + r.lsstCores.whole, 0))} (${num(c.lsst.cores)})`,
  ];
  return table(head, [...body, total]);
}

function inputsSection(result: SizingResult): string {
  const i = result.inputs;
  const g = result.geometry;
  const s = i.survey;
  const m = i.skymap;
  const rows: string[][] = [
    ['visits per night', num(s.visitsPerNight), 'DMTN-135 survey model (lsst.md §5)'],
    ['nights per year', num(s.nightsPerYear), 'DMTN-135 (lsst.md §5)'],
    [
      'visits per year',
      grouped(g.visitsPerYear),
      s.visitsPerYear === null ? 'visits per night x nights per year' : 'given',
    ],
    ['CCDs per visit', num(s.ccdsPerVisit), 'LSSTCam science CCDs (lsst.md §5)'],
    ['CCD size', `${s.ccdWidthPx} x ${s.ccdHeightPx} px`, 'ITL imaging area (lsst.md §5)'],
    ['bytes per pixel', num(s.bytesPerPixel), 'image f32 + mask i32 + variance f32 (lsst.md §5)'],
    [
      'band weights',
      Object.entries(s.bandWeights)
        .map(([b, w]) => `${b} ${num(w)}`)
        .join(', '),
      'SRD 10-year visits per band (lsst.md §5)',
    ],
    [
      'skymap',
      `${grouped(m.tracts)} tracts x ${m.patchesPerTract} patches; patch ${m.patchInnerPx} px inner, ${g.patchOuterPx} px outer`,
      'lsst_cells_v1 (lsst.md §4); tracts = 7.4M DR1 patch-bands / 6 bands / 81 (RTN-109, lsst.md §5)',
    ],
    [
      'sky overlap factor',
      String(m.skyOverlapFactor),
      `calibration: RTN-109 DR1 569 warps per visit / ${num(g.geometricWarpsPerVisit)} geometric`,
    ],
    [
      'releases',
      i.releases.map((r) => `${r.name} ${num(r.years)} yr`).join(', '),
      'DR1 on half a year, then yearly (the issue’s DR1..DR11; assumption)',
    ],
    [
      'facility shares',
      i.facilities
        .map(
          (f) =>
            `${f.name} ${num(f.sharePercent)}%${f.nightlySharePercent === null ? '' : ` (nightly ${num(f.nightlySharePercent)}%)`}`,
        )
        .join(', '),
      'the issue’s example (assumption)',
    ],
    ['DR campaign for these steps', `${num(i.schedule.campaignDays)} days`, 'assumption'],
    ['nightly window', `${num(i.schedule.nightlyWindowHours)} h`, 'assumption'],
    ['utilisation', `${num(i.schedule.utilisation * 100)}%`, 'assumption'],
    [
      'processing',
      `warp ${i.processing.warpKernel}; stack ${i.processing.stackStatistic}; input ${i.processing.inputCompression}, read ${num(i.processing.inputReadsPerCcd)}x per CCD; coadds ${i.processing.writeCoadds ? 'written' : 'not written'}; nightly accumulate ${i.processing.nightlyAccumulate ? 'on' : 'off'}`,
      'LSST defaults lanczos3, MEANCLIP (lsst.md §4)',
    ],
    [
      'LSST CPU per task',
      `warp ${num(i.lsst.warpCpuS)} s, stack ${num(i.lsst.stackCpuS)} s${i.lsst.stackReferenceVisits === null ? '' : ` x N/${num(i.lsst.stackReferenceVisits)}`}${i.lsst.includeDetect ? `, detect ${num(i.lsst.detectCpuS)} s` : ''}; wall ${num(i.lsst.wallPerCpu)} x CPU`,
      'RTN-109 DP2 prediction; RTN-109/DMTN-135 wall/CPU (lsst.md §5, §6)',
    ],
  ];
  const derived = [
    ['CCD-warps per CCD (pieces)', num(g.ccdWarpsPerCcd)],
    ['warp output px per CCD', si(g.warpPixelsPerCcd, 'px')],
    ['patch-visit warps per visit', num(g.patchWarpsPerVisit)],
    ['patches in footprint', grouped(g.patches)],
    ['distinct footprint area', `${grouped(g.footprintDeg2)} deg²`],
  ];
  return [
    '## Inputs',
    '',
    table(['input', 'value', 'source'], rows, 'lll'),
    '',
    'Derived geometry (formulas in docs/sizing.md):',
    '',
    table(['quantity', 'value'], derived, 'lr'),
  ].join('\n');
}

function throughputSection(result: SizingResult): string {
  const p = result.inputs.processing;
  const rows = result.devices.map((d) => {
    const pts = d.stack[p.stackStatistic] ?? [];
    return [
      labelOf(d),
      kindText(d),
      num(d.warpMpixPerS[p.warpKernel]?.value ?? null),
      pts.length ? pts.map((q) => `${num(q.minputPerS)} @ N=${q.n}`).join('; ') : '–',
      num(d.detectMpixPerS?.value ?? null),
      num(d.ioMBPerS[p.inputCompression]?.value ?? null),
    ];
  });
  const prov: string[] = [];
  for (const d of result.devices) {
    prov.push(`- **${labelOf(d)}**`);
    const w = d.warpMpixPerS[p.warpKernel];
    if (w) prov.push(`  - warp: ${w.source}`);
    for (const q of d.stack[p.stackStatistic] ?? []) prov.push(`  - stack N=${q.n}: ${q.source}`);
    if (d.detectMpixPerS) prov.push(`  - detect: ${d.detectMpixPerS.source}`);
    const io = d.ioMBPerS[p.inputCompression];
    if (io) prov.push(`  - I/O: ${io.source}`);
    for (const n of d.notes) prov.push(`  - note: ${n}`);
  }
  return [
    '## Throughputs (per device: one CPU core or one GPU)',
    '',
    table(
      [
        'device',
        'kind',
        `warp ${p.warpKernel} (Mpix/s)`,
        `stack ${p.stackStatistic} (M input px/s)`,
        'detect+measure (Mpix/s)',
        `read ${p.inputCompression} (MB/s)`,
      ],
      rows,
      'llrrrr',
    ),
    '',
    'Where each figure comes from:',
    '',
    ...prov,
  ].join('\n');
}

function workSection(result: SizingResult): string {
  const bands = result.geometry.bands.map((b) => b.band);
  const rows = [...result.releases, result.nightly].map((c) => {
    const w = c.work;
    return [
      w.name === 'nightly' ? 'one night' : w.name,
      w.name === 'nightly' ? '–' : num(w.years),
      si(w.visits),
      si(w.ccdExposures),
      si(w.ccdWarps),
      si(w.patchVisitWarps),
      w.patchBands ? si(w.patchBands) : '–',
      w.visitsPerPatchBand.length ? w.visitsPerPatchBand.map((b) => num(b.n)).join(' / ') : '–',
      si(w.warpOutputPixels),
      w.stackInputPixels ? si(w.stackInputPixels) : '–',
      si(w.inputBytes + w.outputBytes, 'B'),
    ];
  });
  return [
    '## Work per data release',
    '',
    table(
      [
        'release',
        'years',
        'visits',
        'CCD exposures',
        'CCD-warps',
        'patch-visit warps',
        'patch-bands',
        `N per patch-band (${bands.join(' / ')})`,
        'warp output px',
        'stack input px',
        'I/O',
      ],
      rows,
    ),
  ].join('\n');
}

function deviceTimeSection(result: SizingResult): string {
  const c = sized(result);
  const steps = (t: DeviceTime) => Object.keys(t.seconds) as Step[];
  const allSteps: Step[] = ['warp', 'stack', 'detect', 'accumulate', 'io'];
  const used = (camp: Campaign) =>
    allSteps.filter((s) => camp.perDevice.some((t) => steps(t).includes(s)));
  const block = (camp: Campaign, title: string) => {
    const cols = used(camp);
    const rows = result.devices.map((d) => {
      const t = timeOf(camp, d.id);
      const lb = t.missing.length > 0;
      return [
        labelOf(d),
        ...cols.map((s) => {
          const v = t.seconds[s];
          return v === undefined ? '–' : v === null ? 'no figure' : num(v / 3600);
        }),
        `${lb ? '≥ ' : ''}${num(t.totalSeconds / 3600)}`,
        `${lb ? '≥ ' : ''}${num(t.devices)} ${unitOf(d)}`,
      ];
    });
    const l = camp.lsst;
    rows.push([
      'LSST baseline (CPU core-hours)',
      ...cols.map((s) =>
        s === 'warp' || s === 'stack' || s === 'detect' ? num(l.cpuSeconds[s] / 3600) : '–',
      ),
      num(l.coreHours),
      `${num(l.cores)} cores`,
    ]);
    return [
      `### ${title}`,
      '',
      table(
        [
          'device',
          ...cols.map((s) => `${STEP_NAMES[s]} (h)`),
          'total (device-h)',
          'devices needed',
        ],
        rows,
      ),
    ].join('\n');
  };
  const growth = [
    ...result.releases.map((r) => [
      r.work.name,
      ...realDevices(result).map((d) => {
        const t = timeOf(r, d.id);
        return `${t.missing.length ? '≥ ' : ''}${num(t.devices)}`;
      }),
      num(r.lsst.cores),
    ]),
  ];
  return [
    '## Device time and devices needed',
    '',
    `Devices needed = device-seconds / (window x utilisation); the ${result.sizedRelease} window is ${num(result.inputs.schedule.campaignDays)} days, the nightly one ${num(result.inputs.schedule.nightlyWindowHours)} h, both at ${num(result.inputs.schedule.utilisation * 100)}% utilisation.`,
    '',
    block(c, `${c.work.name} campaign`),
    '',
    block(result.nightly, 'Nightly keep-up (one night)'),
    '',
    '### Growth over the releases (devices needed in total, unrounded)',
    '',
    table(
      [
        'release',
        ...realDevices(result).map((d) => `${labelOf(d)} (${unitOf(d)})`),
        'LSST baseline (cores)',
      ],
      growth,
    ),
  ].join('\n');
}

function lsstSection(result: SizingResult): string {
  const c = sized(result);
  const l = c.lsst;
  const rows = realDevices(result).map((d) => {
    const r = result.ratios.find((x) => x.deviceId === d.id)!;
    const lb =
      timeOf(c, d.id).missing.length > 0 || timeOf(result.nightly, d.id).missing.length > 0;
    return [
      labelOf(d),
      r.release === null ? (lb ? 'incomplete' : '–') : num(r.release),
      r.nightly === null ? (lb ? 'incomplete' : '–') : num(r.nightly),
    ];
  });
  const frac = l.fractionOfWholeDr;
  return [
    '## Comparison with LSST’s CPU figures',
    '',
    `LSST baseline for ${c.work.name}: ${si(c.work.patchVisitWarps)} warps x ${num(result.inputs.lsst.warpCpuS)} s = ${si(l.cpuSeconds.warp / 3600)} core-h; ${si(c.work.patchBands)} patch-band stacks = ${si(l.cpuSeconds.stack / 3600)} core-h${result.inputs.lsst.includeDetect ? `; detection ${si(l.cpuSeconds.detect / 3600)} core-h` : ''}; total ${si(l.coreHours)} core-h, ${grouped(l.cores)} cores over the campaign (wall = ${num(result.inputs.lsst.wallPerCpu)} x CPU).${frac === null ? '' : ` That is ${num(frac * 100)}% of the whole DRP at ${num(result.inputs.lsst.wholeDrCoreHoursPerVisit)} core-h per visit (DMTN-135 DR1).`} Nightly: ${si(result.nightly.work.patchVisitWarps)} warps = ${num(result.nightly.lsst.coreHours)} core-h, ${num(result.nightly.lsst.cores)} cores.`,
    '',
    'LSST cores replaced by one device (LSST cores needed / devices needed):',
    '',
    table(['device', `${c.work.name} campaign`, 'nightly keep-up'], rows, 'lrr'),
  ].join('\n');
}

function summary(result: SizingResult): string {
  const c = sized(result);
  const lines: string[] = [];
  const fac = (rows: readonly FacilityRow[], id: string) =>
    rows
      .map((r) => `${r.name} ${grouped(r.devices.find((x) => x.deviceId === id)!.whole)}`)
      .join(', ');
  for (const d of realDevices(result)) {
    const t = timeOf(c, d.id);
    const n = timeOf(result.nightly, d.id);
    const lb = (x: DeviceTime) => (x.missing.length ? '≥ ' : '');
    lines.push(
      `- **${d.label}**${d.origin === 'projection' ? ' *(projection, not measured)*' : ''}: ${c.work.name} needs ${lb(t)}${num(t.devices)} ${unitOf(d)} (${fac(result.facilities.release, d.id)}); nightly keep-up ${lb(n)}${num(n.devices)} (${fac(result.facilities.nightly, d.id)}).`,
    );
  }
  lines.push(
    `- **LSST pipelines baseline**: ${c.work.name} needs ${grouped(c.lsst.cores)} cores (${result.facilities.release.map((r) => `${r.name} ${grouped(r.lsstCores.whole)}`).join(', ')}); nightly keep-up ${num(result.nightly.lsst.cores)} cores.`,
  );
  if (!result.devices.some((d) => d.kind === 'gpu' && d.origin === 'measured'))
    lines.push(
      '- **No GPU has been measured yet**: no figure in this report is GPU performance. See the caveats.',
    );
  return lines.join('\n');
}

/** Render the full Markdown report. */
export function renderMarkdown(result: SizingResult, o: ReportOptions): string {
  const c = sized(result);
  const files = o.throughputs.files.join(', ') || 'none';
  const ignored = o.throughputs.ignored.map((x) => `${x.file} (${x.reason})`).join('; ');
  const parts = [
    '# Facility sizing: warp + coadd + detect',
    '',
    `Generated by \`gpu-bench size\` from the benchmark records in \`${o.resultsDir}\`${o.surveyFile ? `, survey overrides \`${o.surveyFile}\`` : ''}${o.profileFile ? `, throughput profile \`${o.profileFile}\`` : ''}. Model and formulas: docs/sizing.md.`,
    '',
    `## Summary (${c.work.name}: ${num(c.work.years)} years, ${si(c.work.visits)} visits)`,
    '',
    summary(result),
    '',
    ...(o.svgFile ? [`![Devices needed per facility](${o.svgFile})`, ''] : []),
    `### Devices per facility: ${c.work.name} campaign (whole devices, unrounded in brackets)`,
    '',
    facilityTable(result, result.facilities.release, c),
    '',
    '### Devices per facility: nightly keep-up',
    '',
    facilityTable(result, result.facilities.nightly, result.nightly),
    '',
    inputsSection(result),
    '',
    throughputSection(result),
    '',
    workSection(result),
    '',
    deviceTimeSection(result),
    '',
    lsstSection(result),
    '',
    '## Assumptions and caveats',
    '',
    ...result.caveats.map((x) => `- ${x}`),
    '',
    '## Records',
    '',
    `Read: ${files}.${ignored ? ` Not used: ${ignored}.` : ''}`,
    '',
  ];
  return parts.join('\n');
}
