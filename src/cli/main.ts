#!/usr/bin/env node
// Kept tiny and free of static imports that reach node:sqlite: static imports are evaluated
// before any line here runs, so an old Node would die on the import instead of being told why.
import { nodeSupportProblem } from './node-support.ts';

async function hasSqlite(): Promise<boolean> {
  try {
    await import('node:sqlite');
    return true;
  } catch {
    return false;
  }
}

const problem = nodeSupportProblem(process.versions.node, await hasSqlite());
if (problem === null) {
  const { start } = await import('./program.ts');
  start();
} else {
  process.stderr.write(`error: ${problem}\n`);
  process.exitCode = 1;
}
