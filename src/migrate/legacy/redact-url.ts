/** A connection URL safe to print: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparseable: show only the scheme, since the rest may hold a password.
    return `${url.split(':')[0] ?? ''}://...`;
  }
}
