// bench/throughput.svg: deductions per second against concurrent callers, one panel per
// workload, log scales on both axes. Hand-written SVG: no plotting dependency.
import type { InProcessResult, PgbenchResult } from './types.ts';
import { IMPL_LABELS, STORE_LABELS } from './types.ts';
import { WORKLOAD_LABELS, type WorkloadName } from './workloads.ts';

type Marker = 'dot' | 'ring' | 'square' | 'box';

interface Series {
  label: string;
  color: string;
  dash: string;
  marker: Marker;
  workload: WorkloadName;
  points: { x: number; y: number }[];
}

const COLORS: Record<string, string> = {
  'sqlite-full': '#1f77b4',
  'sqlite-normal': '#17becf',
  pg: '#d62728',
  pgbench: '#ff7f0e',
};
const DASH: Record<string, string> = { engine: '', naive: '6 4', 'engine-unbatched': '2 3', pgbench: '6 4' };
const MARKERS: Record<string, Marker> = { engine: 'dot', naive: 'ring', 'engine-unbatched': 'box', pgbench: 'square' };

/** Filled: the engine with group commit; hollow: the baselines. */
function marker(kind: Marker, x: number, y: number, color: string): string {
  const at = (v: number) => v.toFixed(1);
  if (kind === 'dot') return `<circle cx="${at(x)}" cy="${at(y)}" r="4" fill="${color}"/>`;
  if (kind === 'ring')
    return `<circle cx="${at(x)}" cy="${at(y)}" r="4" fill="white" stroke="${color}" stroke-width="2"/>`;
  const fill = kind === 'square' ? color : 'white';
  return `<rect x="${at(x - 4)}" y="${at(y - 4)}" width="8" height="8" fill="${fill}" stroke="${color}" stroke-width="2"/>`;
}

const PANEL_W = 340;
const PANEL_H = 260;
const LEFT = 70;
const TOP = 50;
const GAP = 40;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function collect(runs: readonly InProcessResult[], pgbench: readonly PgbenchResult[]): Series[] {
  const series = new Map<string, Series>();
  for (const r of runs) {
    // A failed run has no figure, nor one that answered nothing in its window (log scale: no 0).
    if (!r.ok || r.measured === 0) continue;
    const { store, impl, workload, concurrency } = r.spec;
    const id = `${store}/${impl}/${workload}`;
    let s = series.get(id);
    if (!s) {
      s = {
        label: `${STORE_LABELS[store]}, ${IMPL_LABELS[impl]}`,
        color: COLORS[store] ?? '#333',
        dash: DASH[impl] ?? '',
        marker: MARKERS[impl] ?? 'dot',
        workload,
        points: [],
      };
      series.set(id, s);
    }
    s.points.push({ x: concurrency, y: r.perSecond });
  }
  const pgb: Series = {
    label: 'PostgreSQL, pgbench (naive)',
    color: COLORS.pgbench ?? '#333',
    dash: '6 4',
    marker: 'square',
    workload: 'hot',
    points: [],
  };
  for (const p of pgbench) if (p.ok) pgb.points.push({ x: p.concurrency, y: p.perSecond });
  if (pgb.points.length > 0) series.set('pgbench', pgb);
  for (const s of series.values()) s.points.sort((a, b) => a.x - b.x);
  return [...series.values()];
}

export function throughputSvg(
  runs: readonly InProcessResult[],
  pgbench: readonly PgbenchResult[],
  title: string,
): string {
  const series = collect(runs, pgbench);
  const failed = runs.filter((r) => !r.ok).length + pgbench.filter((p) => !p.ok).length;
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0);
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys, 100)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 1000)));
  const xMax = 1024;
  const sx = (x: number) => (Math.log2(x) / Math.log2(xMax)) * PANEL_W;
  const sy = (y: number) =>
    PANEL_H - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * PANEL_H;
  const workloads: WorkloadName[] = ['hot', 'pool', 'uniform', 'zipf'];
  const labels = [...new Map(series.map((s) => [`${s.label}|${s.color}|${s.dash}`, s])).values()];
  const legendRows = Math.ceil(labels.length / 2);
  const width = LEFT + workloads.length * (PANEL_W + GAP) + 10;
  const height = TOP + PANEL_H + 60 + legendRows * 20 + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  if (failed > 0) {
    out.push(
      `<text x="${width - 10}" y="22" text-anchor="end" fill="#c00" font-weight="bold">${failed} run(s) FAILED their check: not plotted</text>`,
    );
  }
  workloads.forEach((w, i) => {
    const ox = LEFT + i * (PANEL_W + GAP);
    out.push(`<g transform="translate(${ox},${TOP})">`);
    out.push(
      `<text x="${PANEL_W / 2}" y="-8" text-anchor="middle" font-weight="bold">${esc(WORKLOAD_LABELS[w])}</text>`,
    );
    out.push(`<rect width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    for (let e = Math.log10(yMin); e <= Math.log10(yMax); e++) {
      const y = sy(10 ** e);
      out.push(`<line x1="0" x2="${PANEL_W}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      if (i === 0) out.push(`<text x="-6" y="${y + 4}" text-anchor="end">${(10 ** e).toLocaleString('en-US')}</text>`);
    }
    for (const c of [1, 4, 16, 64, 256, 1024]) {
      const x = sx(c);
      out.push(`<line x1="${x}" x2="${x}" y1="0" y2="${PANEL_H}" stroke="#eee"/>`);
      out.push(`<text x="${x}" y="${PANEL_H + 16}" text-anchor="middle">${c}</text>`);
    }
    out.push(`<text x="${PANEL_W / 2}" y="${PANEL_H + 34}" text-anchor="middle">concurrent callers</text>`);
    for (const s of series.filter((s) => s.workload === w)) {
      const pts = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
      if (pts.length > 1) {
        out.push(
          `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
        );
      }
      for (const p of s.points) out.push(marker(s.marker, sx(p.x), sy(p.y), s.color));
    }
    out.push('</g>');
  });
  out.push(
    `<text transform="translate(16,${TOP + PANEL_H / 2}) rotate(-90)" text-anchor="middle">durable deductions per second (log)</text>`,
  );
  labels.forEach((s, i) => {
    const x = LEFT + (i % 2) * 380;
    const y = TOP + PANEL_H + 60 + Math.floor(i / 2) * 20;
    out.push(
      `<line x1="${x}" x2="${x + 36}" y1="${y - 4}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(marker(s.marker, x + 18, y - 4, s.color));
    out.push(`<text x="${x + 44}" y="${y}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
