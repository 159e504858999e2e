/**
 * The sizing chart: a hand-written SVG (no dependency) with two panels, the DR campaign
 * and nightly keep-up; in each, one group of bars per facility and one bar per series
 * (every non-software device profile, then LSST's CPU baseline in cores). Bar heights
 * are the unrounded devices needed; labels are whole devices (rounded up). A panel whose
 * values span more than a factor of 50 uses a log axis. Output is deterministic.
 *
 * Every bar is `<rect class="bar" data-panel data-facility data-series data-value>`, so
 * tests and tools can read the chart back.
 */
import { grouped, num } from './format.ts';
import type { FacilityRow, SizingResult } from './model.ts';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'] as const;
const LSST_COLOUR = '#7f7f7f';

/** One series of the chart. */
export interface ChartSeries {
  /** Device id, or 'lsst' for LSST's baseline. */
  readonly id: string;
  readonly label: string;
  readonly colour: string;
}

/** XML-escape text and attribute values. */
export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The chart's series: devices that are not software adapters, then LSST. */
export function chartSeries(result: SizingResult): ChartSeries[] {
  const devs = result.devices.filter((d) => d.kind !== 'software-gpu');
  return [
    ...devs.map((d, i) => ({
      id: d.id,
      label: `${d.label}${d.kind === 'cpu-core' ? ' — cores' : ' — GPUs'}${d.origin === 'projection' ? ' [projection]' : ''}`,
      colour: PALETTE[i % PALETTE.length]!,
    })),
    {
      id: 'lsst',
      label: 'LSST pipelines baseline (RTN-109 CPU per task) — cores',
      colour: LSST_COLOUR,
    },
  ];
}

interface Bar {
  readonly facility: string;
  readonly series: ChartSeries;
  readonly exact: number;
  readonly whole: number;
  readonly lowerBound: boolean;
}

function barsOf(
  rows: readonly FacilityRow[],
  series: readonly ChartSeries[],
  lowerBound: ReadonlySet<string>,
): Bar[] {
  const out: Bar[] = [];
  for (const r of rows) {
    for (const s of series) {
      if (s.id === 'lsst') {
        out.push({
          facility: r.name,
          series: s,
          exact: r.lsstCores.exact,
          whole: r.lsstCores.whole,
          lowerBound: false,
        });
        continue;
      }
      const d = r.devices.find((x) => x.deviceId === s.id);
      out.push({
        facility: r.name,
        series: s,
        exact: d?.exact ?? 0,
        whole: d?.whole ?? 0,
        lowerBound: lowerBound.has(s.id),
      });
    }
  }
  return out;
}

interface Scale {
  readonly log: boolean;
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
  /** 0..1 from the axis bottom. */
  readonly at: (v: number) => number;
}

/** A log axis when positive values span more than 50x, else a linear one from 0. */
export function chooseScale(values: readonly number[]): Scale {
  const pos = values.filter((v) => v > 0);
  if (pos.length === 0)
    return { log: false, lo: 0, hi: 1, ticks: [0, 1], at: (v) => Math.max(0, v) };
  const min = Math.min(...pos);
  const max = Math.max(...pos);
  if (max / min > 50) {
    const a = Math.floor(Math.log10(min) - 1e-9);
    const b = Math.max(a + 1, Math.ceil(Math.log10(max) - 1e-9));
    const ticks: number[] = [];
    for (let e = a; e <= b; e++) ticks.push(10 ** e);
    return {
      log: true,
      lo: 10 ** a,
      hi: 10 ** b,
      ticks,
      // A fifth of a decade of headroom above the top tick keeps bar labels inside.
      at: (v) => (v <= 0 ? 0 : Math.min(1, Math.max(0, (Math.log10(v) - a) / (b - a + 0.2)))),
    };
  }
  const step = niceStep(max / 5);
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { log: false, lo: 0, hi, ticks, at: (v) => Math.min(1, Math.max(0, v / (hi * 1.08))) };
}

function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw));
  const f = raw / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

function tickLabel(v: number): string {
  if (v >= 1e6) return `${num(v / 1e6)}M`;
  if (v >= 1e3) return `${num(v / 1e3)}k`;
  return num(v);
}

const f1 = (x: number) => x.toFixed(1);

