import { requireAccountId } from '../core/account-id.ts';
import { DEFAULT_TOPUP_RETRY_MS } from '../core/auto-topup.ts';
import type { BalanceView } from '../core/balance-view.ts';
import { type Catalog, findPlan, planLowBalanceThreshold } from '../core/catalog.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Grant } from '../core/grant.ts';
import { type Hold, isLive } from '../core/hold.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';
import { DEFAULT_GROUP_COMMIT, type GroupCommitOptions, type GroupCommitStats } from './batch/group-commit-options.ts';
import { GroupCommitter } from './batch/group-committer.ts';
import { RemoteCommitter } from './batch/remote-committer.ts';
import { remoteForms } from './batch/remote-job.ts';
import { commitEach, type LedgerContext } from './context.ts';
import { type CommitSignals, signalCommits } from './event-signal.ts';
import { OperatorQueries } from './operator-queries.ts';
import { adjust } from './ops/adjust.ts';
import { catchUp, remindExpiring } from './ops/catch-up.ts';
import { check } from './ops/check.ts';
import { createAccount } from './ops/create-account.ts';
import { credit } from './ops/credit.ts';
import { deduct, deductMany } from './ops/deduct.ts';
import { getBalance } from './ops/get-balance.ts';
import { grant } from './ops/grant.ts';
import { balanceAt, history } from './ops/history.ts';
import { importAccount, importAccounts } from './ops/import-accounts.ts';
import { joinPool, leavePool, poolMembers } from './ops/pool-membership.ts';
import { type RecoveryInput, type RecoveryOutcome, recordRecovery } from './ops/record-recovery.ts';
import { reserve } from './ops/reserve.ts';
import { type Recalled, type ResponseScope, recallResponse, rememberResponse } from './ops/responses.ts';
import { setPlan } from './ops/set-plan.ts';
import { commitHold, releaseHold } from './ops/settle-hold.ts';
import { listGrants, voidGrant } from './ops/void-grant.ts';
import { PaymentLedger } from './payments/payment-ledger.ts';
import { PoolHints } from './pool/pool-hints.ts';
import { AutoTopupLedger } from './topup/auto-topup-ledger.ts';
import type {
  AdjustInput,
  AdjustResult,
  CheckInput,
  CheckResult,
  CreditInput,
  CreditResult,
  DeductInput,
  DeductResult,
  GrantInput,
  History,
  HistoryOptions,
  HoldResult,
  ImportAccountInput,
  ImportOptions,
  ImportOutcome,
  JoinPoolInput,
  MembershipView,
  PlanChanged,
  ReconcileReport,
  ReserveInput,
  ReserveResult,
  SetPlanInput,
} from './types.ts';

export interface TokenLedgerOptions {
  store: Store;
  catalog: Catalog;
  clock?: Clock;
  logger?: Logger;
  /** Group commit of deductions, holds and credits (default on); `false`: one transaction per operation. */
  groupCommit?: GroupCommitOptions | false;
  /** How long after a declined automatic top-up the next try starts (default one hour; 0: at once). */
  topupRetryMs?: number;
}

/**
 * The token engine an app embeds. Every write is one transaction; refusals are values.
 *
 * @example
 * const ledger = await openLedger({ databaseUrl: 'sqlite:./data/tokens.db' });
 * const r = await ledger.deduct({ account: '7', feature: 'outbound_call_single' });
 * if (!r.ok) console.log(r.message); // "Insufficient tokens. ..."
 */
export class TokenLedger {
  readonly catalog: Catalog;
  readonly store: Store;
  /** Read-only queries for the admin console and operators. */
  readonly operator: OperatorQueries;
  /** Checkouts, provider events (exactly once), billing history. */
  readonly payments: PaymentLedger;
  /** Automatic top-up: settings, and the steps of the worker that charges saved cards. */
  readonly autoTopup: AutoTopupLedger;
  private readonly ctx: LedgerContext;
  private readonly committer: GroupCommitter | null;
  private readonly remote: RemoteCommitter | null;
  private readonly eventListeners = new Set<() => void>();
  private readonly topupListeners = new Set<() => void>();

