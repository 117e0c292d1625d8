/** The oldest Node with `node:sqlite`, which tokenmeter's SQLite store is built on. */
export const OLDEST_NODE = '22.5';

/**
 * Why this Node cannot run tokenmeter, in one line, or null when it can. `hasSqlite` is whether
 * `node:sqlite` could be loaded: Node 22.5 to 22.12 have it only behind --experimental-sqlite.
 */
export function nodeSupportProblem(version: string, hasSqlite: boolean): string | null {
  if (hasSqlite) return null;
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const tooOld = major < 22 || (major === 22 && minor < 5);
  const why = tooOld
    ? `this is Node ${version}, which has no node:sqlite`
    : `this Node ${version} has node:sqlite only with --experimental-sqlite`;
  return (
    `tokenmeter needs Node ${OLDEST_NODE} or newer (${why}); ` +
    'in the tokenmeter checkout, `npx tokenmeter` runs it on the Node 24 it installs'
  );
}
