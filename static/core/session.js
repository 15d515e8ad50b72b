/* The login session shared by every app on the origin (the chat page, /console, /h5): the access token and
 * the user, in sessionStorage key `jtyh.session` ({token, user, expires_at}). No DOM code. */
export const SESSION_KEY = 'jtyh.session';

function store(storage) {
  return storage || globalThis.sessionStorage;
}

/** The stored session, or null (none, unreadable, or past its expiry). */
export function loadSession(storage) {
  try {
    const raw = store(storage).getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    if (!s || typeof s.token !== 'string' || !s.user) return null;
    if (s.expires_at && Date.now() >= s.expires_at) return null;
    return s;
  } catch (_err) {
    return null;
  }
}

/** Keep a token answer of POST /api/auth/token ({access_token, expires_in, user}). */
export function saveGrant(grant, storage) {
  const s = {
    token: grant.access_token,
    user: grant.user,
    expires_at: grant.expires_in ? Date.now() + grant.expires_in * 1000 : null,
  };
  store(storage).setItem(SESSION_KEY, JSON.stringify(s));
  return s;
}

/** Update the stored user (after GET /api/me), keeping the token. */
export function saveUser(user, storage) {
  const s = loadSession(storage);
  if (!s) return null;
  s.user = { ...s.user, ...user };
  store(storage).setItem(SESSION_KEY, JSON.stringify(s));
  return s;
}

export function clearSession(storage) {
  try { store(storage).removeItem(SESSION_KEY); } catch (_err) { /* storage gone: nothing to clear */ }
}

export function getToken(storage) {
  const s = loadSession(storage);
  return s ? s.token : null;
}
