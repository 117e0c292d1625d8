import { el, replace } from '../dom.ts';
import type { MembershipJson } from '../pool-json.ts';
import { deleteMembership, limitText, parseLimit, putMembership, remainingText } from './pool-api.ts';
import { memberCharts } from './pool-member-chart.ts';
import { table, td, th } from './shell.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const accountLink = (id: string) => el('a', { href: `#/account/${encodeURIComponent(id)}` }, id);

/** The limit field every pool form shares: empty means no limit. */
export function limitInput(id: string, value: number | null = null): HTMLInputElement {
  return el('input', {
    type: 'number',
    id,
    min: 0,
    step: 1,
    inputmode: 'numeric',
    placeholder: 'no limit',
    ...(value === null ? {} : { value: String(value) }),
  });
}

export const LIMIT_LABEL = 'Limit per cycle (tokens; empty: no limit)';
export const BAD_LIMIT = 'Give the limit as a whole number of tokens from 0, or leave it empty for no limit.';

/** What a saved membership says, for the page's notice. */
export function joinedNotice(m: MembershipJson, changed: boolean): string {
  const limit = m.limit_per_cycle === null ? 'no limit' : `a limit of ${fmt(m.limit_per_cycle)} tokens per cycle`;
  return changed
    ? `The limit of ${m.member} in pool ${m.pool} is now ${limitText(m.limit_per_cycle)}.`
    : `${m.member} is a member of pool ${m.pool}, with ${limit}.`;
}

/**
 * A pool's members: their limits and use this cycle, each linking to its page, a way to change
 * a limit or remove a member (after a confirmation), a form to add one, and a chart per member.
 * `done` draws the page again with a notice.
 */
export function poolMembersView(pool: string, members: MembershipJson[], done: (notice: string) => void): HTMLElement {
  const actionBox = el('div', { class: 'confirm', id: 'pool-action', hidden: true });
  const close = () => {
    actionBox.hidden = true;
    replace(actionBox);
  };
  const cancel = () => el('button', { type: 'button', class: 'secondary', onclick: close }, 'Cancel');

  const changeLimit = (m: MembershipJson) => {
    const limit = limitInput('pool-change-limit', m.limit_per_cycle);
    const out = el('p', { role: 'status', id: 'pool-change-status' });
    const form = el(
      'form',
      { class: 'row', novalidate: true, 'aria-label': `Change the limit of ${m.member}` },
      el('label', {}, `New limit for ${m.member} (tokens per cycle; empty: no limit)`, limit),
      el('button', { type: 'submit' }, 'Save limit'),
      cancel(),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = parseLimit(limit);
      if (value === undefined) return replace(out, el('span', { class: 'error' }, BAD_LIMIT));
      const r = await putMembership(m.member, pool, value);
      if ('error' in r) return replace(out, el('span', { class: 'error' }, r.error));
      done(joinedNotice(r.membership, true));
    });
    actionBox.hidden = false;
    replace(actionBox, form, out);
    limit.focus();
  };

  const remove = (m: MembershipJson) => {
    const out = el('p', { role: 'status', id: 'pool-remove-status' });
    const confirm = el(
      'button',
      {
        type: 'button',
        id: 'pool-remove-confirm',
        onclick: async () => {
          const r = await deleteMembership(m.member);
          if ('error' in r) return replace(out, el('span', { class: 'error' }, r.error));
          done(`${m.member} was removed from pool ${pool}: from its next operation it spends only its own tokens.`);
        },
      },
      'Confirm removal',
    );
    actionBox.hidden = false;
    replace(
      actionBox,
      el(
        'p',
        { id: 'pool-remove-preview' },
        `Remove ${m.member} from pool ${pool}? From its next operation it spends only its own tokens, and its plan renews it again from its next cycle. Nothing already charged moves.`,
      ),
      el('div', { class: 'row' }, confirm, cancel()),
      out,
    );
    confirm.focus();
  };

  const rows = members.map((m) =>
    el(
      'tr',
      { 'data-member': m.member },
      el('td', {}, accountLink(m.member)),
      td(limitText(m.limit_per_cycle), true),
      td(fmt(m.used_this_cycle), true),
      td(remainingText(m.remaining_this_cycle), true),
      td(fmt(m.held), true),
      el(
        'td',
        {},
        el(
          'div',
          { class: 'row' },
          el(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'aria-label': `Change limit of ${m.member}`,
              onclick: () => changeLimit(m),
            },
            'Change limit',
          ),
          el(
            'button',
            { type: 'button', class: 'secondary', 'aria-label': `Remove ${m.member}`, onclick: () => remove(m) },
            'Remove',
          ),
        ),
      ),
    ),
  );
  return el(
    'div',
    {},
    el(
      'p',
      { class: 'muted' },
      `This account is a shared pool with ${plural(members.length)}. Each spends its own tokens first, then the pool’s, at most its limit per cycle of the pool.`,
    ),
    table(
      `Members of pool ${pool}`,
      [
        th('Member'),
        th('Limit', true),
        th('Used this cycle', true),
        th('Remaining', true),
        th('Held', true),
        th('Actions'),
      ],
      rows,
      'No members.',
    ),
    actionBox,
    addMemberForm(pool, done),
    members.length > 0 ? memberCharts(pool, members) : null,
  );
}

const plural = (n: number) => `${fmt(n)} ${n === 1 ? 'member' : 'members'}`;

/** What a membership form asks for: the other account's id, and a limit. */
interface MembershipFormText {
  /** Prefix of the inputs' and status's ids. */
  id: string;
  /** The account field's label, the form's name, its button, and the message for an empty id. */
  label: string;
  name: string;
  button: string;
  missing: string;
}

/**
 * A form of one account id and an optional limit that makes a membership: adding a member to a
 * pool, or adding an account to a pool. `join(id, limit)` makes it from the id typed.
 */
export function membershipForm(
  text: MembershipFormText,
  join: (id: string, limit: number | null) => ReturnType<typeof putMembership>,
  done: (notice: string) => void,
): { form: HTMLFormElement; out: HTMLElement } {
  const account = el('input', { type: 'text', id: `${text.id}-account`, required: true, maxlength: 128 });
  const limit = limitInput(`${text.id}-limit`);
  const out = el('p', { role: 'status', id: `${text.id}-status` });
  const form = el(
    'form',
    { class: 'row', novalidate: true, 'aria-label': text.name },
    el('label', {}, text.label, account),
    el('label', {}, LIMIT_LABEL, limit),
    el('button', { type: 'submit' }, text.button),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = account.value.trim();
    const value = parseLimit(limit);
    if (id === '') return replace(out, el('span', { class: 'error' }, text.missing));
    if (value === undefined) return replace(out, el('span', { class: 'error' }, BAD_LIMIT));
    const r = await join(id, value);
    if ('error' in r) return replace(out, el('span', { class: 'error' }, r.error));
    done(joinedNotice(r.membership, false));
  });
  return { form, out };
}

/** Adds a member to `pool` (which makes an account with none a pool). */
export function addMemberForm(pool: string, done: (notice: string) => void): HTMLElement {
  const { form, out } = membershipForm(
    {
      id: 'pool-add',
      label: 'Member account',
      name: 'Add a member',
      button: 'Add member',
      missing: 'Give the member account’s id.',
    },
    (member, limit) => putMembership(member, pool, limit),
    done,
  );
  return el('div', {}, el('h3', {}, 'Add a member'), form, out);
}
