import type { AccountState } from '../core/account-state.ts';
import { topupCrossed } from '../core/auto-topup.ts';
import type { EventDraft } from '../core/event.ts';
import type { BatchWrite, Store, WriteTx } from '../store/store.ts';
import type { TopupTx } from '../store/topup-tx.ts';

/** What a committed transaction recorded that background work waits for. */
export interface CommitSignals {
  /** Events (the dispatcher delivers them). */
  events: boolean;
  /** A top-up intent, by the database's trigger or by arming auto top-up (the top-up worker charges it). */
  topups: boolean;
}

/**
 * The store as the engine uses it, telling `committed` after each transaction that recorded
 * events or top-up intents has committed (never before, and never for one that rolled back):
 * background work is woken by the commit itself, not by a polling loop.
 */
export function signalCommits(store: Store, committed: (signals: CommitSignals) => void): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'write') return Reflect.get(target, prop, receiver);
      return async <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => {
        let signals: CommitSignals = { events: false, topups: false };
        const result = await target.write((tx) => {
          // A re-run of the transaction starts over.
          signals = { events: false, topups: false };
          return fn(watch(tx, signals));
        });
        if (signals.events || signals.topups) committed(signals);
        return result;
      };
    },
  });
}

const crossed = (before: AccountState, after: AccountState) => topupCrossed(before, after);

/** `tx.topups`, telling when an intent was recorded by arming auto top-up. */
function watchTopups(topups: TopupTx, signals: CommitSignals): TopupTx {
  return new Proxy(topups, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop !== 'insertIntent') return value.bind(target);
      return async (...args: unknown[]) => {
        const inserted: unknown = await Reflect.apply(value, target, args);
        if (inserted === true) signals.topups = true;
        return inserted;
      };
    },
  });
}

function watch(tx: WriteTx, signals: CommitSignals): WriteTx {
  // Made on first use: most transactions never touch auto top-up.
  let topups: TopupTx | undefined;
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'topups') {
        topups ??= watchTopups(target.topups, signals);
        return topups;
      }
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'insertEvents') {
        return (events: readonly EventDraft[]) => {
          if (events.length > 0) signals.events = true;
          return Reflect.apply(value, target, [events]);
        };
      }
      if (prop === 'updateAccount') {
        return (...args: unknown[]) => {
          const [before, after] = args as [AccountState, AccountState];
          if (crossed(before, after)) signals.topups = true;
          return Reflect.apply(value, target, args);
        };
      }
      if (prop === 'writeBatch') {
        return (write: BatchWrite) => {
          if (write.events.length > 0) signals.events = true;
          if (write.changes.some((c) => crossed(c.before, c.after))) signals.topups = true;
          return Reflect.apply(value, target, [write]);
        };
      }
      return value.bind(target);
    },
  });
}
