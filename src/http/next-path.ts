const BASE = new URL('http://tokenmeter.invalid/');
// Printable ASCII without space or backslash: browsers strip tabs and newlines from URLs and
// read a backslash as a slash, so either can turn `/x` into `//host`.
const PLAIN_PATH = /^\/[\x21-\x5b\x5d-\x7e]*$/;

/**
 * The local path `/session/start` may send a browser to, or null when `next` is not a plain
 * same-origin path. Checked as written and once percent-decoded (a proxy or an app may decode
 * it again), and finally resolved the way a browser resolves a `Location`.
 */
export function nextPath(next: string | undefined): string | null {
  if (next === undefined) return '/';
  if (!PLAIN_PATH.test(next) || next.startsWith('//')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return null;
  }
  if (!decodedPlain(decoded)) return null;
  const resolved = new URL(next, BASE);
  return resolved.origin === BASE.origin ? next : null;
}

/** Once decoded, any character but controls and backslashes (so `/caf%C3%A9` stays valid). */
function decodedPlain(path: string): boolean {
  if (!path.startsWith('/') || path.startsWith('//')) return false;
  for (const char of path) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f) || char === '\\') return false;
  }
  return true;
}
