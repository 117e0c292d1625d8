import type { Command } from 'commander';
import { MAX_ADJUSTMENT, parseIntStrict, requireInt } from '../../core/amounts.ts';
import type { MembershipView } from '../../ledger/types.ts';
import { membershipJson } from '../../ledger/wire.ts';
import { type CommonOptions, runWithLedger, tokens, withCommonOptions } from '../run-command.ts';

interface AddOptions extends CommonOptions {
  limit?: string;
}

/** `pool add|remove|members`: shared pools, where members spend an organization's tokens. */
export function addPoolCommand(program: Command): void {
  const pool = program
    .command('pool')
    .description("shared pools: members spend their own tokens first, then the pool's, within a limit per cycle");

  withCommonOptions(
    pool
      .command('add')
      .description(
        "make <member> a member of <pool> (an existing account), or replace its limit; from its next operation it spends its own tokens, then the pool's",
      )
      .argument('<pool>', "the pool's account id (must exist, and not be a member itself)")
      .argument('<member>', "the member's account id (not a pool with members of its own)")
      .option('--limit <n>', 'the most it may take from the pool per pool cycle, 0 or more (default: no limit)'),
  ).action((poolId: string, member: string, options: AddOptions) =>
    runWithLedger(options, async (ledger) => {
      const limitPerCycle =
        options.limit === undefined
          ? null
          : requireInt('limit', parseIntStrict('limit', options.limit), 0, MAX_ADJUSTMENT);
      const m = await ledger.joinPool({ member, pool: poolId, limitPerCycle });
      return {
        json: { success: true, membership: membershipJson(m) },
        lines: [`Account ${m.member} is a member of pool ${m.pool}: ${standing(m)}`],
      };
    }),
  );

  withCommonOptions(
    pool
      .command('remove')
      .description('take <member> out of its pool, from its next operation; nothing already charged moves')
      .argument('<member>', "the member's account id"),
  ).action((member: string, options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const left = await ledger.leavePool(member);
      return {
        json: { success: true, membership: { pool: left.pool, member: left.member } },
        lines: [`Account ${left.member} left pool ${left.pool}; from now on it spends only its own tokens.`],
      };
    }),
  );

  withCommonOptions(
    pool
      .command('members')
      .description("a pool's members with their limits and usage this pool cycle")
      .argument('<pool>', "the pool's account id"),
  ).action((poolId: string, options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const members = await ledger.poolMembers(poolId);
      const first = members[0];
      return {
        json: { success: true, members: members.map(membershipJson) },
        lines:
          first === undefined
            ? [`Pool ${poolId} has no members. Add one with: tokenmeter pool add ${poolId} <member> [--limit N]`]
            : [
                `Pool ${poolId}: ${members.length === 1 ? '1 member' : `${members.length} members`}, ` +
                  `cycle since ${new Date(first.cycleStart).toISOString()}`,
                ...members.map((m) => `  ${m.member}: ${standing(m)}`),
              ],
      };
    }),
  );
}

/** "limit 500 tokens per pool cycle, used 20, 480 remaining" or "no limit, used 20". */
function standing(m: MembershipView): string {
  const held = m.held > 0 ? `, ${tokens(m.held)} held` : '';
  if (m.limitPerCycle === null) return `no limit, used ${m.usedThisCycle} this cycle${held}`;
  return (
    `limit ${tokens(m.limitPerCycle)} per pool cycle, used ${m.usedThisCycle} this cycle, ` +
    `${m.remainingThisCycle ?? 0} remaining${held}`
  );
}
