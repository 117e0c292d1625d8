import type { TokenLedger } from '../ledger/token-ledger.ts';

/** The demo's shared pool and its member, and the member's limit per pool cycle. */
export const DEMO_POOL = 'agency';
export const DEMO_MEMBER = 'agency-client';
export const DEMO_MEMBER_LIMIT = 50;

/** The demo's named accounts, offered by the copilot's picker, each in the state its name says. */
export const DEMO_ACCOUNTS: readonly { id: string; about: string }[] = [
  { id: '7', about: 'the seed’s user: free plan, 100 tokens' },
  { id: 'alice', about: 'a new account: free plan, 100 tokens' },
  { id: 'bob', about: 'a new account: free plan, 100 tokens' },
  { id: 'zero-balance', about: '0 tokens: features disabled, billing works' },
  { id: DEMO_POOL, about: `a shared pool: free plan, 100 tokens its members spend` },
  {
    id: DEMO_MEMBER,
    about: `a member of ${DEMO_POOL}: spends its tokens, at most ${DEMO_MEMBER_LIMIT} a cycle`,
  },
];

/**
 * Brings a named demo account to its state on first sign-in; later sign-ins leave the account
 * as its user (or the operator) left it. Each step is idempotent in the ledger itself, so two
 * sign-ins, in one process or two, never write tokens twice.
 */
export async function prepareDemoAccount(ledger: TokenLedger, account: string): Promise<void> {
  if (account === 'zero-balance') await prepareZeroBalance(ledger, account);
  // The pool opens on the default plan, as any new account does; creating it is a no-op once it exists.
  else if (account === DEMO_POOL) await ledger.createAccount({ account: DEMO_POOL });
  else if (account === DEMO_MEMBER) await prepareMember(ledger);
}

/**
 * The adjustment carries a reference, unique per kind and source in the ledger itself, so it is
 * written once whatever the number of sign-ins or processes.
 */
async function prepareZeroBalance(ledger: TokenLedger, account: string): Promise<void> {
  const r = await ledger.adjust({
    account,
    setBalance: 0,
    reason: 'demo: the zero-balance account starts at 0',
    actor: 'demo',
    source: 'demo',
    reference: `demo-account:${account}`,
  });
  if (!r.ok) throw new Error(`the demo account ${account} could not be prepared: ${r.message}`);
}

/**
 * Only a member that does not exist yet is joined: one the operator since gave another limit or
 * took out of the pool stays as it is. Two first sign-ins racing both join, which is harmless:
 * `createAccount` is a no-op for an existing pool and `joinPool` with the same limit writes no
 * tokens (a member opens with none of its own, and its usage is kept).
 */
async function prepareMember(ledger: TokenLedger): Promise<void> {
  if ((await ledger.getBalance(DEMO_MEMBER)).exists) return;
  await ledger.createAccount({ account: DEMO_POOL });
  await ledger.joinPool({ member: DEMO_MEMBER, pool: DEMO_POOL, limitPerCycle: DEMO_MEMBER_LIMIT });
}
