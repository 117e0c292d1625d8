import type { AccountUsageJson } from '../admin-api.ts';
import { lineChart } from '../charts.ts';
import { el, replace } from '../dom.ts';
import { load, plural, table, td, th } from './shell.ts';
import { dayAxis } from './usage-chart.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

/** The request each target last made: a slow answer for an older window must not replace a newer one. */
const latest = new WeakMap<HTMLElement, number>();
let requests = 0;

/**
 * Which accounts used the most tokens over the last `days` days: one line per top account and
 * one for all the others, per day, into `chart`; the same accounts with their totals, each
 * linking to its page, into `list`. The axis spans the whole window; days without use are 0.
 */
export async function accountUsageChart(chart: HTMLElement, list: HTMLElement, days: number): Promise<void> {
  const request = ++requests;
  latest.set(chart, request);
  replace(chart, el('p', { class: 'muted' }, 'Loading…'));
  replace(list);
  const body = await load<Partial<AccountUsageJson>>(
    `/api/admin/stats?${new URLSearchParams({ by: 'account', days: String(days) })}`,
  );
  if (!body || latest.get(chart) !== request) return;
  const { accounts, usage, from, to } = body;
  if (!accounts || !usage || !from || !to) {
    replace(chart, el('p', { class: 'error' }, body.error ?? 'Usage per account could not be loaded.'));
    return;
  }
  const others = body.others ?? null;
  if (accounts.length === 0) {
    replace(chart, el('p', { class: 'muted' }, `No account used tokens in the last ${days} days.`));
    return;
  }
  const axis = dayAxis(from, to);
  const total = accounts.reduce((n, a) => n + a.tokens, 0) + (others?.tokens ?? 0);
  const othersLabel = others ? plural(others.accounts, 'other account') : '';
  const perDay = (account: string | null) =>
    axis.days.map((day) => usage.find((u) => u.day === day && u.account === account)?.tokens ?? 0);
  chart.setAttribute(
    'aria-label',
    `Tokens used per account per day, last ${days} days: ${fmt(total)} tokens in all, ${[
      ...accounts.map((a) => `${a.account} ${fmt(a.tokens)}`),
      ...(others ? [`${othersLabel} ${fmt(others.tokens)}`] : []),
    ].join(', ')}`,
  );
  lineChart(
    chart,
    [
      ...accounts.map((a) => ({ label: a.account, values: perDay(a.account) })),
      ...(others ? [{ label: othersLabel, values: perDay(null) }] : []),
    ],
    axis.times,
    { span: axis.span, daily: true },
  );
  const share = (tokens: number) => td(percent.format(total > 0 ? tokens / total : 0), true);
  replace(
    list,
    table(
      `Top accounts by tokens used, last ${days} days`,
      [th('Account'), th('Tokens used', true), th('Uses', true), th('Share', true)],
      [
        ...accounts.map((a) =>
          el(
            'tr',
            {},
            el('td', {}, el('a', { href: `#/account/${encodeURIComponent(a.account)}` }, a.account)),
            td(fmt(a.tokens), true),
            td(fmt(a.uses), true),
            share(a.tokens),
          ),
        ),
        ...(others
          ? [
              el(
                'tr',
                {},
                td(othersLabel),
                td(fmt(others.tokens), true),
                td(fmt(others.uses), true),
                share(others.tokens),
              ),
            ]
          : []),
      ],
      '',
    ),
  );
}
