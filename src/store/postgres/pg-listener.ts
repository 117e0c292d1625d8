import type pg from 'pg';
import { pgModule } from './pg-module.ts';

/** How long to wait before opening a dropped listening connection again. */
const RECONNECT_MS = 1_000;

/**
 * LISTEN on `channel` over a connection of its own. A connection the server drops (restart,
 * failover) is opened again after a second; while it is down nothing is heard, and whoever
 * listens also polls, so nothing is missed, only heard later. `onNotify` is also called after
 * each (re)connection, for what was committed while nobody listened.
 */
export async function listenOn(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopped = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  const open = async (): Promise<void> => {
    const c = new (pgModule().Client)({ connectionString: url });
    c.on('error', () => {
      if (client === c) client = null;
      void c.end().catch(() => {});
      if (!stopped) schedule();
    });
    c.on('notification', () => onNotify());
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    if (stopped) {
      await c.end();
      return;
    }
    client = c;
    onNotify();
  };
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      open().catch(() => {
        if (!stopped) schedule();
      });
    }, RECONNECT_MS);
    timer.unref();
  };
  await open();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await client?.end().catch(() => {});
    client = null;
  };
}
