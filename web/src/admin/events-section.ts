import { adminApi, type FeedEventJson } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';
import { eventSummary } from './event-summary.ts';
import { card, table, td, th } from './shell.ts';

const PAGE = 50;

type Page = { events: FeedEventJson[]; nextBefore: number | null } | { error: string };

/** A page of the account's events, newest first, from `GET /api/admin/accounts/:id/events`. */
async function accountEvents(account: string, before: number | null): Promise<Page> {
  const q = new URLSearchParams({ limit: String(PAGE), ...(before === null ? {} : { before: String(before) }) });
  const r = await adminApi<{ events?: FeedEventJson[]; next_before?: number | null }>(
    `/api/admin/accounts/${encodeURIComponent(account)}/events?${q}`,
  );
  if (!r.ok || !r.body.events) return { error: r.body.error ?? `The events could not be loaded (status ${r.status}).` };
  return { events: r.body.events, nextBefore: r.body.next_before ?? null };
}

/** An account's events (what webhooks send and `GET /api/events` serves), newest first, a page at a time. */
export function eventsSection(account: string): HTMLElement {
  const list = el('div', { id: 'events-list' }, el('p', { class: 'muted' }, 'Loading…'));
  const more = el('div', { class: 'row' });
  const shown: FeedEventJson[] = [];
  const render = (nextBefore: number | null) => {
    replace(
      list,
      table(
        'Events',
        [th('Sequence', true), th('Time'), th('Type'), th('Summary')],
        shown.map((e) =>
          el(
            'tr',
            { 'data-event': e.id },
            td(e.sequence, true),
            td(when(e.timestamp)),
            td(e.type),
            td(eventSummary(e)),
          ),
        ),
        'No events yet.',
      ),
    );
    replace(
      more,
      nextBefore === null
        ? null
        : el('button', { type: 'button', class: 'secondary', onclick: () => void load(nextBefore) }, 'Older events'),
    );
  };
  const load = async (before: number | null) => {
    const page = await accountEvents(account, before);
    if ('error' in page) {
      replace(list, el('p', { class: 'error' }, page.error));
      return;
    }
    shown.push(...page.events);
    render(page.nextBefore);
  };
  void load(null);
  return card(
    'Events',
    'events',
    el('p', { class: 'muted' }, 'What webhooks send and GET /api/events serves for this account, newest first.'),
    list,
    more,
  );
}
