/** Shared pools on the wire: the SDK's types, which are the service's (src/ledger/wire.ts). */
export type { MembershipJson } from '../../src/sdk/admin-types.ts';
export type { PoolStandingJson } from '../../src/sdk/types.ts';
