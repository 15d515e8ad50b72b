/* 家庭好医 H5 在线咨询 — an ES module on the client core (static/core/), no build step.
 *
 * Talks to the hub exactly as /work/shared/PROTOCOL.md says: REST under /api/ for login, lists, history and
 * ending a consultation (with a timeout on every call); everything live through one HubSocket (auth, heartbeat,
 * liveness, reconnect, sync, seq contiguity, pending resend: static/core/socket.js). All user text goes into the
 * page through textContent, never innerHTML.
 */
import { HubSocket } from './core/socket.js';
import { ERROR_TEXT as CORE_ERROR_TEXT } from './core/protocol.js';
import { createRest } from './core/rest.js';
import { clearSession, loadSession, saveGrant } from './core/session.js';

const TYPING_SEND_EVERY_MS = 3000;      // the protocol's typing frames are not stored: a hint, throttled
const TYPING_SHOW_MS = 4000;
const RECALL_FALLBACK_SECS = 120;       // only until welcome tells the hub's recall window
const REST_TIMEOUT_MS = 10000;          // a REST call that hangs this long is given up ("timeout")
const HISTORY_PAGE = 50;
const PAGE_LIMIT = 200;                 // the API's largest page
const LIST_LIMIT = 100;
const TOAST_MS = 4000;
const END_CONFIRM_MS = 3000;
const DOCTORS_STALE_MS = 60 * 1000;     // back on the list after this long: ask for 我的家庭医生 again

const CONN_TEXT = { connecting: '连接中', open: '已连接', reconnecting: '重新连接中' };
const ERROR_TEXT = { ...CORE_ERROR_TEXT };
const UNSENT_TEXT = CORE_ERROR_TEXT.timeout; // 未发送，点击重试

// -- state: everything lives here, in memory, for this tab ------------------------------------------------
const state = {
  session: null,          // {token, user: {id, role, name}}
  convs: new Map(),       // conversation id → summary as the API renders it, kept current by live frames
  doctors: null,          // a resident's family doctors (GET /api/consultations/doctors); null until loaded
  doctorsFailed: false,
  doctorsAt: 0,           // when they were last asked for (Date.now())
  starting: null,         // id of the doctor a consultation is being opened with (one tap at a time)
  tab: 'open',
  current: null,          // id of the conversation on screen
  stores: new Map(),      // conversation id → message store (only conversations opened in this tab)
  pending: new Map(),     // client frame id → {conv, text, el, seq, failed, retryable}
  inboxSeen: new Set(),
  notices: [],
  unseenNotices: 0,
  quietNotices: false,    // the very first sync replays the whole inbox: list it, but no toasts
  sock: null,             // the HubSocket of this session
  conn: 'idle',
  lastTypingSentAt: 0,
  typingTimer: null,
  listTimer: null,
  recallTimer: null,
  endConfirmTimer: null,
};

const $ = (id) => document.getElementById(id);