/** Render the chart for `result` (the DR `result.sizedRelease` and nightly keep-up). */
export function renderSvg(result: SizingResult): string {
  const series = chartSeries(result);
  const W = 1060;
  const top = 104;
  const plotH = 300;
  const legendTop = top + plotH + 70;
  const H = legendTop + series.length * 20 + 20;
  const panelW = 430;
  const left = [90, 90 + panelW + 90];
  const missingRelease = new Set(
    result.releases
      .find((c) => c.work.name === result.sizedRelease)!
      .perDevice.filter((d) => d.missing.length > 0)
      .map((d) => d.deviceId),
  );
  const missingNightly = new Set(
    result.nightly.perDevice.filter((d) => d.missing.length > 0).map((d) => d.deviceId),
  );
  const panels = [
    {
      key: 'release',
      title: `${result.sizedRelease} campaign (${num(result.inputs.schedule.campaignDays)} days)`,
      rows: result.facilities.release,
      bars: barsOf(result.facilities.release, series, missingRelease),
    },
    {
      key: 'nightly',
      title: `Nightly keep-up (${num(result.inputs.schedule.nightlyWindowHours)} h window)`,
      rows: result.facilities.nightly,
      bars: barsOf(result.facilities.nightly, series, missingNightly),
    },
  ];
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  o.push(
    `<title>Devices needed per facility: warp + coadd + detect, ${xmlEscape(result.sizedRelease)} and nightly keep-up</title>`,
  );
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Devices needed per facility — warp + coadd + detect</text>`,
  );
  o.push(
    `<text x="${W / 2}" y="44" text-anchor="middle" fill="#444444">utilisation ${num(result.inputs.schedule.utilisation * 100)}%; bars: devices needed (unrounded); labels: whole devices</text>`,
  );
  if (!result.devices.some((d) => d.kind === 'gpu' && d.origin === 'measured')) {
    o.push(
      `<text x="${W / 2}" y="62" text-anchor="middle" fill="#b22222">No GPU has been measured yet: no bar here is measured GPU performance${series.some((s) => s.label.endsWith('[projection]')) ? ' ([projection] bars are targets)' : ''}</text>`,
    );
  }
  panels.forEach((p, pi) => {
    const x0 = left[pi]!;
    const scale = chooseScale(p.bars.map((b) => b.exact));
    const y = (v: number) => top + plotH - scale.at(v) * plotH;
    o.push(`<g class="panel" data-panel="${p.key}">`);
    o.push(
      `<text x="${x0 + panelW / 2}" y="${top - 16}" text-anchor="middle" font-size="14" font-weight="bold">${xmlEscape(p.title)}</text>`,
    );
    for (const t of scale.ticks) {
      const ty = f1(y(t));
      o.push(`<line x1="${x0}" y1="${ty}" x2="${x0 + panelW}" y2="${ty}" stroke="#e0e0e0"/>`);
      o.push(
        `<text x="${x0 - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
      );
    }
    o.push(`<line x1="${x0}" y1="${top}" x2="${x0}" y2="${top + plotH}" stroke="#000000"/>`);
    o.push(
      `<line x1="${x0}" y1="${top + plotH}" x2="${x0 + panelW}" y2="${top + plotH}" stroke="#000000"/>`,
    );
    const yl = top + plotH / 2;
    o.push(
      `<text x="${x0 - 58}" y="${yl}" text-anchor="middle" transform="rotate(-90 ${x0 - 58} ${yl})">devices needed (GPUs or CPU cores)${scale.log ? ', log scale' : ''}</text>`,
    );
    const facilities = [...new Set(p.bars.map((b) => b.facility))];
    const groupW = panelW / facilities.length;
    const barW = Math.min(40, (groupW * 0.8) / series.length);
    facilities.forEach((fac, fi) => {
      const gx = x0 + fi * groupW + (groupW - barW * series.length) / 2;
      const bars = p.bars.filter((b) => b.facility === fac);
      bars.forEach((b, bi) => {
        const bx = gx + bi * barW;
        const by = y(b.exact);
        const h = top + plotH - by;
        const label = `${b.lowerBound ? '≥' : ''}${grouped(b.whole)}`;
        o.push(
          `<rect class="bar" data-panel="${p.key}" data-facility="${xmlEscape(fac)}" data-series="${xmlEscape(b.series.id)}" data-value="${b.exact.toPrecision(6)}" x="${f1(bx)}" y="${f1(by)}" width="${f1(barW - 2)}" height="${f1(h)}" fill="${b.series.colour}"><title>${xmlEscape(`${fac}: ${b.series.label}: ${num(b.exact)} (${label} whole)`)}</title></rect>`,
        );
        o.push(
          `<text x="${f1(bx + (barW - 2) / 2)}" y="${f1(by - 4)}" text-anchor="middle" font-size="10">${xmlEscape(label)}</text>`,
        );
      });
      const share = p.rows.find((r) => r.name === fac)?.sharePercent ?? 0;
      o.push(
        `<text x="${f1(x0 + fi * groupW + groupW / 2)}" y="${top + plotH + 18}" text-anchor="middle">${xmlEscape(`${fac} (${num(share)}%)`)}</text>`,
      );
    });
    o.push(
      `<text x="${x0 + panelW / 2}" y="${top + plotH + 38}" text-anchor="middle" fill="#444444">facility (its share of the work)</text>`,
    );
    o.push('</g>');
  });
  o.push('<g class="legend">');
  series.forEach((s, i) => {
    const ly = legendTop + i * 20;
    o.push(`<rect x="90" y="${ly}" width="14" height="14" fill="${s.colour}"/>`);
    o.push(`<text x="112" y="${ly + 11}">${xmlEscape(s.label)}</text>`);
  });
  o.push('</g>');
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
