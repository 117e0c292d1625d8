import type { UsageRowJson } from '../admin-api.ts';
import { lineChart } from '../charts.ts';
import { el, replace } from '../dom.ts';
import { load } from './shell.ts';

const DAY = 86_400;
export const WINDOWS = [7, 30, 90] as const;

/** A "Window" select of 7, 30 or 90 days. */
export function windowSelect(id: string, days: number, onChange: (days: number) => void): HTMLLabelElement {
  const select = el('select', { id }, ...WINDOWS.map((d) => el('option', { value: d }, `Last ${d} days`)));
  select.value = String(days);
  select.addEventListener('change', () => onChange(Number(select.value)));
  return el('label', {}, 'Window', select);
}

/** A chart's x axis for a window the server answered: every UTC day in it, and the span to show. */
export interface DayAxis {
  /** Each day's start (seconds), oldest first. */
  times: number[];
  /** Each day as the API names it (YYYY-MM-DD), in the same order. */
  days: string[];
  span: { from: number; to: number };
}

/** The whole window, not only the days with use, so a quiet week still shows as a week. */
export function dayAxis(fromIso: string, toIso: string): DayAxis {
  const from = Date.parse(fromIso) / 1000;
  const to = Date.parse(toIso) / 1000;
  const first = Math.floor(from / DAY) * DAY;
  const times: number[] = [];
  for (let t = first; t <= to; t += DAY) times.push(t);
  return {
    times,
    days: times.map((t) => new Date(t * 1000).toISOString().slice(0, 10)),
    span: { from: first, to: Math.max(to, first + DAY) },
  };
}

/**
 * Tokens used per feature per day over the last `days` days (the server's clock), of every
 * account or one. The axis spans the whole window; days without use are 0.
 */
export async function usageChart(target: HTMLElement, days: number, account?: string): Promise<void> {
  replace(target, el('p', { class: 'muted' }, 'Loading…'));
  const q = new URLSearchParams({ days: String(days), ...(account ? { account } : {}) });
  const body = await load<{ usage?: UsageRowJson[]; from?: string; to?: string }>(`/api/admin/stats?${q}`);
  if (!body) return;
  if (!body.usage || !body.from || !body.to) {
    replace(target, el('p', { class: 'error' }, body.error ?? 'Usage could not be loaded.'));
    return;
  }
  const usage = body.usage;
  if (usage.length === 0) {
    replace(target, el('p', { class: 'muted' }, `No feature use in the last ${days} days.`));
    return;
  }
  const axis = dayAxis(body.from, body.to);
  const features = [...new Set(usage.map((u) => u.feature))].sort();
  const total = usage.reduce((n, u) => n + u.tokens, 0);
  target.setAttribute(
    'aria-label',
    `Tokens used per feature per day, last ${days} days: ${total} tokens in all, ${features
      .map((f) => `${f} ${usage.filter((u) => u.feature === f).reduce((n, u) => n + u.tokens, 0)}`)
      .join(', ')}`,
  );
  lineChart(
    target,
    features.map((f) => ({
      label: f,
      values: axis.days.map((day) => usage.find((u) => u.day === day && u.feature === f)?.tokens ?? 0),
    })),
    axis.times,
    { span: axis.span, daily: true },
  );
}