/** Build an element; string children become text nodes, so user text is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const me = () => (state.session ? state.session.user : null);
const serverNow = () => (state.sock ? state.sock.serverNow() : Date.now());
const recallWindowMs = () => ((state.sock && state.sock.recallSecs) ?? RECALL_FALLBACK_SECS) * 1000;

function fmtTime(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return hm;
  return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
}

function peerOf(conv) {
  const user = me();
  if (!conv) return null;
  return user && user.id === conv.resident.id ? conv.doctor : conv.resident;
}

// -- toasts and notices -------------------------------------------------------------------------------------
function toast(text, kind = 'info') {
  const el = h('div', { className: `toast ${kind}`, 'data-testid': 'toast', role: 'status' }, text);
  $('toasts').append(el);
  setTimeout(() => el.remove(), TOAST_MS);
}

function onNotice(n) {
  if (typeof n.inbox === 'number') {
    if (state.inboxSeen.has(n.inbox)) return;
    state.inboxSeen.add(n.inbox);
  }
  state.notices.unshift(n);
  if (!state.quietNotices) {
    state.unseenNotices += 1;
    toast(n.body ? `${n.title}：${n.body}` : n.title, 'notice');
  }
  renderNotices();
  if (n.kind === 'consultation') scheduleListRefresh();
}

function renderNotices() {
  const list = $('notice-list');
  list.replaceChildren(...state.notices.map((n) => {
    const conv = n.data && typeof n.data.conv === 'string' ? n.data.conv : null;
    return h('li', { className: 'notice', 'data-testid': 'notice', 'data-kind': n.kind },
      h('button', {
        type: 'button', className: 'notice-btn', disabled: !conv,
        onclick: () => { if (conv) { toggleNotices(false); go(`#/c/${encodeURIComponent(conv)}`); } },
      },
      h('span', { className: 'notice-title' }, n.title || '通知'),
      h('span', { className: 'notice-time' }, fmtTime(n.ts)),
      n.body ? h('span', { className: 'notice-body' }, n.body) : null));
  }));
  $('notice-empty').hidden = state.notices.length > 0;
  const count = $('bell-count');
  count.hidden = state.unseenNotices === 0;
  count.textContent = state.unseenNotices > 99 ? '99+' : String(state.unseenNotices);
}

function toggleNotices(show) {
  const panel = $('notices');
  panel.hidden = show === undefined ? !panel.hidden : !show;
  if (!panel.hidden) {
    state.unseenNotices = 0;
    renderNotices();
  }
}

// -- REST ---------------------------------------------------------------------------------------------------
// Every call has a timeout (code "timeout"); errors are RestError{status, code, message} in the hub's shape.
const rest = createRest({
  getToken: () => (state.session ? state.session.token : null),
  timeoutMs: REST_TIMEOUT_MS,
  onUnauthorized: () => expireSession(),
});

function api(path, { method = 'GET', body } = {}) {
  return rest.request(method, path, body);
}

// -- session: shared with /console and /h5 through static/core/session.js (sessionStorage `jtyh.session`) ------
function resetState() {
  disconnect();
  state.session = null;
  state.convs.clear();
  state.doctors = null;
  state.doctorsFailed = false;
  state.doctorsAt = 0;
  state.starting = null;
  state.stores.clear();
  state.pending.clear();
  state.current = null;
  state.inboxSeen.clear();
  state.notices = [];
  state.unseenNotices = 0;
  $('msg-list').replaceChildren();
  $('conv-list').replaceChildren();
  $('doctors').replaceChildren();
  renderNotices();
  clearSession();
}

function logout(message) {
  resetState();
  $('login-error').hidden = !message;
  $('login-error').textContent = message || '';
  if (location.hash && location.hash !== '#/') history.replaceState(null, '', location.pathname);
  route();
}

function expireSession() {
  if (state.session) logout('登录已失效，请重新登录');
}

async function onLogin(event) {
  event.preventDefault();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const errorEl = $('login-error');
  errorEl.hidden = true;
  if (!username || !password) {
    errorEl.textContent = '请输入用户名和密码';
    errorEl.hidden = false;
    return;
  }
  const button = $('login-submit');
  button.disabled = true;
  button.textContent = '登录中…';
  try {
    const grant = await api('/api/auth/token', { method: 'POST', body: { username, password } });
    try {
      state.session = saveGrant(grant);
    } catch { // storage refused (private mode): this tab only
      state.session = { token: grant.access_token, user: grant.user };
    }
    $('login-password').value = '';
    startSession();
  } catch (err) {
    errorEl.textContent = err.code === 'invalid_credentials' ? '用户名或密码错误' : err.message;
    errorEl.hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = '登录';
  }
}

function startSession() {
  const user = me();
  $('me').textContent = `${user.name}（${roleName(user.role)}）`;
  $('start-section').hidden = user.role !== 'resident';
  state.quietNotices = true;
  connect();
  refreshList();
  refreshDoctors();
  route();
}

function roleName(role) {
  return { resident: '居民', doctor: '医生', assistant: '医助', team_leader: '团队长', admin: '机构管理员',
    supervisor: '监管', sysadmin: '系统管理员' }[role] || role;
}

// -- WebSocket ----------------------------------------------------------------------------------------------
function setConn(conn) {
  state.conn = conn;
  const el = $('conn');
  el.hidden = conn === 'idle';
  el.dataset.state = conn;
  el.textContent = CONN_TEXT[conn] || '';
}

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** One HubSocket per login: it connects, authenticates, keeps the socket alive and in sync. */
function connect() {
  if (!state.session || state.sock) return;
  const sock = new HubSocket({
    url: wsUrl(),
    getToken: () => (state.session ? state.session.token : null),
    onStatus: onSocketStatus,
  });
  state.sock = sock;
  sock.on('welcome', onWelcome);
  sock.on('synced', onSynced);
  sock.on('message', onMessage);
  sock.on('ack', onAck);
  sock.on('send_failed', onSendFailed);
  sock.on('resend', onResend);
  sock.on('error', onErrorFrame);
  sock.on('read', onRead);
  sock.on('typing', onTyping);
  sock.on('recalled', onRecalled);
  sock.on('conv', onConvStatus);
  sock.on('notice', onNotice);
  sock.start();
}

function onSocketStatus(status) {
  if (status === 'auth') {
    expireSession(); // 4001: the token is no good any more; no reconnect
    return;
  }
  if (status === 'forbidden') toast('没有权限使用在线咨询', 'error');
  setConn(CONN_TEXT[status] ? status : 'idle');
}

function disconnect() {
  const sock = state.sock;
  state.sock = null;
  if (sock) sock.stop();
  setConn('idle');
}

/** A frame for the hub, if the socket is up (false otherwise: nothing is queued). */
function connected() {
  return !!(state.sock && state.sock.connected);
}

function onWelcome() {
  if (state.sock.connects > 1) { // unread counts of conversations not open here changed meanwhile
    refreshList();
    refreshDoctors();
  }
}

/** Ask for everything after what we hold in this conversation (the socket tracks it from history on). */
function sync(convId) {
  const store = state.stores.get(convId);
  if (!store || store.loading || store.syncing || !connected()) return;
  store.syncing = true;
  state.sock.sync([convId]);
}

function onSynced() {
  state.quietNotices = false;
  for (const [id, store] of state.stores) {
    if (!store.syncing) continue;
    store.syncing = false;
    fillGap(id);
  }
  markRead();
}

// -- messages -----------------------------------------------------------------------------------------------
function newStore() {
  return {
    msgs: new Map(),  // seq → entry
    els: new Map(),   // seq → <li>
    contig: 0,        // every seq up to this one is here (from where history starts): "last seq seen"
    maxSeq: 0,
    oldest: 1,
    maxOther: 0,      // highest seq the other side sent: they have read up to there at least
    peerRead: 0,
    readSent: 0,
    loading: true,
    syncing: false,
  };
}

