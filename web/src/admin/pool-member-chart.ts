import type { MemberUsageResponse } from '../../../src/sdk/admin-types.ts';
import { lineChart } from '../charts.ts';
import { el, replace } from '../dom.ts';
import type { MembershipJson } from '../pool-json.ts';
import { load } from './shell.ts';
import { dayAxis } from './usage-chart.ts';

const DAYS = 30;
/** Up to this many members, every chart is drawn at once; past it, each when its member is opened. */
const OPEN_AT_ONCE = 6;

/** Tokens `member` drew from `pool` per UTC day, into `target`; an empty state without any. */
export async function memberUsageChart(target: HTMLElement, pool: string, member: string): Promise<void> {
  replace(target, el('p', { class: 'muted' }, 'Loading…'));
  const body = await load<Partial<MemberUsageResponse>>(
    `/api/admin/accounts/${encodeURIComponent(pool)}/members/${encodeURIComponent(member)}/usage?days=${DAYS}`,
  );
  if (!body) return;
  if (!body.days) {
    replace(target, el('p', { class: 'error' }, body.error ?? 'Usage could not be loaded.'));
    return;
  }
  const used = body.days;
  const last = used[used.length - 1];
  if (!last) {
    replace(target, el('p', { class: 'muted' }, `${member} drew no tokens from the pool in the last ${DAYS} days.`));
    return;
  }
  // The server's window (its clock): the browser's clock may be another, and miss every point.
  const axis = dayAxis(body.from ?? last.day, body.to ?? last.day);
  const total = used.reduce((n, d) => n + d.tokens, 0);
  target.setAttribute(
    'aria-label',
    `Tokens ${member} drew from the pool per day, last ${DAYS} days: ${total.toLocaleString('en-US')} in all`,
  );
  lineChart(
    target,
    [{ label: member, values: axis.days.map((day) => used.find((d) => d.day === day)?.tokens ?? 0) }],
    axis.times,
    { span: axis.span, daily: true },
  );
}

/** One disclosure per member with its chart, drawn when first opened (the first few open at once). */
export function memberCharts(pool: string, members: MembershipJson[]): HTMLElement {
  const open = members.length <= OPEN_AT_ONCE;
  return el(
    'div',
    { id: 'pool-member-charts' },
    el('h3', {}, `Tokens drawn from the pool per day, last ${DAYS} days`),
    ...members.map((m) => {
      const chart = el('div', {
        class: 'chart',
        role: 'img',
        'data-member': m.member,
        'aria-label': `Tokens ${m.member} drew from the pool per day`,
      });
      const details = el('details', { open }, el('summary', {}, m.member), chart);
      let drawn = false;
      const draw = () => {
        if (!details.open || drawn) return;
        drawn = true;
        void memberUsageChart(chart, pool, m.member);
      };
      details.addEventListener('toggle', draw);
      // Opened from the start: drawn once the element is on the page (it needs its width).
      if (open) queueMicrotask(draw);
      return details;
    }),
  );
}
