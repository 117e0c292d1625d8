import { BY_ID_REFERENCE } from '../core/grant-create.ts';
import type { Posted } from '../core/posting.ts';
import type { WriteTx } from '../store/store.ts';

/**
 * Gives the grants an account's decisions created (draft ids below zero) their stored ids,
 * in the state and in the entries' grant moves, before anything is written. A grant without a
 * natural reference is referenced by its own id, which is unique.
 */
export async function assignGrantIds(tx: WriteTx, posted: Posted): Promise<Posted> {
  const { state, entries } = posted;
  const drafts = state.grants.filter((g) => g.id < 0);
  if (drafts.length === 0) return { state, entries };
  const ids = await tx.grantIds(drafts.length);
  const map = new Map<number, number>();
  drafts.forEach((g, i) => {
    const id = ids[i];
    if (id === undefined) throw new Error('fewer grant ids than grants');
    map.set(g.id, id);
  });
  const real = (id: number) => map.get(id) ?? id;
  const grants = state.grants.map((g) => {
    if (g.id >= 0) return g;
    const id = real(g.id);
    return { ...g, id, reference: g.reference === BY_ID_REFERENCE ? `#${id}` : g.reference };
  });
  const remapped = entries.map((e) =>
    e.grantMoves.some((m) => m.grant < 0)
      ? { ...e, grantMoves: e.grantMoves.map((m) => ({ grant: real(m.grant), delta: m.delta })) }
      : e,
  );
  return { state: { ...state, grants }, entries: remapped };
}