function fillGap(convId) {
  const store = state.stores.get(convId);
  if (store && !store.loading && !store.syncing && store.maxSeq > store.contig) sync(convId);
}

function addToStore(store, m) {
  const user = me();
  const entry = {
    seq: m.seq, from: m.from || {}, kind: m.kind, text: m.text || '', ts: m.ts, recalled: !!m.recalled,
    mine: !!(m.from && user && m.from.id === user.id), provisional: !!m.provisional,
  };
  store.msgs.set(entry.seq, entry);
  store.maxSeq = Math.max(store.maxSeq, entry.seq);
  while (store.msgs.has(store.contig + 1)) store.contig += 1;
  if (!entry.mine) {
    store.maxOther = Math.max(store.maxOther, entry.seq);
    store.peerRead = Math.max(store.peerRead, entry.seq);
  }
  return entry;
}

function updateSummary(m) {
  const conv = state.convs.get(m.conv);
  if (!conv) {
    scheduleListRefresh();
    return;
  }
  if (m.seq <= (conv.last_seq || 0)) return;
  conv.last_seq = m.seq;
  conv.last_message = { seq: m.seq, from: m.from, kind: m.kind, text: m.text || '', ts: m.ts,
    recalled: !!m.recalled };
  const user = me();
  const reading = state.current === m.conv && document.visibilityState === 'visible';
  if (m.from && user && m.from.id !== user.id && !reading) conv.unread = (conv.unread || 0) + 1;
  scheduleRenderList();
}

function onMessage(m) {
  if (typeof m.conv !== 'string' || !Number.isInteger(m.seq)) return;
  updateSummary(m);
  const store = state.stores.get(m.conv);
  if (!store) return;
  const existing = store.msgs.get(m.seq);
  if (existing) { // (conv, seq) seen already: only refresh what a later copy may correct
    if (existing.provisional && !m.recalled) {
      existing.text = m.text || '';
      existing.provisional = false;
    }
    if (m.recalled && !existing.recalled) {
      existing.recalled = true;
      existing.text = '';
    }
    renderEntry(m.conv, existing);
    return;
  }
  const entry = addToStore(store, m);
  if (entry.mine) bindPending(m.conv, entry);
  if (!entry.mine && state.current === m.conv) hideTyping();
  if (state.current === m.conv) {
    const stick = nearBottom();
    renderEntry(m.conv, entry);
    renderReceipts(m.conv);
    if (stick || entry.mine) scrollToBottom();
    markRead();
  }
  fillGap(m.conv);
}

/** The stored text is what we typed, or that with sensitive words masked by `*` (one per character). */
function sameOrMasked(typed, stored) {
  if (typed === stored) return true;
  const a = Array.from(typed);
  const b = Array.from(stored);
  return a.length === b.length && b.some((ch) => ch === '*') && b.every((ch, i) => ch === a[i] || ch === '*');
}

/** Our own message came back as a `message` before its `ack`: reuse the pending bubble rather than show two. */
function bindPending(convId, entry) {
  for (const p of state.pending.values()) {
    if (p.conv === convId && p.seq === undefined && !p.failed && sameOrMasked(p.text, entry.text)) {
      p.seq = entry.seq;
      const store = state.stores.get(convId);
      store.els.set(entry.seq, p.el);
      return;
    }
  }
}

function onAck(a) {
  const p = state.pending.get(a.id);
  if (!p) return;
  state.pending.delete(a.id);
  if (p.failed) { // it was shown as failed (no ack in time) and got through after all
    p.failed = null;
    p.seq = undefined;
  }
  const store = state.stores.get(p.conv);
  if (!store) return;
  if (p.seq === undefined) {
    if (store.msgs.has(a.seq)) {
      if (p.el && store.els.get(a.seq) !== p.el) p.el.remove(); // the delivered copy is on screen already
    } else {
      const entry = addToStore(store, {
        seq: a.seq, from: me(), kind: 'text', text: p.text, ts: a.ts,
        provisional: !!(a.screen && a.screen.action === 'mask'), // the stored text comes with the message
      });
      store.els.set(entry.seq, p.el);
      if (state.current === p.conv) renderEntry(p.conv, entry);
      fillGap(p.conv);
    }
  } else if (state.current === p.conv) {
    renderEntry(p.conv, store.msgs.get(p.seq));
  }
  if (state.current === p.conv) renderReceipts(p.conv);
}

/** A send the hub refused (blocked word, closed consultation…) or that got no ack in time. */
function onSendFailed(f) {
  const p = state.pending.get(f.id);
  if (!p) return;
  const unsent = f.code === 'timeout';
  if (unsent && p.seq !== undefined) { // no ack, but the message itself came back: the hub has stored it
    state.pending.delete(f.id);
    state.sock.discard(f.id);
    return;
  }
  p.failed = unsent ? UNSENT_TEXT : ERROR_TEXT[f.code] || f.message || '发送失败';
  p.retryable = unsent || f.retryable;
  if (!p.retryable) { // final: the hub will never store it
    state.pending.delete(f.id);
    state.sock.discard(f.id);
  }
  const store = state.stores.get(p.conv);
  p.order = (store ? store.maxSeq : 0) + 0.5; // a refused message keeps its place among later ones
  renderPending(p);
  if (p.conv !== state.current && !unsent) toast(p.failed, 'error'); // else the bubble itself says why
}

