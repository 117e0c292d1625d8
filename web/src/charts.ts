import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#1d4ed8', '#b91c1c', '#047857', '#a16207', '#7c3aed', '#0e7490', '#be185d'];

/** A line chart of series over time (seconds), sized to its container. */
export function lineChart(
  target: HTMLElement,
  title: string,
  times: number[],
  series: { label: string; values: (number | null)[] }[],
  stepped = false,
  /** Seconds of room either side of the data on the time axis (a single day still reads as a day). */
  padSeconds = 0,
): uPlot {
  target.replaceChildren();
  const width = Math.max(280, target.clientWidth || 600);
  const paths = stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined;
  return new uPlot(
    {
      title,
      width,
      height: 240,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length] ?? '#1d4ed8',
          width: 2,
          ...(paths ? { paths } : {}),
        })),
      ],
      axes: [{}, { label: 'tokens' }],
      scales: {
        x: { time: true, ...(padSeconds > 0 ? { range: (_u, min, max) => [min - padSeconds, max + padSeconds] } : {}) },
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max) * 1.1] },
      },
    },
    [times, ...series.map((s) => s.values)],
    target,
  );
}