  constructor(options: TokenLedgerOptions) {
    this.catalog = options.catalog;
    this.store = options.store;
    const clock = options.clock ?? systemClock;
    const groupCommit = options.groupCommit ?? DEFAULT_GROUP_COMMIT;
    const topupRetryMs = options.topupRetryMs ?? DEFAULT_TOPUP_RETRY_MS;
    const signal = (signals: CommitSignals) => {
      if (signals.events) for (const listener of this.eventListeners) listener();
      if (signals.topups) for (const listener of this.topupListeners) listener();
    };
    // Writes go through a store that says when a commit recorded events or a top-up intent.
    const store = signalCommits(options.store, signal);
    const poolHints = new PoolHints();
    const committer = groupCommit ? new GroupCommitter(store, clock, groupCommit, poolHints) : null;
    this.committer = committer;
    // Where the writer has a thread of its own, hot-path jobs are batched and run there.
    const thread = options.store.writerThread;
    const remote =
      groupCommit && thread
        ? new RemoteCommitter(thread, { catalog: options.catalog, groupCommit, topupRetryMs }, signal)
        : null;
    this.remote = remote;
    const commit: LedgerContext['commit'] = committer
      ? (job) => (remote && job.remote ? remote.run(job.remote, clock.now()) : committer.submit(job))
      : (job) => store.write(job.run);
    this.ctx = {
      store,
      catalog: options.catalog,
      clock,
      logger: options.logger ?? silentLogger,
      topupRetryMs,
      commit,
      commitAll: (jobs) => {
        const sent = remote ? remoteForms(jobs) : null;
        if (remote && sent) return remote.runAll(sent, clock.now());
        return commitEach(commit)(jobs);
      },
      write: (job) => (remote && job.remote ? remote.write(job.remote, clock.now()) : store.write(job.run)),
      poolHints,
    };
    this.operator = new OperatorQueries(this.ctx);
    this.payments = new PaymentLedger(this.ctx);
    this.autoTopup = new AutoTopupLedger(this.ctx, this.payments);
  }