/** A send that failed for want of a connection goes again now that the socket is back. */
function onResend(f) {
  const p = state.pending.get(f.id);
  if (!p) return;
  p.failed = null;
  renderPending(p);
}

/** Tap on 未发送，点击重试: the same id again (the hub stores it once even if the first one arrived). */
function retrySend(p) {
  if (!state.sock || !state.sock.retry(p.id)) return;
  p.failed = null;
  renderPending(p);
}

function onErrorFrame(f) {
  if (f.code === 'unauthorized') return; // a 4001 close follows
  toast(ERROR_TEXT[f.code] || f.message || '操作失败', 'error');
}

function onRead(f) {
  const user = me();
  if (!user || f.user === user.id || !Number.isInteger(f.seq)) return;
  const store = state.stores.get(f.conv);
  if (!store) return;
  store.peerRead = Math.max(store.peerRead, f.seq);
  if (state.current === f.conv) renderReceipts(f.conv);
}

function onTyping(f) {
  const user = me();
  if (!user || f.user === user.id || f.conv !== state.current) return;
  const conv = state.convs.get(f.conv);
  if (conv && conv.status !== 'open') return;
  $('typing').hidden = false;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
}

function hideTyping() {
  clearTimeout(state.typingTimer);
  $('typing').hidden = true;
}

function onRecalled(f) {
  const conv = state.convs.get(f.conv);
  if (conv && conv.last_message && conv.last_message.seq === f.seq) {
    conv.last_message.recalled = true;
    conv.last_message.text = '';
    scheduleRenderList();
  }
  const store = state.stores.get(f.conv);
  const entry = store && store.msgs.get(f.seq);
  if (!entry) return;
  entry.recalled = true;
  entry.text = '';
  if (state.current === f.conv) renderEntry(f.conv, entry);
}

function onConvStatus(f) {
  const conv = state.convs.get(f.conv);
  if (conv) {
    const wasOpen = conv.status === 'open';
    conv.status = f.status;
    const user = me();
    if (wasOpen && f.status === 'ended' && user && f.by !== user.id) toast('咨询已结束');
    scheduleRenderList();
  } else {
    scheduleListRefresh();
  }
  if (f.conv === state.current) renderChatChrome();
}

// -- sending ------------------------------------------------------------------------------------------------
function onSend(event) {
  event.preventDefault();
  const input = $('input');
  const text = input.value;
  const convId = state.current;
  const conv = state.convs.get(convId);
  if (!convId || !text.trim() || (conv && conv.status !== 'open')) return;
  if (text.length > 5000) {
    toast('消息不能超过 5000 字', 'error');
    return;
  }
  if (!state.sock) return;
  // offline: the socket sends it after reconnecting, with the same id (guarantee 3 makes that safe)
  const id = state.sock.send({ conv: convId, kind: 'text', text });
  const p = { id, conv: convId, text, el: null, seq: undefined, failed: null, retryable: false };
  state.pending.set(id, p);
  renderPending(p);
  scrollToBottom();
  input.value = '';
  autosize();
  state.lastTypingSentAt = 0;
}

function onInput() {
  autosize();
  const convId = state.current;
  if (!convId || !$('input').value.trim()) return;
  const now = Date.now();
  if (now - state.lastTypingSentAt < TYPING_SEND_EVERY_MS) return;
  if (connected() && state.sock.typing(convId)) state.lastTypingSentAt = now;
}

function autosize() {
  const input = $('input');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
}

function recall(convId, seq) {
  if (!connected()) {
    toast('未连接，请稍后再试', 'error');
    return;
  }
  state.sock.recall(convId, seq).catch((err) => {
    const text = err.code === 'recall_expired' ? `已超过 ${Math.round(recallWindowMs() / 60000)} 分钟，无法撤回`
      : ERROR_TEXT[err.code] || err.message || '撤回失败';
    toast(text, 'error');
  });
}

/** Tell the other side how far we have read, once the messages are on screen. */
function markRead() {
  const convId = state.current;
  if (!convId || document.visibilityState !== 'visible') return;
  const store = state.stores.get(convId);
  if (!store || store.loading || store.maxOther <= store.readSent) return;
  const seq = store.maxSeq;
  if (!connected() || !state.sock.read(convId, seq)) return;
  store.readSent = seq;
  const conv = state.convs.get(convId);
  if (conv && conv.unread) {
    conv.unread = 0;
    scheduleRenderList();
  }
}

// -- the list -----------------------------------------------------------------------------------------------
async function refreshList() {
  if (!state.session) return;
  try {
    const [open, ended] = await Promise.all([
      api(`/api/consultations?status=open&limit=${LIST_LIMIT}`),
      api(`/api/consultations?status=ended&limit=${LIST_LIMIT}`),
    ]);
    state.convs.clear();
    for (const c of [...open.items, ...ended.items]) {
      if (c.id === state.current && document.visibilityState === 'visible') {
        const store = state.stores.get(c.id);
        if (store && store.readSent >= c.last_seq) c.unread = 0;
      }
      state.convs.set(c.id, c);
    }
    renderList();
    if (state.current) renderChatChrome();
  } catch (err) {
    if (state.session) toast(err.message, 'error');
  }
}

function scheduleListRefresh() {
  clearTimeout(state.listTimer);
  state.listTimer = setTimeout(refreshList, 300);
}

