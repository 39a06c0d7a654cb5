/**
 * The admin API, called from the same origin. With admin tokens configured, every call carries
 * `Authorization: Bearer <token>`; the token lives in this tab's sessionStorage at most (never
 * localStorage, never a cookie), so it is gone when the tab closes.
 */

const TOKEN_KEY = 'tributary.admin-token';

/** An answer other than 2xx, with the admin API's own message (`{"message": ...}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let token: string | null = readStoredToken();

function readStoredToken(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null;
  }
}

export function currentToken(): string | null {
  return token;
}

/** Sets (or with null, forgets) the bearer token for this tab. */
export function setToken(value: string | null): void {
  token = value;
  try {
    if (value === null) globalThis.sessionStorage?.removeItem(TOKEN_KEY);
    else globalThis.sessionStorage?.setItem(TOKEN_KEY, value);
  } catch {
    // Storage refused (private mode): the token lasts as long as the page.
  }
}

/** The error message of an admin API answer, from its JSON body or its status line. */
export function errorMessage(status: number, statusText: string, body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && 'message' in parsed) {
      const message = parsed.message;
      if (typeof message === 'string' && message !== '') return message;
    }
  } catch {
    // not JSON
  }
  const text = body.trim();
  return text !== '' && text.length < 300 ? text : `${status} ${statusText}`.trim();
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/** Calls the admin API; resolves with the parsed JSON body (undefined when empty). */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, res.statusText, text), path);
  if (text === '') return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? JSON.parse(text) : text) as T;
}

/** The raw answer, for bodies that are not JSON (an invocation's output). */
export async function apiRaw(path: string): Promise<{ contentType: string; bytes: Uint8Array }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) {
    const text = new TextDecoder().decode(bytes);
    throw new ApiError(res.status, errorMessage(res.status, res.statusText, text), path);
  }
  return { contentType: res.headers.get('content-type') ?? '', bytes };
}

/** A query string from the given parameters, leaving out empty ones. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  }
  const s = search.toString();
  return s === '' ? '' : `?${s}`;
}