  /** Calls `listener` after every commit that recorded events; returns what stops it. */
  onEventsCommitted(listener: () => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Calls `listener` after every commit that recorded a top-up intent (in this process); returns what stops it. */
  onTopupIntents(listener: () => void): () => void {
    this.topupListeners.add(listener);
    return () => this.topupListeners.delete(listener);
  }

  /** Records what fell due on an account by the clock now (background work; see ops/catch-up.ts). */
  catchUp(account: string): Promise<boolean> {
    return catchUp(this.ctx, account);
  }

  /** Announces `grant.expiring` for the account's grants expiring within `noticeMs`, once each. */
  remindExpiring(account: string, noticeMs: number): Promise<number> {
    return remindExpiring(this.ctx, account, noticeMs);
  }

  /** Charges a feature use; refused (a value, not an exception) when tokens are short. */
  deduct(input: DeductInput): Promise<DeductResult> {
    return deduct(this.ctx, input);
  }

  /**
   * Charges many feature uses sent together: every input is checked first (a bad one throws,
   * naming it as `deductions[i]`, and nothing is charged), then each item is answered exactly
   * as `deduct` would have answered it, in order, in a settled result of its own: a rejected
   * item (`unavailable`: the queue was full) beside the others' answers.
   * @example
   * const results = await ledger.deductMany([
   *   { account: '7', feature: 'ai_agent_run', idempotencyKey: 'run-1' },
   *   { account: '8', feature: 'outbound_call_single', quantity: 3, idempotencyKey: 'call-9' },
   * ]);
   */
  deductMany(inputs: readonly DeductInput[]): Promise<PromiseSettledResult<DeductResult>[]> {
    return deductMany(this.ctx, inputs);
  }

  /** Whether a use would be allowed now; writes nothing. */
  check(input: CheckInput): Promise<CheckResult> {
    return check(this.ctx, input);
  }

  /** The account's figures now, including `featuresDisabled` and per-feature affordability. */
  getBalance(account: string): Promise<BalanceView> {
    return getBalance(this.ctx, account);
  }

  /** An account's low-balance threshold: its own (null: none set) and the one in force. */
  async alerts(account: string): Promise<{ own: number | null; effective: number }> {
    const stored = await this.store.getAccount(account);
    const own = stored?.lowBalanceThreshold ?? null;
    const plan = findPlan(this.catalog, stored?.plan ?? this.catalog.defaultPlan);
    return { own, effective: own ?? planLowBalanceThreshold(plan) };
  }

  /** Opens an account on a plan; a no-op for an existing one. */
  createAccount(input: { account: string; plan?: string }): Promise<{ created: boolean; balance: BalanceView }> {
    return createAccount(this.ctx, input);
  }

  /** Adds purchased tokens, once per (source, reference). */
  credit(input: CreditInput): Promise<CreditResult> {
    return credit(this.ctx, input);
  }

  /**
   * Grants promotional or paid tokens, with an optional expiry, start and priority.
   * @example await ledger.grant({ account: 'u1', tokens: 50, category: 'promotional', expiresAt: Date.now() + 30 * 864e5, reason: 'Welcome', actor: 'ops' })
   */
  grant(input: GrantInput): Promise<Grant> {
    return grant(this.ctx, input);
  }

  /** An account's grants, newest first: live ones, or all with `includeInactive`. */
  grants(account: string, options: { includeInactive?: boolean } = {}): Promise<Grant[]> {
    return listGrants(this.ctx, requireAccountId(account), options);
  }

  /** Voids what remains of a grant, with a reason on record. */
  voidGrant(input: { id: number; reason: string; actor: string }): Promise<Grant> {
    return voidGrant(this.ctx, input);
  }

  /** An operator's correction with a reason on record. */
  adjust(input: AdjustInput): Promise<AdjustResult> {
    return adjust(this.ctx, input);
  }

  /** Switches plan now, within the current cycle: an upgrade adds the allocation difference once, a downgrade nothing. */
  setPlan(input: SetPlanInput): Promise<PlanChanged> {
    return setPlan(this.ctx, input);
  }

  /** Reserves tokens for work of unknown cost. */
  /**
   * Makes `member` a member of `pool` (an existing account) with a limit per pool cycle, or
   * changes its limit: from its next operation it spends its own tokens first, then the pool's.
   */
  joinPool(input: JoinPoolInput): Promise<MembershipView> {
    return joinPool(this.ctx, input);
  }

  /** Takes `member` out of its pool, from its next operation. */
  leavePool(member: string): Promise<{ pool: string; member: string }> {
    return leavePool(this.ctx, member);
  }

  /** The current members of `pool`, each with its usage in the pool's current cycle. */
  poolMembers(pool: string): Promise<MembershipView[]> {
    return poolMembers(this.ctx, pool);
  }

  reserve(input: ReserveInput): Promise<ReserveResult> {
    return reserve(this.ctx, input);
  }

  /** Charges the actual cost of a hold's work; frees the rest. */
  commitHold(holdId: number, actual: number): Promise<HoldResult> {
    return commitHold(this.ctx, holdId, actual);
  }

  /** Frees a hold's whole reservation. */
  releaseHold(holdId: number): Promise<HoldResult> {
    return releaseHold(this.ctx, holdId);
  }

  /** A hold by id (any status), or undefined. */
  getHold(holdId: number): Promise<Hold | undefined> {
    return this.store.getHold(holdId);
  }

  /** An account's holds that still reserve tokens (expired ones are not listed). */
  async activeHolds(account: string): Promise<Hold[]> {
    const now = this.ctx.clock.now();
    return (await this.store.activeHolds(requireAccountId(account))).filter((h) => isLive(h, now));
  }

  /**
   * Brings one legacy account over: opened on its plan with an `opening_balance` entry (source
   * `import`), or left untouched when tokenmeter already holds it (`already_imported`,
   * `already_active`, with both balances).
   */
  importAccount(input: ImportAccountInput, options?: ImportOptions): Promise<ImportOutcome> {
    return importAccount(this.ctx, input, options);
  }

  /** importAccount for up to 1000 accounts in one transaction; outcomes in input order. */
  importAccounts(inputs: readonly ImportAccountInput[], options?: ImportOptions): Promise<ImportOutcome[]> {
    return importAccounts(this.ctx, inputs, options);
  }

  /**
   * One account's `recover` run: counts only the log lines no earlier recovery counted, and
   * with `apply` writes the correction and records those lines in one transaction.
   */
  recordRecovery(input: RecoveryInput): Promise<RecoveryOutcome> {
    return recordRecovery(this.ctx, input);
  }

  /** The recorded final answer of a keyed multi-step operation (the token gate), if any. */
  recallResponse(scope: ResponseScope): Promise<Recalled> {
    return recallResponse(this.ctx, scope);
  }

  /** Records the final answer of a keyed multi-step operation, so a retry replays it. */
  rememberResponse(scope: ResponseScope, response: unknown): Promise<void> {
    return rememberResponse(this.ctx, scope, response);
  }

  /** The ledger of an account, newest first. */
  history(account: string, options?: HistoryOptions): Promise<History> {
    return history(this.ctx, account, options);
  }

  /** The balance at a past instant. */
  balanceAt(account: string, time: number | Date): Promise<number> {
    return balanceAt(this.ctx, account, time);
  }

  /** Checks, for every account, that stored figures equal what the ledger and holds say. */
  reconcile(): Promise<ReconcileReport> {
    return this.store.reconcile();
  }

  /** What group commit has done so far (all zero when it is off). */
  groupCommitStats(): GroupCommitStats {
    const here = this.committer?.stats() ?? { batches: 0, operations: 0, largestBatch: 0, rejected: 0, splits: 0 };
    const there = this.remote?.stats();
    if (!there) return here;
    return {
      batches: here.batches + there.batches,
      operations: here.operations + there.operations,
      largestBatch: Math.max(here.largestBatch, there.largestBatch),
      rejected: here.rejected + there.rejected,
      splits: here.splits + there.splits,
    };
  }

  /** Answers what is queued, then closes the store. */
  async close(): Promise<void> {
    await this.committer?.idle();
    await this.remote?.idle();
    await this.store.close();
  }
}
