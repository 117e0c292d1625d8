// One JSON request to a server process started by server-process.ts, with its app or admin key.
// Never throws: a network failure is status 0 with the error's message.
import { SERVER_ADMIN_KEY, SERVER_APP_KEY } from './server-process.ts';

export type Json = Record<string, unknown>;

/** A number field of an answer; NaN when it is missing or not a number, so any check on it fails. */
export const num = (body: Json, field: string): number =>
  typeof body[field] === 'number' ? (body[field] as number) : Number.NaN;

export async function call(
  url: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { as?: 'app' | 'admin'; body?: Json; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json }> {
  const key = options.as === 'admin' ? SERVER_ADMIN_KEY : SERVER_APP_KEY;
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...options.headers };
  if (options.body) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      redirect: 'manual',
      ...(options.body ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    const body = res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Json) : {};
    return { status: res.status, body };
  } catch (err) {
    return { status: 0, body: { error: err instanceof Error ? err.message : String(err) } };
  }
}
