import { ENTRY_KINDS } from '../../../src/core/entry.ts';
import type { EntryRow } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';
import { load, table, td, th } from './shell.ts';

/** The ledger's entry kinds, for the filter: the engine's own list, bundled in. */
const KINDS = ENTRY_KINDS;

const signed = (n: number) => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0');

/**
 * Which grants an entry moved ("grant #12 −5"), and any debt it made or paid. No-break spaces
 * keep each move on one line when a renewal's several moves wrap.
 */
function movesText(e: EntryRow): string {
  const parts = e.grants.map((m) => `grant\u00a0#${m.id}\u00a0${signed(m.delta)}`);
  if (e.debt_delta) parts.push(`debt\u00a0${signed(e.debt_delta)}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}

/** An account's ledger, newest first, filtered by kind and by date (UTC days), 50 at a time. */
export function ledgerSection(account: string): HTMLElement {
  const kind = el(
    'select',
    { id: 'ledger-kind' },
    el('option', { value: '' }, 'All kinds'),
    ...KINDS.map((k) => el('option', { value: k }, k)),
  );
  const from = el('input', { type: 'date', id: 'ledger-from' });
  const to = el('input', { type: 'date', id: 'ledger-to' });
  const list = el('div', { id: 'ledger-list', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Loading…'));
  const more = el('div', { class: 'row' });
  const form = el(
    'form',
    { class: 'row', 'aria-label': 'Ledger filters' },
    el('label', {}, 'Entry kind', kind),
    el('label', {}, 'From (UTC)', from),
    el('label', {}, 'To (UTC)', to),
    el('button', { type: 'submit', class: 'secondary' }, 'Filter'),
  );
  const rows: HTMLTableRowElement[] = [];
  const show = async (cursor: string | null) => {
    const q = new URLSearchParams({ account, limit: '50' });
    if (kind.value) q.set('kind', kind.value);
    if (from.value) q.set('from', `${from.value}T00:00:00Z`);
    if (to.value) q.set('to', `${to.value}T23:59:59.999Z`);
    if (cursor) q.set('cursor', cursor);
    const body = await load<{ entries?: EntryRow[]; next_cursor?: string | null }>(`/api/admin/ledger?${q}`);
    if (!body) return;
    if (!body.entries)
      return replace(list, el('p', { class: 'error' }, body.error ?? 'The ledger could not be loaded.'));
    if (cursor === null) rows.length = 0;
    rows.push(
      ...body.entries.map((e) =>
        el(
          'tr',
          {},
          td(when(e.at)),
          td(e.kind),
          td(e.amount > 0 ? `+${e.amount}` : e.amount, true),
          td(e.balance_after, true),
          td(movesText(e)),
          td(e.feature ? `${e.feature}${e.quantity && e.quantity > 1 ? ` ×${e.quantity}` : ''}` : '—'),
          td(e.reason ?? '—'),
          td(e.actor ?? '—'),
        ),
      ),
    );
    replace(
      list,
      table(
        'Ledger entries',
        [
          th('Time'),
          th('Kind'),
          th('Amount', true),
          th('Balance after', true),
          th('Grants'),
          th('Feature'),
          th('Reason'),
          th('Actor'),
        ],
        rows,
        kind.value || from.value || to.value ? 'No entries match these filters.' : 'No entries yet.',
      ),
    );
    const next = body.next_cursor;
    replace(
      more,
      next
        ? el('button', { type: 'button', class: 'secondary', onclick: () => void show(next) }, 'Older entries')
        : null,
    );
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void show(null);
  });
  void show(null);
  return el('div', {}, form, list, more);
}
