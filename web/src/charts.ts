import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = [
  '#1d4ed8',
  '#b91c1c',
  '#047857',
  '#a16207',
  '#7c3aed',
  '#0e7490',
  '#be185d',
  '#4d7c0f',
  '#c2410c',
  '#475569',
  '#0f766e',
];
const DAY = 86_400;

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

export interface ChartOptions {
  /** The time axis spans exactly this window (seconds), whatever the data: a single day stays a day. */
  span: { from: number; to: number };
  stepped?: boolean;
  /** The unit for tooltips and the y axis. */
  unit?: string;
  /** Points are whole UTC days (the legend then shows a date without a time). */
  daily?: boolean;
}

const dateFmt = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' });
const timeFmt = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });

/**
 * A line chart of series over time (seconds), sized to its container. The x range is set, not
 * guessed: uPlot's automatic range around one point spans years. The legend under the chart is
 * the tooltip: it follows the cursor, with the date and each series' value and unit.
 */
export function lineChart(target: HTMLElement, series: ChartSeries[], times: number[], options: ChartOptions): uPlot {
  target.replaceChildren();
  const width = Math.max(260, target.clientWidth || 600);
  const paths = options.stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined;
  const unit = options.unit ?? 'tokens';
  const { from, to } = options.span;
  const days = (to - from) / DAY;
  // The span shown, for people reading the page's markup and for the browser tests.
  target.dataset.from = new Date(from * 1000).toISOString();
  target.dataset.to = new Date(to * 1000).toISOString();
  return new uPlot(
    {
      width,
      height: 240,
      series: [
        {
          label: options.daily ? 'Day' : 'Time',
          value: (_u, v) => (v == null ? '—' : when(v, options.daily === true)),
        },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length] ?? '#1d4ed8',
          width: 2,
          points: { show: times.length <= 62 },
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : `${v.toLocaleString('en-US')} ${unit}`),
          ...(paths ? { paths } : {}),
        })),
      ],
      axes: [
        {
          // Day ticks for windows of days, times within one day.
          values: (_u, ticks) => ticks.map((t) => (days > 2 ? shortDate(t) : clock(t))),
          space: 70,
        },
        { label: unit, size: 60 },
      ],
      scales: {
        x: { time: true, range: () => [from, to] },
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max) * 1.1] },
      },
    },
    [times, ...series.map((s) => s.values)],
    target,
  );
}

function shortDate(seconds: number): string {
  return new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(seconds * 1000);
}

const clockFmt = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit' });

function clock(seconds: number): string {
  return clockFmt.format(seconds * 1000);
}

function when(seconds: number, daily: boolean): string {
  return daily ? dateFmt.format(seconds * 1000) : timeFmt.format(seconds * 1000);
}