let renderListQueued = false;
function scheduleRenderList() {
  if (renderListQueued) return;
  renderListQueued = true;
  requestAnimationFrame(() => {
    renderListQueued = false;
    renderList();
  });
}

const activity = (c) => (c.last_message && c.last_message.ts) || c.created_at || '';

function preview(last) {
  if (!last) return '暂无消息';
  if (last.recalled) return '消息已撤回';
  if (last.kind === 'image') return '[图片]';
  return last.text || '';
}

function renderList() {
  if (!state.session) return;
  const items = [...state.convs.values()]
    .filter((c) => c.status === state.tab)
    .sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
  $('conv-list').replaceChildren(...items.map((c) => {
    const peer = peerOf(c);
    const unread = c.unread || 0;
    return h('li', {},
      h('button', {
        type: 'button', className: 'conv', 'data-testid': 'conv-item', 'data-conv': c.id,
        'data-unread': unread, onclick: () => go(`#/c/${encodeURIComponent(c.id)}`),
      },
      h('span', { className: 'avatar', 'aria-hidden': 'true' }, (peer && peer.name ? peer.name : '?').slice(0, 1)),
      h('span', { className: 'conv-main' },
        h('span', { className: 'conv-top' },
          h('span', { className: 'conv-name', 'data-testid': 'conv-name' }, peer ? peer.name : ''),
          h('span', { className: 'conv-time' }, fmtTime(activity(c)))),
        h('span', { className: 'conv-bottom' },
          h('span', { className: 'conv-preview', 'data-testid': 'conv-preview' }, preview(c.last_message)),
          unread > 0 ? h('span', { className: 'badge', 'data-testid': 'unread' },
            unread > 99 ? '99+' : String(unread)) : null))));
  }));
  $('conv-empty').hidden = items.length > 0;
  $('conv-empty').textContent = state.tab === 'open' ? '暂无进行中的咨询' : '暂无已结束的咨询';
  renderDoctors();
}

// -- 我的家庭医生: the doctors a resident may consult, one tap to start (or go back to) a consultation -------
async function refreshDoctors() {
  const user = me();
  if (!user || user.role !== 'resident') return;
  const askedAt = Date.now();
  state.doctorsAt = askedAt;
  const current = () => me() === user && state.doctorsAt === askedAt; // not logged out, not asked again since
  try {
    const data = await api('/api/consultations/doctors');
    if (!current()) return;
    state.doctors = data.items;
    state.doctorsFailed = false;
  } catch (err) {
    if (!current()) return;
    state.doctorsFailed = state.doctors === null;
    if (!state.doctorsFailed) toast(err.message, 'error'); // keep showing the list we have
  }
  renderDoctors();
}

function openConvWith(doctorId) {
  for (const c of state.convs.values()) {
    if (c.status === 'open' && c.doctor && c.doctor.id === doctorId) return c;
  }
  return null;
}

function doctorLine(d) {
  const kind = d.work_type || roleName(d.role);
  return d.profile ? `${kind} · ${d.profile}` : kind;
}

function renderDoctors() {
  const user = me();
  if (!user || user.role !== 'resident') return;
  const doctors = state.doctors || [];
  $('doctors').replaceChildren(...doctors.map((d) => {
    const open = openConvWith(d.id);
    return h('li', {},
      h('button', {
        type: 'button', className: 'doctor', 'data-testid': 'doctor-item', 'data-doctor': d.id,
        'data-open': open ? '1' : '0', disabled: state.starting !== null,
        'aria-label': `${d.name}，${open ? '继续咨询' : '发起咨询'}`,
        onclick: () => startConsultation(d.id),
      },
      h('span', { className: 'avatar', 'aria-hidden': 'true' }, (d.name || '?').slice(0, 1)),
      h('span', { className: 'doctor-main' },
        h('span', { className: 'doctor-top' },
          h('span', { className: 'doctor-name', 'data-testid': 'doctor-name' }, d.name),
          d.title ? h('span', { className: 'doctor-title' }, d.title) : null),
        h('span', { className: 'doctor-line' }, doctorLine(d))),
      h('span', { className: `doctor-action${open ? ' open' : ''}`, 'data-testid': 'doctor-action' },
        state.starting === d.id ? '请稍候…' : open ? '继续咨询' : '发起咨询')));
  }));
  const note = $('doctors-note');
  note.hidden = doctors.length > 0;
  $('doctors-note-text').textContent = state.doctorsFailed ? '家庭医生加载失败。'
    : state.doctors === null ? '正在加载…' : '暂无可咨询的家庭医生，与家庭医生团队签约后即可在线咨询。';
  $('doctors-retry').hidden = !state.doctorsFailed;
}

/** Open a consultation with a doctor of the list; the hub returns the open one if there is one. */
async function startConsultation(doctorId) {
  if (state.starting !== null) return;
  const errorEl = $('start-error');
  errorEl.hidden = true;
  state.starting = doctorId;
  renderDoctors();
  try {
    const conv = await api('/api/consultations', { method: 'POST', body: { doctor_id: doctorId } });
    state.convs.set(conv.id, conv);
    go(`#/c/${encodeURIComponent(conv.id)}`);
  } catch (err) {
    if (!state.session) return;
    errorEl.textContent = err.code === 'not_found' ? '找不到该医生' : err.message;
    errorEl.hidden = false;
    if (err.code === 'forbidden' || err.code === 'not_found') refreshDoctors(); // the list was out of date
  } finally {
    state.starting = null;
    renderList();
  }
}

