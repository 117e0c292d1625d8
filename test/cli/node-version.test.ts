import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nodeSupportProblem } from '../../src/cli/node-support.ts';
import { MAIN, ROOT, tempDir } from './cli-helpers.ts';

const dir = tempDir();

/** Asserts the run told, in one line on stderr and exit 1, which Node tokenmeter needs. */
function assertToldToUpgrade(run: { status: number | null; stdout: string; stderr: string }, version: RegExp): void {
  assert.equal(run.status, 1, `exit ${run.status}\nstderr:\n${run.stderr}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${run.stderr}`);
  assert.match(lines[0] ?? '', /^error: tokenmeter needs Node 22\.5 or newer /);
  assert.match(lines[0] ?? '', version);
  assert.match(lines[0] ?? '', /`npx tokenmeter`/);
  assert.doesNotMatch(run.stderr, /ERR_UNKNOWN_BUILTIN_MODULE|\n\s+at /);
}

/** A Node older than 22.5 on this machine's PATH (the machine's own node), or null. */
function oldNode(): { bin: string; version: string } | null {
  const which = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' });
  const candidates = new Set([...(which.stdout ?? '').split('\n').filter(Boolean), '/usr/bin/node']);
  for (const bin of candidates) {
    if (!fs.existsSync(bin)) continue;
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim().replace(/^v/, '') ?? '';
    const [major = 0, minor = 0] = v.split('.').map(Number);
    if (major > 0 && (major < 22 || (major === 22 && minor < 5))) return { bin, version: v };
  }
  return null;
}

describe('a Node without node:sqlite: one line saying which Node tokenmeter needs', () => {
  it('nodeSupportProblem names the version, why, and npx tokenmeter', () => {
    assert.equal(nodeSupportProblem('24.21.0', true), null);
    assert.match(
      nodeSupportProblem('20.20.2', false) ?? '',
      /needs Node 22\.5 or newer \(this is Node 20\.20\.2, which has no node:sqlite\)/,
    );
    assert.match(nodeSupportProblem('22.4.1', false) ?? '', /this is Node 22\.4\.1, which has no node:sqlite/);
    assert.match(nodeSupportProblem('22.12.0', false) ?? '', /only with --experimental-sqlite/);
    assert.match(nodeSupportProblem('20.20.2', false) ?? '', /`npx tokenmeter`/);
  });

  it('Node 24 with node:sqlite switched off (--no-experimental-sqlite): told, not a stack trace', () => {
    const run = spawnSync(process.execPath, ['--no-experimental-sqlite', MAIN, 'balance', '7'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assertToldToUpgrade(run, /Node 24\.\d+\.\d+ has node:sqlite only with --experimental-sqlite/);
  });

  it("the machine's own older Node runs the CLI entry and is told the same", (t) => {
    const old = oldNode();
    if (old === null) {
      t.skip('no Node older than 22.5 on this machine: only the simulated case above ran');
      return;
    }
    // The entry as `npm run build` emits it (types stripped, .ts specifiers as .js), beside a
    // program that would fail loudly if the entry ever loaded it on an old Node.
    const out = path.join(dir, 'cli');
    fs.mkdirSync(out, { recursive: true });
    for (const name of ['main', 'node-support']) {
      const source = fs.readFileSync(path.join(ROOT, 'src/cli', `${name}.ts`), 'utf8');
      const js = stripTypeScriptTypes(source).replaceAll(/'\.\/([\w-]+)\.ts'/g, "'./$1.js'");
      fs.writeFileSync(path.join(out, `${name}.js`), js);
    }
    fs.writeFileSync(path.join(out, 'program.js'), "import 'node:sqlite';\nexport function start() {}\n");
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const run = spawnSync(old.bin, [path.join(out, 'main.js'), 'balance', '7'], { encoding: 'utf8' });
    assertToldToUpgrade(
      run,
      new RegExp(`this is Node ${old.version.replaceAll('.', '\\.')}, which has no node:sqlite`),
    );
  });
});
