import type { TokenLedger } from '../ledger/token-ledger.ts';

/** The demo's named accounts, offered by the copilot's picker, each in the state its name says. */
export const DEMO_ACCOUNTS: readonly { id: string; about: string }[] = [
  { id: '7', about: 'the seed’s user: free plan, 100 tokens' },
  { id: 'alice', about: 'a new account: free plan, 100 tokens' },
  { id: 'bob', about: 'a new account: free plan, 100 tokens' },
  { id: 'zero-balance', about: '0 tokens: features disabled, billing works' },
];

/**
 * Brings a named demo account to its state on first sign-in. The adjustment carries a
 * reference, unique per kind and source in the ledger itself, so it is written once whatever
 * the number of sign-ins or processes; later sign-ins leave the account as its user left it.
 */
export async function prepareDemoAccount(ledger: TokenLedger, account: string): Promise<void> {
  if (account !== 'zero-balance') return;
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
