import type * as Http from 'node:http';

/**
 * node:http's exports, taken without an ES module `import`: importing a built-in as a module
 * reads every one of its exports, and node:http's WebSocket getters then load Node's fetch
 * implementation (undici), ~2.5 MB of live heap the server would keep for nothing. Live heap
 * matters beyond itself: V8 lets each old generation grow to a multiple of it (docs/SCALING.md,
 * session 14). Types can still be imported with `import type`.
 */
export const nodeHttp: typeof Http = process.getBuiltinModule('node:http');
