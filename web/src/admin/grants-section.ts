import type { GrantDisplayStatus } from '../../../src/core/grant.ts';
import { adminApi, type GrantRowJson } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';
import { grantForm } from './grant-form.ts';
import { card, load, table, td, th } from './shell.ts';

const STATUS_LABEL: Record<GrantDisplayStatus, string> = {
  active: 'active',
  scheduled: 'scheduled',
  used_up: 'used up',
  expired: 'expired',
  voided: 'voided',
};

/** A used-up grant has nothing left to remove; expired and voided ones are final. */
const VOIDABLE: ReadonlySet<GrantDisplayStatus> = new Set(['active', 'scheduled']);

function expiresText(g: GrantRowJson): string {
  if (g.expires_at) return when(g.expires_at);
  // An included grant's end is its cycle's, which the grant row does not carry.
  return g.category === 'included' ? 'with the cycle' : 'never';
}

/**
 * The account's grants, active and past (newest first), a form to grant tokens and a Void
 * button per active grant, which asks for a reason before anything is written. `done` draws
 * the page again with a notice, so the figures above follow.
 */
export function grantsSection(account: string, done: (notice: string) => void): HTMLElement {
  const list = el('div', { id: 'grants-list' }, el('p', { class: 'muted' }, 'Loading…'));
  const voidBox = el('div', { class: 'grant-void', id: 'grant-void', hidden: true });
  const askVoid = (g: GrantRowJson) => {
    const reason = el('input', { type: 'text', id: 'void-reason', required: true, maxlength: 500 });
    const out = el('p', { role: 'status', id: 'void-status' });
    const form = el(
      'form',
      { class: 'row', 'aria-label': `Void grant #${g.id}` },
      el('label', {}, 'Reason (required)', reason),
      el('button', { type: 'submit', id: 'void-confirm' }, 'Confirm void'),
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            voidBox.hidden = true;
          },
        },
        'Cancel',
      ),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (reason.value.trim() === '') {
        replace(out, el('span', { class: 'error' }, 'Give a reason.'));
        return;
      }
      const r = await adminApi<{ grant?: GrantRowJson }>(`/api/admin/grants/${g.id}/void`, {
        method: 'POST',
        body: { reason: reason.value.trim() },
      });
      if (!r.ok) {
        replace(out, el('span', { class: 'error' }, r.body.error ?? `The void failed (status ${r.status}).`));
        return;
      }
      done(
        `Grant #${g.id} voided: ${g.remaining.toLocaleString('en-US')} remaining ${g.remaining === 1 ? 'token' : 'tokens'} removed.`,
      );
    });
    voidBox.hidden = false;
    replace(
      voidBox,
      el(
        'p',
        { id: 'void-preview' },
        `Void grant #${g.id} (${g.category}): its ${g.remaining.toLocaleString('en-US')} remaining tokens leave the balance. This cannot be undone.`,
      ),
      form,
      out,
    );
    reason.focus();
  };
  const show = async () => {
    const body = await load<{ grants?: GrantRowJson[] }>(`/api/admin/accounts/${encodeURIComponent(account)}/grants`);
    if (!body) return;
    if (!body.grants)
      return replace(list, el('p', { class: 'error' }, body.error ?? 'The grants could not be loaded.'));
    replace(
      list,
      table(
        'Grants',
        [
          th('Grant'),
          th('Status'),
          th('Category'),
          th('Tokens', true),
          th('Remaining', true),
          th('Priority', true),
          th('Effective'),
          th('Expires'),
          th('Action'),
        ],
        body.grants.map((g) =>
          el(
            'tr',
            { 'data-grant': g.id },
            td(`#${g.id}`),
            td(STATUS_LABEL[g.status] ?? g.status),
            td(g.category),
            td(g.tokens.toLocaleString('en-US'), true),
            td(g.remaining.toLocaleString('en-US'), true),
            td(g.priority, true),
            td(when(g.effective_at)),
            td(expiresText(g)),
            el(
              'td',
              {},
              VOIDABLE.has(g.status)
                ? el(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'aria-label': `Void grant #${g.id}`,
                      onclick: () => askVoid(g),
                    },
                    'Void',
                  )
                : '—',
            ),
          ),
        ),
        'No grants yet.',
      ),
    );
  };
  void show();
  return card(
    'Grants',
    'grants',
    el(
      'p',
      { class: 'muted' },
      'Spent in this order: lowest priority number first, then the soonest expiry, then promotional, included, paid, then the oldest.',
    ),
    list,
    voidBox,
    grantForm(account, done),
  );
}
