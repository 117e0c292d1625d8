import { type AccountDetail, adminApi, type PaymentRowJson, type PlanRow } from '../admin-api.ts';
import { adminAutoTopupClient } from '../auto-topup-api.ts';
import { autoTopupSection } from '../auto-topup-form.ts';
import { SAVE_CARD_LABEL } from '../auto-topup-text.ts';
import { lineChart } from '../charts.ts';
import { el, replace, when } from '../dom.ts';
import { type AdjustDraft, adjustForm } from './adjust-form.ts';
import { alertsForm } from './alerts-form.ts';
import { eventsSection } from './events-section.ts';
import { grantsSection } from './grants-section.ts';
import { ledgerSection } from './ledger-section.ts';
import { paymentHead, paymentRows } from './payments-page.ts';
import { poolSection } from './pool-section.ts';
import { card, load, shell, table, td, th } from './shell.ts';
import { usageChart, windowSelect } from './usage-chart.ts';

/** What to show once the page is drawn again: a success message, or an adjustment to review again. */
export interface AccountPageState {
  notice?: string;
  adjust?: AdjustDraft | null;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The next reset as a time, with what it waits for when the time alone does not say it. */
function nextResetText(a: AccountDetail): string {
  const note = a.next_token_reset_note ?? null;
  if (a.next_token_reset === null) return note ?? '—';
  const at = when(a.next_token_reset);
  if (note === null) return at;
  return a.next_token_reset_overdue ? `${at}, overdue: ${note}` : `${at} (${note})`;
}

export async function accountPage(id: string, state: AccountPageState = {}): Promise<void> {
  const a = await load<AccountDetail>(`/api/admin/accounts/${encodeURIComponent(id)}`);
  if (!a) return;
  if (a.error !== undefined || a.account === undefined) {
    shell(`Account ${id}`, el('p', { class: 'error' }, a.error ?? 'The account could not be loaded.'));
    return;
  }
  const redraw = (next: AccountPageState) => void accountPage(id, next);
  const fig = (label: string, value: string | number, testid?: string) =>
    el(
      'div',
      {},
      el('dt', {}, label),
      el('dd', { 'data-testid': testid }, typeof value === 'number' ? fmt(value) : value),
    );
  const usage = el('div', {
    id: 'account-usage-chart',
    class: 'chart',
    role: 'img',
    'aria-label': 'Tokens used per feature per day',
  });
  const balance = el('div', { id: 'balance-chart', class: 'chart', role: 'img', 'aria-label': 'Balance over time' });
  const payments = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const autoTopup = autoTopupSection({
    client: adminAutoTopupClient(adminApi, a.account),
    intro:
      "When the account's available tokens fall below the threshold, its saved card is charged for the package, at most the monthly limit times a calendar month (UTC). Purchases through a checkout never count toward it.",
    cardRequired: () =>
      `No card is saved for this account: its user must first buy a top-up package on the billing page with “${SAVE_CARD_LABEL}” ticked.`,
  });
  shell(
    `Account ${a.account}`,
    el('p', {}, el('a', { href: '#/' }, '← Accounts')),
    state.notice ? el('p', { class: 'notice ok', role: 'status', id: 'account-notice' }, state.notice) : null,
    a.exists ? null : el('p', { class: 'notice' }, 'This account has no ledger yet: it shows the default plan.'),
    card(
      'Figures',
      'figures',
      el(
        'dl',
        { class: 'figures' },
        fig('Balance', a.balance, 'admin-balance'),
        fig('Available', a.available, 'admin-available'),
        fig('Held', a.held),
        fig('Included (plan)', a.allocation, 'admin-included'),
        fig('Paid', a.purchased, 'admin-paid'),
        fig('Promotional', a.promotional, 'admin-promotional'),
        fig('Debt', a.debt, 'admin-debt'),
        fig('Used this cycle', a.usedThisMonth),
        fig('Features', a.features_disabled ? 'disabled' : 'enabled'),
      ),
    ),
    card(
      'Plan and cycle',
      'plan',
      el(
        'dl',
        { class: 'figures' },
        fig('Plan', a.package, 'admin-plan'),
        fig('Monthly allocation', a.monthlyAllocation),
        fig('Rolled over', a.tokens_rollover),
        fig('Cycle start', when(a.billing_cycle_start)),
        fig('Next reset', nextResetText(a), 'admin-next-reset'),
        fig('Cycle driven by', a.cycle_driver === 'subscription' ? 'subscription invoices' : 'the calendar'),
      ),
      await planForm(a, redraw),
    ),
    card(
      'Holds',
      'holds',
      table(
        'Active holds',
        [th('Hold'), th('Amount', true), th('Feature'), th('Expires')],
        a.holds.map((h) =>
          el('tr', {}, td(h.hold_id), td(h.amount, true), td(h.feature ?? '—'), td(when(h.expires_at))),
        ),
        'No active holds.',
      ),
    ),
    grantsSection(a.account, (notice) => redraw({ notice })),
    poolSection(a, (notice) => redraw({ notice })),
    adjustForm(a, state.adjust ?? null, (draft) =>
      redraw(draft ? { adjust: draft } : { notice: 'Adjustment recorded.' }),
    ),
    alertsForm(a.account, a.alerts),
    autoTopup.element,
    card(
      'Usage',
      'usage',
      el(
        'div',
        { class: 'row' },
        windowSelect('account-usage-window', 30, (d) => void usageChart(usage, d, a.account)),
      ),
      usage,
    ),
    card(
      'Balance over time',
      'balance',
      el(
        'div',
        { class: 'row' },
        windowSelect('balance-window', 90, (d) => void balanceChart(balance, a.account, d)),
      ),
      balance,
    ),
    card('Ledger', 'ledger', ledgerSection(a.account)),
    eventsSection(a.account),
    card('Payments', 'payments', payments),
  );
  document.getElementById('account-notice')?.focus();
  void usageChart(usage, 30, a.account);
  void balanceChart(balance, a.account, 90);
  void autoTopup.load();
  const p = await load<{ payments?: PaymentRowJson[] }>(
    `/api/admin/accounts/${encodeURIComponent(a.account)}/payments`,
  );
  if (p)
    replace(
      payments,
      p.payments
        ? table('Payments', paymentHead(false), paymentRows(p.payments, false), 'No payments.')
        : el('p', { class: 'error' }, p.error ?? 'Payments could not be loaded.'),
    );
}

async function planForm(a: AccountDetail, redraw: (s: AccountPageState) => void): Promise<HTMLElement> {
  const plans = (await load<{ plans?: PlanRow[] }>('/api/admin/plans'))?.plans ?? [];
  const plan = el(
    'select',
    { id: 'plan-id', required: true },
    ...plans.map((p) =>
      el('option', { value: p.id }, `${p.name} (${p.id}): ${fmt(p.monthly_allocation)} tokens a month`),
    ),
  );
  plan.value = a.package;
  const reason = el('input', { type: 'text', id: 'plan-reason', required: true, maxlength: 500 });
  const out = el('p', { role: 'status', id: 'plan-status' });
  const form = el(
    'form',
    { class: 'row' },
    el('label', {}, 'New plan', plan),
    el('label', {}, 'Reason (required)', reason),
    el('button', { type: 'submit' }, 'Change plan'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (plan.value === a.package) {
      replace(out, el('span', { class: 'error' }, `The account is already on ${a.package}.`));
      return;
    }
    const r = await adminApi<{ previous_plan?: string; plan?: string; balance?: number }>(
      `/api/admin/accounts/${encodeURIComponent(a.account)}/plan`,
      { method: 'PUT', body: { plan: plan.value, reason: reason.value.trim() } },
    );
    if (!r.ok) {
      replace(out, el('span', { class: 'error' }, r.body.error ?? 'The plan change failed.'));
      return;
    }
    const added = (r.body.balance ?? a.balance) - a.balance;
    redraw({
      notice: `Plan changed from ${r.body.previous_plan ?? a.package} to ${r.body.plan ?? plan.value}${
        added > 0
          ? `: ${fmt(added)} tokens added for this cycle`
          : ': no tokens added (a downgrade or a plan already paid this cycle)'
      }.`,
    });
  });
  return el('div', {}, form, out);
}

async function balanceChart(target: HTMLElement, account: string, days: number): Promise<void> {
  const s = await load<{ points?: { at: string; balance: number }[]; from?: string; to?: string }>(
    `/api/admin/accounts/${encodeURIComponent(account)}/balance-series?days=${days}`,
  );
  if (!s) return;
  const points = s.points ?? [];
  if (points.length === 0 || !s.from || !s.to) {
    replace(target, el('p', { class: 'muted' }, s.error ?? `No entries in the last ${days} days.`));
    return;
  }
  const last = points[points.length - 1];
  // A busy account's series has one point per time bucket, not per change: the label counts none.
  target.setAttribute('aria-label', `Balance over time: now ${last?.balance ?? 0} tokens`);
  const times = points.map((p) => Date.parse(p.at) / 1000);
  // The axis starts at the account's first entry (the answer's from) and ends now; one entry still spans an hour.
  const from = Date.parse(s.from) / 1000;
  const to = Math.max(Date.parse(s.to) / 1000, from + 3600);
  // A last point at the window's end, so the line reaches "now" at the current balance (the
  // series' last point is always the account's last entry, however many it has).
  lineChart(
    target,
    [{ label: 'Balance', values: [...points.map((p) => p.balance), last?.balance ?? 0] }],
    [...times, to],
    { span: { from, to }, stepped: true },
  );
}
