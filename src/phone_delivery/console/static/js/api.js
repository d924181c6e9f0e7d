// The console's only way to the service: its public API, with the bearer token this page got at
// sign-in. The token lives in this module's memory only (never localStorage or a cookie): reloading
// the page or closing it signs out.

/** The service's base path: the console is served at {base}/console/. */
export const BASE = location.pathname.replace(/\/console(\/.*)?$/, '');

const session = { token: null, expiresAt: 0, clientId: null, environmentId: null };
const listeners = new Set();

/** An answer other than 2xx, with PingOne's error body: id, code, message, details[{code, target, message}]. */
export class ApiError extends Error {
  constructor(status, body) {
    const message = body?.message ?? body?.error_description ?? body?.error ?? `The service answered HTTP ${status}.`;
    super(message);
    this.status = status;
    this.body = body;
    this.code = body?.code ?? body?.error ?? null;
    this.details = Array.isArray(body?.details) ? body.details : [];
  }
}

export function onSessionEnd(listener) {
  listeners.add(listener);
}

export function signedIn() {
  return session.token !== null && Date.now() < session.expiresAt;
}

export function whoAmI() {
  return { clientId: session.clientId, environmentId: session.environmentId };
}

export function signOut(reason = null) {
  session.token = null;
  session.expiresAt = 0;
  for (const listener of listeners) listener(reason);
}

function basic(user, password) {
  // btoa takes Latin-1 only: encode as UTF-8 bytes first.
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return btoa(String.fromCharCode(...bytes));
}

async function bodyOf(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

/** OAuth 2 client credentials at {envID}/as/token, client authentication by HTTP Basic. */
export async function signIn(environmentId, clientId, clientSecret) {
  const response = await fetch(`${BASE}/${encodeURIComponent(environmentId)}/as/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${basic(clientId, clientSecret)}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
    credentials: 'omit',
    cache: 'no-store',
  });
  const body = await bodyOf(response);
  if (!response.ok) throw new ApiError(response.status, body);
  session.token = body.access_token;
  session.expiresAt = Date.now() + (Number(body.expires_in) || 3600) * 1000 - 30_000;
  session.clientId = clientId;
  session.environmentId = environmentId;
}

/** Call the API; `path` starts with /v1 (or is an href the API returned). JSON in, JSON out. */
export async function call(method, path, body) {
  if (!signedIn()) {
    signOut('Your session has ended: sign in again.');
    throw new ApiError(401, { message: 'Not signed in.' });
  }
  const headers = { Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(sameOrigin(path), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const answer = await bodyOf(response);
  if (response.status === 401) signOut('The service no longer accepts this session: sign in again.');
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

/** Links in API answers are absolute; the page calls its own origin only, by path. */
export function sameOrigin(path) {
  if (path.startsWith('/v1') || path.startsWith('/sandbox')) return `${BASE}${path}`;
  const url = new URL(path, location.href);
  return url.pathname + url.search;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body ?? {});
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

/** Every item of a collection, following _links.next up to `pages` pages. */
export async function collect(path, key, pages = 10) {
  const items = [];
  let next = path;
  let more = false;
  for (let i = 0; next && i < pages; i += 1) {
    const page = await get(next);
    items.push(...(page?._embedded?.[key] ?? []));
    next = page?._links?.next?.href ?? null;
    more = Boolean(next);
  }
  return { items, more };
}

/** Paths of an environment's resources. */
export function envPath(envId, rest = '') {
  return `/v1/environments/${encodeURIComponent(envId)}${rest}`;
}

export function sendersPath(envId, senderId) {
  const path = envPath(envId, '/notificationsSettings/phoneDeliverySettings');
  return senderId ? `${path}/${encodeURIComponent(senderId)}` : path;
}

/** Dev mode's credentials, when this service runs in dev mode and this browser is on its machine. */
export async function devCredentials() {
  try {
    const response = await fetch(`${BASE}/console/dev-credentials`, { credentials: 'omit', cache: 'no-store' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
