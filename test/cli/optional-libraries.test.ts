import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from './cli-helpers.ts';

// Code a process keeps loaded is live heap, and V8 lets each old generation grow to a multiple
// of what is live before collecting (docs/SCALING.md, session 14): a service on the embedded
// store must not hold the libraries only PostgreSQL, Redis or a legacy import need, nor Node's
// own fetch implementation (undici), which an ES module import of node:http loads.
const OPTIONAL = ['pg', 'ioredis', 'csv-parse', 'cli-progress', 'undici'];

/** Those of OPTIONAL a fresh process loads while it imports the CLI and runs `body`. */
function librariesLoaded(body: string): string[] {
  const src = (file: string) => JSON.stringify(pathToFileURL(path.join(ROOT, 'src', file)).href);
  const script = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const found = next(specifier, context);
    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(found.url);
    if (m) seen.add(m[1]);
    return found;
  },
});
const { main } = await import(${src('cli/program.ts')});
const { openStore } = await import(${src('store/open-store.ts')});
void main;
${body}
if (process.moduleLoadList.includes('NativeModule internal/deps/undici/undici')) seen.add('undici');
process.stdout.write(JSON.stringify([...seen]));`;
  // A file, not --eval: a worker thread (SQLite's writer) inherits the flags and refuses --input-type.
  const file = path.join(tempDir(), 'probe.mjs');
  writeFileSync(file, script);
  const run = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as string[];
  return OPTIONAL.filter((name) => seen.includes(name));
}

describe('the CLI and a SQLite store load no optional library', () => {
  it('importing every command and opening a SQLite file loads neither pg, ioredis, csv-parse, cli-progress nor undici', () => {
    const db = path.join(tempDir(), 'lazy.db');
    const loaded = librariesLoaded(`
const store = openStore(${JSON.stringify(`sqlite:${db}`)}, {});
await store.migrate();
await store.close();`);
    assert.deepEqual(loaded, []);
  });

  it('opening a PostgreSQL store loads pg, and only then (the check above can see a load)', () => {
    const loaded = librariesLoaded(`
const store = openStore('postgres://127.0.0.1:1/none', {});
await store.close();`);
    assert.deepEqual(loaded, ['pg']);
  });
});
