import type { AccountDetail } from '../admin-api.ts';
import { el, replace } from '../dom.ts';
import type { MembershipJson, PoolStandingJson } from '../pool-json.ts';
import { deleteMembership, limitText, parseLimit, putMembership, remainingText } from './pool-api.ts';
import {
  addMemberForm,
  BAD_LIMIT,
  joinedNotice,
  LIMIT_LABEL,
  limitInput,
  membershipForm,
  poolMembersView,
} from './pool-members.ts';
import { card, load } from './shell.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * The account's place in a shared pool, as a card: for a pool, its members (pool-members.ts);
 * for a member, its pool, limit and use this cycle, and a way out; for any other account, a
 * form to join a pool and one to add a member. `done` draws the page again with a notice.
 */
export function poolSection(a: AccountDetail, done: (notice: string) => void): HTMLElement {
  const standing = a.pool;
  const body = el('div', { id: 'pool-body' }, el('p', { class: 'muted' }, 'Loading…'));
  if (standing) replace(body, memberView(a.account, standing, done));
  else void showPoolOrJoin(a, body, done);
  return card('Pool', 'pool', body);
}

async function showPoolOrJoin(a: AccountDetail, body: HTMLElement, done: (notice: string) => void): Promise<void> {
  // An account with no ledger yet has no members; asking would only answer 404.
  let members: MembershipJson[] = [];
  if (a.exists) {
    const r = await load<{ members?: MembershipJson[] }>(
      `/api/admin/accounts/${encodeURIComponent(a.account)}/members`,
    );
    if (!r) return;
    if (!r.members) {
      replace(body, el('p', { class: 'error' }, r.error ?? 'The pool’s members could not be loaded.'));
      return;
    }
    members = r.members;
  }
  replace(body, members.length > 0 ? poolMembersView(a.account, members, done) : notInPool(a.account, done));
}

function memberView(account: string, p: PoolStandingJson, done: (notice: string) => void): HTMLElement {
  const fig = (label: string, value: HTMLElement | string, testid: string) =>
    el('div', {}, el('dt', {}, label), el('dd', { 'data-testid': testid }, value));
  const out = el('p', { role: 'status', id: 'pool-leave-status' });
  const confirmBox = el('div', { class: 'confirm', id: 'pool-leave-confirm', hidden: true });
  const confirm = el(
    'button',
    {
      type: 'button',
      id: 'pool-leave-button',
      onclick: async () => {
        const r = await deleteMembership(account);
        if ('error' in r) return replace(out, el('span', { class: 'error' }, r.error));
        done(`${account} was removed from pool ${r.pool}: from its next operation it spends only its own tokens.`);
      },
    },
    'Confirm removal',
  );
  const ask = () => {
    confirmBox.hidden = false;
    replace(
      confirmBox,
      el(
        'p',
        {},
        `Remove ${account} from pool ${p.id}? From its next operation it spends only its own tokens, and its plan renews it again from its next cycle. Nothing already charged moves.`,
      ),
      el(
        'div',
        { class: 'row' },
        confirm,
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              confirmBox.hidden = true;
            },
          },
          'Cancel',
        ),
      ),
    );
    confirm.focus();
  };
  return el(
    'div',
    {},
    el(
      'p',
      { class: 'muted' },
      'This account is a member of a shared pool: it spends its own tokens first, then the pool’s, at most its limit per cycle of the pool. Its available balance above counts its share.',
    ),
    el(
      'dl',
      { class: 'figures' },
      fig('Pool', el('a', { href: `#/account/${encodeURIComponent(p.id)}` }, p.id), 'pool-of'),
      fig('Limit', limitText(p.limit_per_cycle), 'pool-limit'),
      fig('Used this cycle', fmt(p.used_this_cycle), 'pool-used'),
      fig('Remaining this cycle', remainingText(p.remaining_this_cycle), 'pool-remaining'),
      fig('Pool available', fmt(p.available), 'pool-available'),
    ),
    changeLimitForm(account, p, done),
    el(
      'div',
      { class: 'row' },
      el('button', { type: 'button', class: 'secondary', id: 'pool-leave', onclick: ask }, 'Remove from pool'),
    ),
    confirmBox,
    out,
  );
}

function changeLimitForm(account: string, p: PoolStandingJson, done: (notice: string) => void): HTMLElement {
  const limit = limitInput('pool-member-limit', p.limit_per_cycle);
  const out = el('p', { role: 'status', id: 'pool-member-limit-status' });
  const form = el(
    'form',
    { class: 'row', novalidate: true, 'aria-label': 'Change the limit' },
    el('label', {}, LIMIT_LABEL, limit),
    el('button', { type: 'submit' }, 'Save limit'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = parseLimit(limit);
    if (value === undefined) return replace(out, el('span', { class: 'error' }, BAD_LIMIT));
    const r = await putMembership(account, p.id, value);
    if ('error' in r) return replace(out, el('span', { class: 'error' }, r.error));
    done(joinedNotice(r.membership, true));
  });
  return el('div', {}, el('h3', {}, 'Change the limit'), form, out);
}

/** Neither pool nor member: join a pool, or start one by adding a member. */
function notInPool(account: string, done: (notice: string) => void): HTMLElement {
  const { form, out } = membershipForm(
    {
      id: 'pool-join',
      label: 'Pool account',
      name: 'Add to a pool',
      button: 'Add to pool',
      missing: 'Give the pool account’s id.',
    },
    (pool, limit) => putMembership(account, pool, limit),
    done,
  );
  return el(
    'div',
    {},
    el(
      'p',
      { class: 'muted' },
      'This account is in no pool. As a member of one (another existing account) it spends its own tokens first, then the pool’s, at most the limit per cycle of the pool, and it receives no plan allocation of its own while it is a member. A pool cannot itself be a member.',
    ),
    el('h3', {}, 'Add to a pool'),
    form,
    out,
    addMemberForm(account, done),
  );
}