// -- the chat -----------------------------------------------------------------------------------------------
async function openChat(convId) {
  state.current = convId;
  hideTyping();
  $('resident-facts').hidden = true;
  $('msg-list').replaceChildren();
  $('older').hidden = true;
  renderChatChrome();
  let conv;
  try {
    conv = await api(`/api/consultations/${encodeURIComponent(convId)}`);
  } catch (err) {
    if (state.current === convId && state.session) {
      toast(err.message, 'error');
      go('#/');
    }
    return;
  }
  if (state.current !== convId) return;
  const known = state.convs.get(convId);
  state.convs.set(convId, known ? { ...known, ...conv, unread: known.unread } : conv);
  let store = state.stores.get(convId);
  if (!store) {
    store = newStore();
    state.stores.set(convId, store); // live messages collect here while history loads
    try {
      await loadHistory(convId, store, conv);
    } catch (err) {
      state.stores.delete(convId);
      if (state.current === convId && state.session) toast(err.message, 'error');
      return;
    }
  }
  if (state.current !== convId) return;
  loadResidentFacts(convId, state.convs.get(convId));
  if (state.sock) state.sock.track(convId, store.contig); // from here on the socket keeps it gap-free
  renderChat(convId);
  sync(convId); // whatever was sent between the history request and now
  markRead();
}

// -- 居民基本信息: the resident's facts beside a doctor's chat, from the signing plugin's roster ----------------
const STAFF_ROLES = new Set(['doctor', 'assistant', 'team_leader']);
const factsCache = new Map(); // resident account id → facts (null: none found)

/** The roster record of the consultation's resident: their own record (本人) among the team's residents of that
 * name, the one their account manages. Nothing (no signing plugin, no record, two alike): no facts shown. */
async function findResidentRecord(resident) {
  const page = await api(`/api/signing/residents?name=${encodeURIComponent(resident.name)}&limit=20`);
  const own = page.items.filter((r) => r.name === resident.name && r.relation === '本人' && r.managed);
  return own.length === 1 ? own[0] : null;
}

async function villageName(code) {
  if (!code || code.length !== 12) return '';
  const town = `${code.slice(0, 9)}000`;
  const page = await api(`/api/signing/regions?parent=${town}`);
  const found = page.items.find((r) => r.code === code);
  return found ? found.name : '';
}

async function loadResidentFacts(convId, conv) {
  const box = $('resident-facts');
  const user = me();
  box.hidden = true;
  if (!conv || !user || !STAFF_ROLES.has(user.role)) return;
  let facts = factsCache.get(conv.resident.id);
  if (facts === undefined) {
    try {
      const record = await findResidentRecord(conv.resident);
      facts = record ? { ...record, villageName: await villageName(record.village) } : null;
    } catch {
      facts = null; // the signing plugin is off, or the record is not this doctor's to see
    }
    factsCache.set(conv.resident.id, facts);
  }
  if (!facts || state.current !== convId) return;
  const parts = [];
  if (Number.isInteger(facts.age)) parts.push(`${facts.age}岁`);
  if (facts.sex) parts.push({ male: '男', female: '女' }[facts.sex] || '');
  if (facts.villageName) parts.push(facts.villageName);
  parts.push(`重点人群：${facts.key_populations && facts.key_populations.length ? facts.key_populations.join('、') : '无'}`);
  $('facts-name').textContent = facts.name;
  $('facts-line').textContent = parts.join(' · ');
  const end = facts.signing_end ? `，至 ${facts.signing_end.slice(0, 10)}` : '';
  $('facts-signing').textContent = `签约：${facts.status_label || ''}${end}`;
  box.hidden = false;
}

async function loadHistory(convId, store, conv) {
  const base = Math.max(0, (conv.last_seq || 0) - HISTORY_PAGE);
  store.contig = base;
  store.oldest = base + 1;
  store.readSent = conv.read_seq || 0;
  // how far the other side has read, as the hub keeps it: without it a reopened chat shows 未读 on read messages
  store.peerRead = Math.max(store.peerRead, conv.peer_read_seq || 0);
  let after = base;
  for (;;) {
    const page = await api(`/api/consultations/${encodeURIComponent(convId)}/messages?after_seq=${after}` +
      `&limit=${PAGE_LIMIT}`);
    for (const m of page.items) {
      if (!store.msgs.has(m.seq)) addToStore(store, m);
      after = Math.max(after, m.seq);
    }
    if (page.items.length < PAGE_LIMIT) break;
  }
  store.loading = false;
}

async function loadOlder() {
  const convId = state.current;
  const store = state.stores.get(convId);
  if (!store || store.oldest <= 1) return;
  const button = $('older');
  button.disabled = true;
  try {
    const page = await api(`/api/consultations/${encodeURIComponent(convId)}/messages?before_seq=${store.oldest}` +
      `&limit=${HISTORY_PAGE}`);
    if (state.current !== convId) return;
    const box = $('messages');
    const fromBottom = box.scrollHeight - box.scrollTop;
    for (const m of page.items) {
      if (!store.msgs.has(m.seq)) renderEntry(convId, addToStore(store, m));
      store.oldest = Math.min(store.oldest, m.seq);
    }
    if (!page.items.length) store.oldest = 1;
    renderReceipts(convId);
    box.scrollTop = box.scrollHeight - fromBottom;
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    button.disabled = false;
    button.hidden = store.oldest <= 1;
  }
}

