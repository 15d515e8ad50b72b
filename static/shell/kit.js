/* What both shells (/console and /h5) share: the session, REST, the hash router, page loading, the live socket
 * and the `hub` object injected into every page (Vue.inject('hub')). */
import { createRest } from '../core/rest.js';
import { loadSession, saveGrant, saveUser, clearSession, getToken } from '../core/session.js';

export { loadSession, saveGrant, clearSession };
import { HubSocket } from '../core/socket.js';

const { reactive, markRaw } = Vue;

export const ROLE_NAMES = Object.freeze({
  resident: '居民', doctor: '医生', assistant: '医助', team_leader: '团队长', admin: '机构管理员',
  supervisor: '监管人员', sysadmin: '系统管理员',
});

/** "区域 · 机构 · 团队" of a user (from GET /api/me), or "". */
export function scopeText(user) {
  const s = (user && user.scope) || {};
  return [s.region_name || s.region, s.institution_name, s.team_name].filter(Boolean).join(' · ');
}

export function parseHash(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs));
  return { path: path.startsWith('/') ? path : `/${path}`, query };
}

export function hashOf(path, query) {
  const qs = new URLSearchParams(Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== null
    && v !== '')).toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

/** The reactive route ({path, query}) following location.hash. */
export function createRoute() {
  const route = reactive(parseHash(location.hash));
  window.addEventListener('hashchange', () => Object.assign(route, parseHash(location.hash)));
  return route;
}

export function go(path, query) {
  const target = hashOf(path, query);
  if (location.hash !== target) location.hash = target;
}

const modules = new Map();

/** A page module's default export, loaded once (dynamic import of its absolute URL). */
export function loadPage(url) {
  if (!modules.has(url)) {
    modules.set(url, import(url).then((m) => {
      const def = m.default || {};
      return { title: def.title || '', component: markRaw(def.component || def) };
    }).catch((err) => { modules.delete(url); throw err; }));
  }
  return modules.get(url);
}

/** The view for a route path: the declared page's loaded module, or 无权访问 when some other role has a page
 * there (GET /api/screens/known), 页面不存在 when none has, 页面加载失败 when its module fails. */
export async function viewOf({ app, rest, pages, path }) {
  const page = pages.find((p) => p.path === path);
  if (!page) {
    const known = await rest.get(`/api/screens/known?app=${app}&path=${encodeURIComponent(path)}`)
      .then((r) => !!r.known, () => false);
    return { kind: known ? 'forbidden' : 'missing' };
  }
  try {
    const loaded = await loadPage(page.module);
    return { kind: 'page', path, title: loaded.title || page.title, component: loaded.component };
  } catch (err) {
    console.warn('page module failed', page.module, err);
    return { kind: 'error', message: String(err && err.message || err) };
  }
}

/** Login, the session, REST and the socket: one per shell. */
export function createHubState({ app, onLoggedOut }) {
  const state = reactive({ user: null, pages: [], loaded: false, notices: [], unread: 0, socketStatus: 'idle' });
  let socket = null;
  const rest = createRest({ getToken: () => getToken(), onUnauthorized: () => logout() });
  const listeners = new Map();
  // `hub.socket` stays the same object across logins: pages subscribe with on/off.
  const socketFacade = markRaw({
    on(type, fn) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
      const off = socket ? socket.on(type, fn) : null;
      return () => { listeners.get(type).delete(fn); if (off) off(); };
    },
    off(type, fn) {
      if (listeners.has(type)) listeners.get(type).delete(fn);
      if (socket) socket.off(type, fn);
    },
    get status() { return state.socketStatus; },
    get raw() { return socket; },
  });

  function addNotice(n, unread) {
    if (state.notices.some((x) => x.inbox === n.inbox)) return;
    state.notices = [n, ...state.notices].sort((a, b) => b.inbox - a.inbox).slice(0, 100);
    if (unread) state.unread += 1;
  }

  function startSocket() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new HubSocket({
      url: `${proto}//${location.host}/ws`,
      getToken: () => getToken(),
      onStatus: (status) => {
        state.socketStatus = status;
        if (status === 'auth') logout();
      },
    });
    socket.on('notice', (frame, info) => addNotice(frame, !(info && info.replay)));
    for (const [type, fns] of listeners) for (const fn of fns) socket.on(type, fn);
    socket.start();
  }

  async function enter() {
    const [me, screens, inbox] = await Promise.all([
      rest.get('/api/me'),
      rest.get(`/api/screens?app=${app}`),
      rest.get('/api/notices?limit=20').catch(() => ({ items: [] })),
    ]);
    saveUser(me);
    state.pages = screens.pages;
    state.user = { ...(loadSession() || {}).user, ...me };
    for (const n of inbox.items || []) addNotice(n, false);
    state.loaded = true;
    startSocket();
  }

  async function login(username, password) {
    const grant = await rest.post('/api/auth/token', { username, password });
    saveGrant(grant);
    await enter();
  }

  async function resume() {
    if (!loadSession()) return false;
    try {
      await enter();
      return true;
    } catch (err) {
      if (err && err.status === 401) return false;
      throw err;
    }
  }

  function logout(remote) {
    if (remote && getToken()) rest.post('/api/auth/logout', {}).catch(() => {});
    if (socket) { socket.stop(); socket = null; }
    clearSession();
    state.user = null; state.pages = []; state.loaded = false; state.notices = []; state.unread = 0;
    if (onLoggedOut) onLoggedOut();
  }

  return { state, rest, socket: socketFacade, login, resume, logout };
}
