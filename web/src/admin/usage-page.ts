import { el } from '../dom.ts';
import { card, shell } from './shell.ts';
import { usageChart, windowSelect } from './usage-chart.ts';

const state = { days: 30, account: '' };

/** Usage across accounts, or of one: tokens per feature per day over a chosen window. */
export function usagePage(): void {
  const chart = el('div', {
    id: 'usage-chart',
    class: 'chart',
    role: 'img',
    'aria-label': 'Tokens used per feature per day',
  });
  const account = el('input', { type: 'search', id: 'usage-account', value: state.account, maxlength: 128 });
  const form = el(
    'form',
    { class: 'row', 'aria-label': 'Usage filters' },
    windowSelect('usage-window', state.days, (d) => {
      state.days = d;
      void usageChart(chart, state.days, state.account || undefined);
    }),
    el('label', {}, 'Account (empty: all)', account),
    el('button', { type: 'submit' }, 'Show'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.account = account.value.trim();
    void usageChart(chart, state.days, state.account || undefined);
  });
  shell('Usage', card('Tokens used per feature per day', 'usage', form, chart));
  void usageChart(chart, state.days, state.account || undefined);
}
