import type { EventDraft } from '../core/event.ts';
import type { BatchWrite, Store, WriteTx } from '../store/store.ts';

/**
 * The store as the engine uses it, telling `committed` after each transaction that recorded
 * events has committed (never before, and never for one that rolled back): the dispatcher is
 * woken by the commit itself, not by a polling loop.
 */
export function signalEvents(store: Store, committed: () => void): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'write') return Reflect.get(target, prop, receiver);
      return async <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => {
        let recorded = false;
        const result = await target.write((tx) => {
          // A re-run of the transaction starts over.
          recorded = false;
          return fn(
            watch(tx, () => {
              recorded = true;
            }),
          );
        });
        if (recorded) committed();
        return result;
      };
    },
  });
}

function watch(tx: WriteTx, recorded: () => void): WriteTx {
  return new Proxy(tx, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'insertEvents') {
        return (events: readonly EventDraft[]) => {
          if (events.length > 0) recorded();
          return Reflect.apply(value, target, [events]);
        };
      }
      if (prop === 'writeBatch') {
        return (write: BatchWrite) => {
          if (write.events.length > 0) recorded();
          return Reflect.apply(value, target, [write]);
        };
      }
      return value.bind(target);
    },
  });
}
