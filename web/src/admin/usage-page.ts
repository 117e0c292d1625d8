import { el } from '../dom.ts';
import { accountUsageChart } from './account-usage-chart.ts';
import { card, shell } from './shell.ts';
import { usageChart, windowSelect } from './usage-chart.ts';

const state = { days: 30, account: '' };

/**
 * Usage over a chosen window: tokens per feature per day, across accounts or of one; and which
 * accounts used the most, per day and in a table linking to each.
 */
export function usagePage(): void {
  const chart = el('div', {
    id: 'usage-chart',
    class: 'chart',
    role: 'img',
    'aria-label': 'Tokens used per feature per day',
  });
  const byAccount = el('div', {
    id: 'usage-accounts-chart',
    class: 'chart',
    role: 'img',
    'aria-label': 'Tokens used per account per day',
  });
  const topAccounts = el('div', { id: 'usage-accounts-table' });
  const features = () => void usageChart(chart, state.days, state.account || undefined);
  const accounts = () => void accountUsageChart(byAccount, topAccounts, state.days);
  const account = el('input', { type: 'search', id: 'usage-account', value: state.account, maxlength: 128 });
  // The window applies to both charts; the account filter only to the one per feature.
  const windowRow = el(
    'div',
    { class: 'row' },
    windowSelect('usage-window', state.days, (d) => {
      state.days = d;
      features();
      accounts();
    }),
  );
  const form = el(
    'form',
    { class: 'row', 'aria-label': 'Usage filters' },
    el('label', {}, 'Account (empty: all)', account),
    el('button', { type: 'submit' }, 'Show'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.account = account.value.trim();
    features();
  });
  shell(
    'Usage',
    windowRow,
    card('Tokens used per feature per day', 'usage', form, chart),
    card('Tokens used per account per day', 'usage-accounts', byAccount, topAccounts),
  );
  features();
  accounts();
}