function renderChat(convId) {
  const store = state.stores.get(convId);
  $('msg-list').replaceChildren();
  store.els.clear();
  for (const seq of [...store.msgs.keys()].sort((a, b) => a - b)) renderEntry(convId, store.msgs.get(seq));
  for (const p of state.pending.values()) {
    if (p.conv === convId && p.seq === undefined) {
      p.el = null;
      renderPending(p);
    }
  }
  $('older').hidden = store.oldest <= 1;
  renderReceipts(convId);
  renderChatChrome();
  scrollToBottom();
}

function renderChatChrome() {
  const convId = state.current;
  if (!convId) return;
  const conv = state.convs.get(convId);
  const user = me();
  const peer = peerOf(conv);
  const ended = !!conv && conv.status !== 'open';
  const stick = nearBottom(); // the banner takes room from the messages: keep the newest in view
  if ($('view-chat').hidden === false) $('title').textContent = peer ? peer.name : '在线咨询';
  $('chat-status').textContent = !conv ? '' : ended ? '已结束' : '咨询进行中';
  $('chat-status').dataset.status = conv ? conv.status : '';
  $('ended-banner').hidden = !ended;
  $('input').disabled = ended;
  $('send-btn').disabled = ended;
  $('input').placeholder = ended ? '咨询已结束' : '输入消息…';
  const end = $('end-btn');
  end.hidden = ended || !conv || !user || conv.doctor.id !== user.id;
  if (ended) hideTyping();
  if (stick) scrollToBottom();
}

function bubbleText(entry) {
  if (entry.recalled) return '消息已撤回';
  if (entry.kind === 'image') return '[图片]';
  return entry.text;
}

function canRecall(entry) {
  const sent = Date.parse(entry.ts);
  return entry.mine && !entry.recalled && !Number.isNaN(sent) && serverNow() - sent < recallWindowMs();
}

/** Create or refresh the bubble of a stored message and put it in seq order. */
function renderEntry(convId, entry) {
  if (!entry || convId !== state.current) return;
  const store = state.stores.get(convId);
  let li = store.els.get(entry.seq);
  if (!li) {
    li = h('li');
    store.els.set(entry.seq, li);
  }
  li.className = `msg ${entry.mine ? 'mine' : 'theirs'}${entry.recalled ? ' recalled' : ''}`;
  li.dataset.testid = 'message';
  li.dataset.seq = String(entry.seq);
  li.dataset.mine = entry.mine ? '1' : '0';
  li.dataset.state = 'sent';
  li.dataset.recalled = entry.recalled ? '1' : '0';
  const foot = h('div', { className: 'msg-foot' });
  if (entry.mine && !entry.recalled) {
    foot.append(h('span', { className: 'receipt', 'data-testid': 'receipt' }, ''));
  }
  if (canRecall(entry)) {
    foot.append(h('button', {
      type: 'button', className: 'btn link small', 'data-testid': 'recall',
      onclick: () => recall(convId, entry.seq),
    }, '撤回'));
  }
  li.replaceChildren(
    h('div', { className: 'bubble', 'data-testid': 'message-text' }, bubbleText(entry)),
    h('div', { className: 'msg-meta' }, h('time', { datetime: entry.ts || '' }, fmtTime(entry.ts)), foot));
  placeBySeq(li, entry.seq);
}

function placeBySeq(li, seq) {
  const list = $('msg-list');
  for (const child of list.children) {
    if (child === li) continue;
    const s = child.dataset.seq ?? child.dataset.order;
    if (s === undefined || Number(s) > seq) { // pending bubbles (no seq) always stay last
      if (li.nextSibling !== child) list.insertBefore(li, child);
      return;
    }
  }
  if (list.lastElementChild !== li) list.append(li);
}

function renderPending(p) {
  if (p.conv !== state.current) return;
  if (!p.el) p.el = h('li');
  const li = p.el;
  li.className = `msg mine${p.failed ? ' failed' : ''}`;
  li.dataset.testid = 'message';
  li.dataset.mine = '1';
  li.dataset.state = p.failed ? 'failed' : 'pending';
  delete li.dataset.seq;
  if (p.failed) li.dataset.order = String(p.order);
  else delete li.dataset.order;
  let foot;
  if (p.failed && p.retryable) { // 未发送，点击重试: the whole note is the button
    foot = h('div', { className: 'msg-foot' },
      h('button', { type: 'button', className: 'btn link small send-error', 'data-testid': 'send-error',
        onclick: () => retrySend(p) }, p.failed),
      h('button', { type: 'button', className: 'btn link small', 'data-testid': 'discard',
        onclick: () => discardPending(p) }, '删除'));
  } else if (p.failed) {
    foot = h('div', { className: 'msg-foot' },
      h('span', { className: 'send-error', 'data-testid': 'send-error' }, p.failed),
      h('button', { type: 'button', className: 'btn link small', 'data-testid': 'discard',
        onclick: () => discardPending(p) }, '删除'));
  } else {
    foot = h('div', { className: 'msg-foot' }, h('span', { className: 'receipt', 'data-testid': 'receipt' }, '发送中…'));
  }
  const bubble = h('div', { className: 'bubble', 'data-testid': 'message-text' }, p.text);
  if (p.failed && p.retryable) bubble.addEventListener('click', () => retrySend(p));
  li.replaceChildren(bubble, h('div', { className: 'msg-meta' }, foot));
  if (p.failed) placeBySeq(li, p.order);
  else if (!li.parentNode) $('msg-list').append(li);
}

