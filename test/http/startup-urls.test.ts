// Regression (issue 19): the start-up log named the API docs, metrics and the demo page, but
// never the billing page or the admin console, nor how to get into the console.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../src/http/serve.ts';

/** Starts the service with a logger that keeps its messages; returns them and the URL. */
async function startupLog(demo: boolean): Promise<{ url: string; messages: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-startup-'));
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
      }
      done();
    },
  });
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    demo,
    env: { DATABASE_URL: `sqlite:${join(dir, 'tokens.db')}` },
    logger: pino({ level: 'info' }, sink),
  });
  try {
    return { url: server.url, messages };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('start-up URLs', () => {
  it('regression: demo mode prints the copilot, billing, admin console and API docs URLs', async () => {
    const { url, messages } = await startupLog(true);
    const text = messages.join('\n');
    for (const page of [`${url}/ `, `${url}/billing`, `${url}/admin`, `${url}/docs`]) {
      assert.ok(text.includes(page.trim()), `missing ${page} in:\n${text}`);
    }
    assert.match(text, /Admin console: .*\/admin .*Sign in as the demo operator/);
  });

  it('outside demo mode it says how to get an admin key for the console', async () => {
    const { url, messages } = await startupLog(false);
    const text = messages.join('\n');
    assert.ok(text.includes(`${url}/admin`));
    assert.match(text, /keys create --name ops --scope admin/);
    assert.ok(!text.includes('Copilot'));
  });
});
