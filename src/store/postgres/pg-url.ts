/** A connection string with the password (and any query string, which may carry one) removed. */
export function redactPgUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${u.username}@` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparseable url)';
  }
}
