import { MONTHLY_LIMIT_MAX, MONTHLY_LIMIT_MIN } from '../../src/core/auto-topup.ts';
import type { AutoTopupAnswer, AutoTopupClient, AutoTopupJson, SalePackageJson } from './auto-topup-api.ts';
import { autoTopupState } from './auto-topup-state.ts';
import { type Child, el, money, replace } from './dom.ts';

export interface AutoTopupSectionOptions {
  client: AutoTopupClient;
  /** One line under the heading: what automatic top-up does, said to whoever reads the page. */
  intro: string;
  /** What to say when enabling is refused for want of a saved card: the buyer is told what to do, the operator who must do it. */
  cardRequired: () => Child;
}

/** The "Automatic top-up" card of the billing page and the console's account page. */
export interface AutoTopupSection {
  element: HTMLElement;
  /** Reads the settings and the packages, then shows them with the form. */
  load(): Promise<void>;
  /** Shows only `text` and asks the service for nothing (nobody is signed in). */
  idle(text: string): void;
}

/**
 * The settings (a switch, the threshold, the package, the monthly limit) with what the service
 * reports (card, status, count, last error). Payment routes are outside the token gate, so it
 * works at any balance. The service is the one judge of a value: a 400 names its field, which is
 * marked invalid; a 409 `payment_method_required` says how to save a card.
 */
export function autoTopupSection(o: AutoTopupSectionOptions): AutoTopupSection {
  const body = el('div', { id: 'auto-topup-body' }, el('p', { class: 'muted' }, 'Loading…'));
  return {
    element: el(
      'section',
      { class: 'card', id: 'auto-topup', 'aria-labelledby': 'auto-topup-title' },
      el('h2', { id: 'auto-topup-title' }, 'Automatic top-up'),
      el('p', { class: 'muted' }, o.intro),
      body,
    ),
    idle: (text) => replace(body, el('p', { class: 'muted' }, text)),
    async load() {
      const [settings, packages] = await Promise.all([o.client.read(), o.client.packages()]);
      const current = settings.body.auto_topup;
      if (!settings.ok || !current) {
        replace(body, el('p', { class: 'error' }, unavailable(settings)));
        return;
      }
      const topups = (packages.body.packages ?? []).filter((p) => p.kind === 'topup');
      replace(body, ...settingsForm(o, current, topups));
    },
  };
}

function unavailable(r: AutoTopupAnswer): string {
  if (r.status === 404) return 'Automatic top-up is not available on this server.';
  if (r.status === 401) return 'Sign in to set up automatic top-up.';
  return `Automatic top-up could not be loaded: ${r.body.error ?? `status ${r.status}`}`;
}

const packageLabel = (p: SalePackageJson) => `${p.name} for ${money(p.price_cents, p.currency)}`;

/** A number field's value; null when empty or not a number, which the service refuses by name. */
const numberIn = (input: HTMLInputElement) =>
  input.value.trim() === '' || input.validity.badInput ? null : Number(input.value);

function settingsForm(o: AutoTopupSectionOptions, initial: AutoTopupJson, topups: SalePackageJson[]): Child[] {
  const state = autoTopupState();
  state.show(initial);
  const described = { 'aria-describedby': 'auto-topup-form-status' };
  const enabled = el('input', { type: 'checkbox', role: 'switch', id: 'auto-topup-enabled', ...described });
  const threshold = el('input', {
    type: 'number',
    id: 'auto-topup-threshold',
    min: 0,
    step: 1,
    inputmode: 'numeric',
    ...described,
  });
  const limit = el('input', {
    type: 'number',
    id: 'auto-topup-limit',
    min: MONTHLY_LIMIT_MIN,
    max: MONTHLY_LIMIT_MAX,
    step: 1,
    inputmode: 'numeric',
    ...described,
  });
  const known = topups.some((p) => p.id === initial.package) || initial.package === '';
  const pkg = el(
    'select',
    { id: 'auto-topup-package', ...described },
    ...topups.map((p) => el('option', { value: p.id }, packageLabel(p))),
    // A package taken off sale still shows as what is set, until another is chosen.
    known ? null : el('option', { value: initial.package }, `${initial.package} (no longer for sale)`),
  );
  const fill = (s: AutoTopupJson) => {
    enabled.checked = s.enabled;
    threshold.value = String(s.threshold);
    limit.value = String(s.monthly_limit);
    if (s.package !== '') pkg.value = s.package;
  };
  fill(initial);
  let saved = initial;
  const fields: Record<string, HTMLInputElement | HTMLSelectElement> = {
    enabled,
    threshold,
    package: pkg,
    monthly_limit: limit,
  };
  const submit = el('button', { type: 'submit' }, 'Save automatic top-up');
  const out = el('p', { role: 'status', id: 'auto-topup-form-status' });
  const form = el(
    'form',
    { class: 'auto-topup-form', novalidate: true, 'aria-label': 'Automatic top-up settings' },
    el('label', { class: 'inline switch' }, enabled, 'Top up automatically'),
    el(
      'div',
      { class: 'row' },
      el('label', {}, 'When available tokens fall below', threshold),
      el('label', {}, 'Package to buy', pkg),
      el('label', {}, `At most this many times a month (${MONTHLY_LIMIT_MIN}–${MONTHLY_LIMIT_MAX})`, limit),
      submit,
    ),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const f of Object.values(fields)) f.removeAttribute('aria-invalid');
    submit.disabled = true;
    replace(out, 'Saving…');
    const r = await o.client
      .save({
        enabled: enabled.checked,
        threshold: numberIn(threshold),
        package: pkg.value,
        monthly_limit: numberIn(limit),
      })
      .catch(() => null)
      .finally(() => {
        submit.disabled = false;
      });
    if (r === null) {
      replace(out, el('span', { class: 'error' }, 'The service could not be reached: nothing was saved.'));
      return;
    }
    const answer = r.body.auto_topup;
    if (r.ok && answer) {
      saved = answer;
      state.show(answer);
      fill(answer);
      replace(out, el('span', { class: 'ok' }, savedText(answer, topups)));
      return;
    }
    if (r.body.code === 'payment_method_required') {
      // Nothing was saved: the switch goes back to what is in force.
      enabled.checked = saved.enabled;
      replace(out, el('span', { class: 'error', id: 'auto-topup-card-required' }, o.cardRequired()));
      return;
    }
    const message = r.body.error ?? `The settings were not saved (status ${r.status}).`;
    // The service's messages start with the field they are about ("monthly_limit must be ...").
    fields[/^\w+/.exec(message)?.[0] ?? '']?.setAttribute('aria-invalid', 'true');
    replace(out, el('span', { class: 'error' }, message));
  });
  return [
    state.element,
    topups.length === 0
      ? el('p', { class: 'error' }, 'No top-up package is for sale, so there is nothing to buy automatically.')
      : null,
    form,
    out,
  ];
}

function savedText(s: AutoTopupJson, topups: SalePackageJson[]): string {
  if (!s.enabled) return 'Saved: automatic top-up is off.';
  const p = topups.find((t) => t.id === s.package);
  const times = s.monthly_limit === 1 ? 'once' : `${s.monthly_limit} times`;
  return `Saved: when available tokens fall below ${s.threshold.toLocaleString('en-US')}, ${
    p ? packageLabel(p) : s.package
  } is bought, at most ${times} a month.`;
}