function discardPending(p) {
  state.pending.delete(p.id);
  if (state.sock) state.sock.discard(p.id);
  if (p.el) p.el.remove();
}

function renderReceipts(convId) {
  const store = state.stores.get(convId);
  if (!store || convId !== state.current) return;
  for (const [seq, li] of store.els) {
    const receipt = li.querySelector('[data-testid="receipt"]');
    if (!receipt || !li.isConnected || li.dataset.state !== 'sent') continue;
    const read = seq <= store.peerRead;
    receipt.textContent = read ? '已读' : '未读';
    receipt.classList.toggle('read', read);
  }
}

/** Take the 撤回 button off messages past the recall window. */
function refreshRecallButtons() {
  const convId = state.current;
  const store = convId && state.stores.get(convId);
  if (!store) return;
  for (const entry of store.msgs.values()) {
    if (!entry.mine || entry.recalled) continue;
    const li = store.els.get(entry.seq);
    if (li && li.querySelector('[data-testid="recall"]') && !canRecall(entry)) renderEntry(convId, entry);
  }
}

function nearBottom() {
  const box = $('messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToBottom() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
}

async function endConsultation() {
  const button = $('end-btn');
  if (button.dataset.confirm !== '1') { // two taps: no modal dialog on a phone
    button.dataset.confirm = '1';
    button.textContent = '确认结束？';
    clearTimeout(state.endConfirmTimer);
    state.endConfirmTimer = setTimeout(resetEndButton, END_CONFIRM_MS);
    return;
  }
  resetEndButton();
  const convId = state.current;
  button.disabled = true;
  try {
    const conv = await api(`/api/consultations/${encodeURIComponent(convId)}/end`, { method: 'POST' });
    const known = state.convs.get(convId);
    state.convs.set(convId, known ? { ...known, status: conv.status, ended_at: conv.ended_at } : conv);
    if (state.current === convId) renderChatChrome();
    scheduleRenderList();
  } catch (err) {
    toast(err.code === 'conversation_closed' ? '咨询已结束' : err.message, 'error');
  } finally {
    button.disabled = false;
  }
}

function resetEndButton() {
  clearTimeout(state.endConfirmTimer);
  const button = $('end-btn');
  button.dataset.confirm = '';
  button.textContent = '结束咨询';
}

// -- views and routing --------------------------------------------------------------------------------------
function showView(name) {
  for (const view of ['login', 'list', 'chat']) $(`view-${view}`).hidden = view !== name;
  const signedIn = !!state.session;
  $('back').hidden = name !== 'chat';
  $('bell').hidden = !signedIn;
  if (!signedIn) toggleNotices(false);
  if (name !== 'chat') $('title').textContent = '家庭好医';
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  if (!state.session) {
    state.current = null;
    showView('login');
    return;
  }
  const match = /^#\/c\/(.+)$/.exec(location.hash);
  if (match) {
    const convId = decodeURIComponent(match[1]);
    showView('chat');
    resetEndButton();
    if (state.current !== convId || !state.stores.has(convId)) openChat(convId);
    else renderChat(convId);
  } else {
    state.current = null;
    hideTyping();
    showView('list');
    renderList();
    if (Date.now() - state.doctorsAt > DOCTORS_STALE_MS) refreshDoctors();
  }
}

function init() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', () => logout());
  $('doctors-retry').addEventListener('click', () => refreshDoctors());
  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => {
      state.tab = tab.dataset.tab;
      for (const t of document.querySelectorAll('.tab')) t.setAttribute('aria-selected', String(t === tab));
      renderList();
    });
  }
  $('back').addEventListener('click', () => go('#/'));
  $('bell').addEventListener('click', () => toggleNotices());
  $('notices-close').addEventListener('click', () => toggleNotices(false));
  $('composer').addEventListener('submit', onSend);
  $('input').addEventListener('input', onInput);
  $('input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { // 输入法选词时的回车不发送
      event.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('older').addEventListener('click', loadOlder);
  $('end-btn').addEventListener('click', endConsultation);
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => {
    if (state.sock) state.sock.reconnectNow(); // no need to wait out the backoff
  });
  window.addEventListener('offline', () => {
    if (state.sock) state.sock.probe(); // the socket may still look open: ask it
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.sock) state.sock.probe(); // back from the background
    markRead();
  });
  state.recallTimer = setInterval(refreshRecallButtons, 5000);

  const saved = loadSession();
  if (saved) {
    state.session = saved;
    startSession();
  } else {
    route();
  }
}

// A small debugging handle (used by the browser test to drop the socket).
window.__hub = {
  get socket() { // closes the live transport, as a network drop that is reported would
    const sock = state.sock;
    return { close: () => { if (sock && sock._transport) sock._transport.close('test'); } };
  },
  get hubSocket() { return state.sock; },
  get attempts() { return state.sock ? state.sock.attempts : 0; }, // reconnects since the socket was last open
  get state() {
    const convs = {};
    for (const [id, store] of state.stores) convs[id] = store.contig;
    return { conn: state.conn, convs, inbox: state.sock ? state.sock.inbox : 0, pending: state.pending.size };
  },
};

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
