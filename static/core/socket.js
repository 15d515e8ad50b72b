/* HubSocket: the PROTOCOL.md WebSocket client, with no DOM code.
 *
 * Auth as the first frame, welcome (heartbeat and recall window from the server), heartbeat pings, liveness
 * (a socket silent for ~2 heartbeats, or one that does not answer a probe, is given up and replaced),
 * reconnect with jittered backoff (except after the close codes that say not to), sync on every (re)connect,
 * seq contiguity per tracked conversation and for the inbox (a gap asks for a sync), and pending sends resent
 * after a reconnect with the same id (the hub stores a retried id once). A send without an ack in
 * `ackTimeoutMs` is reported failed (`send_failed`, code `timeout`) and can be retried with `retry(id)`.
 *
 * Events (`on(type, fn)`): status, welcome, message, notice, ack, send_failed, read, typing, recalled, conv,
 * synced, gap, resend (a send that failed for want of a connection goes again), error (error frames not
 * about a pending send), closed (a close that is not reconnected).
 * `message` and `notice` listeners get `(frame, {replay})`: replay is true while a sync delivers them.
 */
import { CLIENT_FRAMES as C, SERVER_FRAMES as S, closeAction, MAX_FRAME_ID_CHARS } from './protocol.js';
import { browserSocket } from './adapters.js';

export const DEFAULTS = Object.freeze({
  ackTimeoutMs: 5000,        // a send without ack this long is shown as failed ("未发送，点击重试")
  probeTimeoutMs: 3000,      // a probe ping unanswered this long: the socket is dead (a silent drop)
  livenessHeartbeats: 2,     // no frame at all for this many heartbeats: the socket is dead
  reconnectMinMs: 500,
  reconnectMaxMs: 15000,
  authTimeoutMs: 10000,      // the hub's own auth timeout (PROTOCOL: within 10 s)
  fallbackHeartbeatSecs: 25, // only until the first welcome tells the real one
});

export const STATUS = Object.freeze({
  IDLE: 'idle', CONNECTING: 'connecting', OPEN: 'open', RECONNECTING: 'reconnecting',
  AUTH: 'auth', FORBIDDEN: 'forbidden', CLOSED: 'closed',
});

/** Errors of a send that a retry cannot mend. */
const FINAL_SEND_ERRORS = new Set(['content_blocked', 'conversation_closed', 'forbidden', 'not_found',
  'invalid_frame', 'invalid_input', 'too_large']);

export class Emitter {
  constructor() { this._listeners = new Map(); }

  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    const set = this._listeners.get(type);
    if (set) set.delete(fn);
  }

  emit(type, ...args) {
    const set = this._listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(...args); } catch (err) { // one bad listener does not stop the others
        if (typeof console !== 'undefined') console.error(`HubSocket ${type} listener failed`, err);
      }
    }
  }
}

export function makeId(prefix = 'c') {
  const bytes = new Uint8Array(12);
  const c = globalThis.crypto;
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A seq stream that must arrive without gaps: `last` is the highest seq up to which everything came. */
class Cursor {
  constructor(last) {
    this.last = last;
    this.ahead = new Map(); // seq → frame that came before the ones in between
  }
}

export class HubSocket extends Emitter {
  /**
   * @param {object} o
   * @param {string} o.url ws(s)://…/ws
   * @param {() => (string|null|Promise<string|null>)} o.getToken the access token (none: status "auth")
   * @param {Function} [o.WebSocketImpl] a WebSocket constructor (default: the global one)
   * @param {(url: string) => object} [o.socket] an adapter factory from adapters.js, instead of WebSocketImpl
   * @param {(status: string, detail: object) => void} [o.onStatus]
   * @param {{getItem, setItem, removeItem}} [o.storage] keeps inbox and pending sends over a reload
   */
  constructor({ url, getToken, WebSocketImpl, socket, onStatus, storage, storageKey = 'jtyh.socket', ...options }) {
    super();
    if (!url || typeof getToken !== 'function') throw new TypeError('HubSocket needs url and getToken');
    this.url = url;
    this.getToken = getToken;
    this.connectSocket = socket || browserSocket(WebSocketImpl || globalThis.WebSocket);
    this.onStatus = onStatus;
    this.storage = storage || null;
    this.storageKey = storageKey;
    this.options = { ...DEFAULTS, ...options };
    this.status = STATUS.IDLE;
    this.welcome = null;
    this.user = null;
    this.heartbeatSecs = this.options.fallbackHeartbeatSecs;
    this.recallSecs = null;
    this.clockSkewMs = 0;
    this.attempts = 0;        // reconnects since the socket was last open
    this.connects = 0;        // welcomes received, ever
    this._convs = new Map();  // tracked conversation → Cursor
    this._inbox = new Cursor(0);
    this._pending = new Map(); // id → {id, frame, state: "sending"|"failed"|"sent", error, timer}
    this._syncs = new Map();   // sync frame id → {convs: [...], before: {conv: last}}
    this._requests = new Map(); // frame id → {resolve, reject, timer}
    this._transport = null;
    this._authed = false;
    this._stopped = true;
    this._timers = { reconnect: null, auth: null, heartbeat: null, liveness: null, probe: null };
    this._lastFrameAt = 0;
  }

  // -- lifecycle ----------------------------------------------------------------------------------------------

  /** Start connecting (and keep connected until stop()). */
  start() {
    this._stopped = false;
    if (!this._transport && !this._timers.reconnect) this._connect();
    return this;
  }

  /** Close for good; pending sends are kept (start() again resends them). */
  stop() {
    this._stopped = true;
    this._clearTimer('reconnect');
    for (const entry of this._pending.values()) { // their clocks start again on the next connect
      clearTimeout(entry.timer);
      entry.timer = null;
    }
    this._drop();
    this._setStatus(STATUS.CLOSED);
  }

  /** Connect now instead of waiting out the backoff (the network came back, the page became visible). */
  reconnectNow() {
    if (this._stopped || this._transport) return;
    this._clearTimer('reconnect');
    this._connect();
  }

  /** Is the socket alive? A ping that must be answered within probeTimeoutMs, else it is replaced. */
  probe() {
    if (!this._authed || this._timers.probe) return;
    const sentAt = Date.now();
    this._write({ type: C.PING });
    this._timers.probe = setTimeout(() => {
      this._timers.probe = null;
      if (this._authed && this._lastFrameAt < sentAt) this._dead('probe');
    }, this.options.probeTimeoutMs);
  }

  get connected() { return this._authed; }

  /** Server time now (ms), from the skew seen at welcome. */
  serverNow() { return Date.now() + this.clockSkewMs; }

  // -- conversations and inbox --------------------------------------------------------------------------------

  /** Deliver this conversation's messages in seq order from `lastSeq` on (a gap asks for a sync). */
  track(conv, lastSeq = 0) {
    const cursor = this._convs.get(conv);
    if (cursor) cursor.last = Math.max(cursor.last, lastSeq);
    else this._convs.set(conv, new Cursor(lastSeq));
  }

  untrack(conv) { this._convs.delete(conv); }

  lastSeq(conv) {
    const cursor = this._convs.get(conv);
    return cursor ? cursor.last : null;
  }

  get inbox() { return this._inbox.last; }

  set inbox(seq) { this._inbox.last = Math.max(this._inbox.last, seq); }

  /** Ask for everything after what is held, for `convs` (default every tracked one) and the inbox. */
  sync(convs = [...this._convs.keys()]) {
    if (!this._authed) return null;
    const id = makeId('s');
    const cursors = {};
    for (const conv of convs) {
      const cursor = this._convs.get(conv);
      if (cursor) cursors[conv] = cursor.last;
    }
    this._syncs.set(id, { convs: Object.keys(cursors), before: { ...cursors } });
    this._write({ type: C.SYNC, id, convs: cursors, inbox: this._inbox.last });
    return id;
  }

  // -- sending --------------------------------------------------------------------------------------------------

  /** Send a message; returns its id. Its fate comes as `ack` or `send_failed` with that id. */
  send({ conv, kind = 'text', text, media, id = makeId() }) {
    if (id.length > MAX_FRAME_ID_CHARS) throw new RangeError('id too long');
    const frame = { type: C.SEND, id, conv, kind };
    if (text !== undefined) frame.text = text;
    if (media !== undefined) frame.media = media;
    const entry = { id, frame, state: 'sending', error: null, timer: null };
    this._pending.set(id, entry);
    this._transmit(entry);
    this._save();
    return id;
  }

  /** Send a failed message again, with the same id (the hub stores it once even if it got the first). */
  retry(id) {
    const entry = this._pending.get(id);
    if (!entry || entry.state === 'sent') return false;
    entry.state = 'sending';
    entry.error = null;
    this._transmit(entry);
    return true;
  }

  /** Forget a failed message. */
  discard(id) {
    const entry = this._pending.get(id);
    if (entry) clearTimeout(entry.timer);
    this._pending.delete(id);
    this._save();
  }

  /** Sends not acknowledged yet: [{id, conv, kind, text, state, error}]. */
  pending() {
    return [...this._pending.values()].map((e) => ({ id: e.id, conv: e.frame.conv, kind: e.frame.kind,
      text: e.frame.text, media: e.frame.media, state: e.state, error: e.error }));
  }

  read(conv, seq) { return this._write({ type: C.READ, conv, seq }); }

  typing(conv) { return this._write({ type: C.TYPING, conv }); }

  /** Recall a message: resolves when done, rejects with the error frame (e.g. code recall_expired). */
  recall(conv, seq) { return this.request({ type: C.RECALL, conv, seq }); }

  /**
   * Send a frame with an id and wait for the frame answering it (an `error` rejects). Frames such as recall
   * have no success reply: they resolve after `quietMs` without an error.
   */
  request(frame, { timeoutMs = this.options.ackTimeoutMs, quietMs = 1500 } = {}) {
    const id = frame.id || makeId('r');
    return new Promise((resolve, reject) => {
      if (!this._write({ ...frame, id })) {
        reject({ type: S.ERROR, code: 'offline', message: '连接中断' });
        return;
      }
      const silentOk = frame.type === C.RECALL || frame.type === C.READ;
      const timer = setTimeout(() => {
        this._requests.delete(id);
        if (silentOk) resolve(null);
        else reject({ type: S.ERROR, code: 'timeout', message: '请求超时' });
      }, silentOk ? quietMs : timeoutMs);
      this._requests.set(id, { resolve, reject, timer });
    });
  }

  // -- internals: connecting ----------------------------------------------------------------------------------

  _setStatus(status, detail = {}) {
    if (this.status === status) return;
    this.status = status;
    if (this.onStatus) {
      try { this.onStatus(status, detail); } catch (err) { console.error('onStatus failed', err); }
    }
    this.emit('status', status, detail);
  }

  async _connect() {
    this._clearTimer('reconnect');
    if (this._stopped || this._transport) return;
    this._setStatus(this.connects > 0 || this.attempts > 0 ? STATUS.RECONNECTING : STATUS.CONNECTING,
      { attempt: this.attempts });
    let transport;
    try {
      transport = this.connectSocket(this.url);
    } catch {
      this._scheduleReconnect(1);
      return;
    }
    this._transport = transport;
    this._authed = false;
    transport.onopen = async () => {
      if (transport !== this._transport) return;
      let token;
      try { token = await this.getToken(); } catch { token = null; }
      if (transport !== this._transport) return;
      if (!token) {
        this._drop();
        this._setStatus(STATUS.AUTH, { code: 4001 });
        this.emit('closed', { code: 4001, reason: 'no token' });
        return;
      }
      this._lastFrameAt = Date.now();
      transport.send(JSON.stringify({ type: C.AUTH, token }));
    };
    transport.onmessage = (text) => {
      if (transport !== this._transport) return;
      this._lastFrameAt = Date.now();
      let frame;
      try { frame = JSON.parse(text); } catch { return; }
      if (frame && typeof frame.type === 'string') this._handle(frame);
    };
    transport.onclose = (code, reason) => {
      if (transport === this._transport) this._closed(code, reason);
    };
    transport.onerror = () => { /* a close follows */ };
    this._timers.auth = setTimeout(() => {
      if (transport === this._transport && !this._authed) this._dead('auth timeout');
    }, this.options.authTimeoutMs);
  }

  /** Let go of the transport without waiting for its close (a dead TCP connection may never report one). */
  _drop() {
    const transport = this._transport;
    this._transport = null;
    this._authed = false;
    for (const name of ['auth', 'heartbeat', 'liveness', 'probe']) this._clearTimer(name);
    this._syncs.clear();
    for (const [id, req] of this._requests) {
      clearTimeout(req.timer);
      req.reject({ type: S.ERROR, code: 'offline', message: '连接中断' });
      this._requests.delete(id);
    }
    if (transport) {
      transport.onopen = transport.onmessage = transport.onclose = transport.onerror = null;
      transport.close('client');
    }
  }

  _dead(reason) {
    this._drop();
    this._afterClose(1006, reason);
  }

  _closed(code, reason) {
    this._drop();
    this._afterClose(code, reason);
  }

  _afterClose(code, reason) {
    if (this._stopped) {
      this._setStatus(STATUS.CLOSED);
      return;
    }
    const action = closeAction(code);
    if (!action.reconnect) {
      this._stopped = true;
      this._setStatus(action.status || STATUS.CLOSED, { code, reason, meaning: action.meaning });
      this.emit('closed', { code, reason, meaning: action.meaning });
      return;
    }
    this._scheduleReconnect(action.backoff || 1, code, reason);
  }

  _scheduleReconnect(factor = 1, code = 1006, reason = '') {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** this.attempts * factor);
    const delay = Math.round(base * (0.5 + Math.random())); // jitter: not every client at once after a restart
    this.attempts += 1;
    this._setStatus(STATUS.RECONNECTING, { code, reason, delayMs: delay, attempt: this.attempts });
    this._timers.reconnect = setTimeout(() => {
      this._timers.reconnect = null;
      this._connect();
    }, delay);
  }

  _clearTimer(name) {
    if (this._timers[name]) {
      clearTimeout(this._timers[name]);
      clearInterval(this._timers[name]);
      this._timers[name] = null;
    }
  }

  _write(frame) {
    if (!this._transport || !this._authed) return false;
    try {
      this._transport.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  _startHeartbeat() {
    const everyMs = Math.max(1, Number(this.heartbeatSecs) || this.options.fallbackHeartbeatSecs) * 1000;
    const deadMs = everyMs * this.options.livenessHeartbeats;
    this._timers.heartbeat = setInterval(() => this._write({ type: C.PING }), everyMs);
    // checked often, so a dead socket is noticed soon after the deadline, not a heartbeat later
    this._timers.liveness = setInterval(() => {
      if (Date.now() - this._lastFrameAt > deadMs) this._dead('liveness');
    }, Math.min(1000, everyMs / 4));
  }

  // -- internals: frames --------------------------------------------------------------------------------------

  _handle(f) {
    switch (f.type) {
      case S.WELCOME: return this._onWelcome(f);
      case S.MESSAGE: return this._onMessage(f, false);
      case S.NOTICE: return this._onNotice(f, false);
      case S.ACK: return this._onAck(f);
      case S.SYNCED: return this._onSynced(f);
      case S.ERROR: return this._onError(f);
      case S.PONG: return this._onReply(f);
      default: return this.emit(f.type, f); // read, typing, recalled, conv, and types added later
    }
  }

  _onWelcome(f) {
    this._clearTimer('auth');
    this._authed = true;
    this.attempts = 0;
    this.connects += 1;
    this.welcome = f;
    this.user = f.user || null;
    if (Number(f.heartbeat_secs) > 0) this.heartbeatSecs = Number(f.heartbeat_secs);
    if (Number.isFinite(f.recall_secs)) this.recallSecs = f.recall_secs;
    const serverTime = Date.parse(f.server_time);
    if (!Number.isNaN(serverTime)) this.clockSkewMs = serverTime - Date.now();
    if (this.connects === 1) this._load();
    this._startHeartbeat();
    this._setStatus(STATUS.OPEN);
    this.emit('welcome', f);
    this.sync();
    for (const entry of this._pending.values()) {
      if (entry.state === 'sending') {
        this._transmit(entry, { resend: true });
      } else if (entry.state === 'failed' && entry.error && entry.error.code === 'timeout') {
        // it failed for want of a connection, which is back: send it again (same id: stored once at most)
        this.retry(entry.id);
        this.emit('resend', { id: entry.id, conv: entry.frame.conv, text: entry.frame.text });
      }
    }
  }

  _transmit(entry, { resend = false } = {}) {
    if (!resend || !entry.timer) {
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => this._ackTimeout(entry), this.options.ackTimeoutMs);
    }
    this._write(entry.frame); // offline: it goes on the next welcome
  }

  _ackTimeout(entry) {
    entry.timer = null;
    if (entry.state !== 'sending' || this._pending.get(entry.id) !== entry) return;
    entry.state = 'failed';
    entry.error = { code: 'timeout', message: '未发送，点击重试', retryable: true };
    this.emit('send_failed', { id: entry.id, conv: entry.frame.conv, text: entry.frame.text, ...entry.error });
    this.probe(); // no ack: perhaps the socket died silently
  }

  _onAck(f) {
    this._onReply(f);
    const entry = this._pending.get(f.id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this._pending.delete(f.id);
    this._save();
    this.emit('ack', f, { text: entry.frame.text, kind: entry.frame.kind });
  }

  _onError(f) {
    const entry = f.id ? this._pending.get(f.id) : null;
    if (entry) {
      clearTimeout(entry.timer);
      entry.timer = null;
      entry.state = 'failed';
      entry.error = { code: f.code, message: f.message, retryable: !FINAL_SEND_ERRORS.has(f.code) };
      this.emit('send_failed', { id: f.id, conv: entry.frame.conv, text: entry.frame.text, ...entry.error });
      return;
    }
    if (f.id && this._syncs.has(f.id)) this._syncs.delete(f.id);
    if (f.id && this._requests.has(f.id)) {
      const req = this._requests.get(f.id);
      this._requests.delete(f.id);
      clearTimeout(req.timer);
      req.reject(f);
      return;
    }
    this.emit('error', f);
  }

  _onReply(f) {
    if (f.type === S.PONG) this._clearTimer('probe');
    const req = f.id && this._requests.get(f.id);
    if (!req) return;
    this._requests.delete(f.id);
    clearTimeout(req.timer);
    req.resolve(f);
  }

  _replaying() { return this._syncs.size > 0; }

  _onMessage(f, fromBuffer) {
    const cursor = this._convs.get(f.conv);
    if (!cursor || !Number.isInteger(f.seq)) {
      this.emit('message', f, { replay: this._replaying(), tracked: false });
      return;
    }
    if (f.seq <= cursor.last) { // (conv, seq) seen already; a recalled copy still tells the recall
      if (f.recalled) this.emit('recalled', { type: S.RECALLED, conv: f.conv, seq: f.seq, by: null });
      return;
    }
    if (f.seq > cursor.last + 1) {
      cursor.ahead.set(f.seq, f);
      if (!fromBuffer && !this._syncingConv(f.conv)) {
        this.emit('gap', { conv: f.conv, after: cursor.last, got: f.seq });
        this.sync([f.conv]);
      }
      return;
    }
    cursor.last = f.seq;
    this.emit('message', f, { replay: this._replaying(), tracked: true });
    this._drain(cursor, (next) => this._onMessage(next, true));
  }

  _onNotice(f, fromBuffer) {
    const cursor = this._inbox;
    if (!Number.isInteger(f.inbox)) {
      this.emit('notice', f, { replay: this._replaying() });
      return;
    }
    if (f.inbox <= cursor.last) return;
    if (f.inbox > cursor.last + 1) {
      cursor.ahead.set(f.inbox, f);
      if (!fromBuffer && !this._replaying()) {
        this.emit('gap', { inbox: true, after: cursor.last, got: f.inbox });
        this.sync([]);
      }
      return;
    }
    cursor.last = f.inbox;
    this._save();
    this.emit('notice', f, { replay: this._replaying() });
    this._drain(cursor, (next) => this._onNotice(next, true));
  }

  _drain(cursor, deliver) {
    const next = cursor.ahead.get(cursor.last + 1);
    for (const seq of cursor.ahead.keys()) if (seq <= cursor.last) cursor.ahead.delete(seq);
    if (next) {
      cursor.ahead.delete(next.seq ?? next.inbox);
      deliver(next);
    }
  }

  /** The hub has nothing for the gap (it cannot, by guarantee 3, but a client must not stall): deliver what
   * came after it, in order. */
  _flushAhead(cursor, deliver) {
    for (const seq of [...cursor.ahead.keys()].sort((a, b) => a - b)) {
      const frame = cursor.ahead.get(seq);
      cursor.ahead.delete(seq);
      if (seq > cursor.last) {
        cursor.last = seq;
        deliver(frame);
      }
    }
  }

  _syncingConv(conv) {
    for (const s of this._syncs.values()) if (s.convs.includes(conv)) return true;
    return false;
  }

  _onSynced(f) {
    const pendingSync = this._syncs.get(f.id);
    this._syncs.delete(f.id);
    this._onReply(f);
    this._flushAhead(this._inbox, (frame) => this.emit('notice', frame, { replay: false }));
    const truncated = new Set(Array.isArray(f.truncated) ? f.truncated : []);
    const again = [];
    for (const conv of pendingSync ? pendingSync.convs : []) {
      const cursor = this._convs.get(conv);
      if (!cursor) continue;
      if (truncated.has(conv)) { again.push(conv); continue; } // more than one sync's worth: carry on
      if (cursor.ahead.size && cursor.last > pendingSync.before[conv]) again.push(conv); // progress: go on
      else this._flushAhead(cursor, (frame) => this.emit('message', frame, { replay: false, tracked: true }));
    }
    this.emit('synced', f);
    if (again.length) this.sync(again);
  }

  // -- internals: storage -------------------------------------------------------------------------------------

  _key() { return this.user ? `${this.storageKey}.${this.user.id}` : null; }

  _save() {
    const key = this._key();
    if (!this.storage || !key) return;
    const pending = [...this._pending.values()].filter((e) => e.state !== 'sent').map((e) => e.frame);
    try {
      this.storage.setItem(key, JSON.stringify({ inbox: this._inbox.last, pending }));
    } catch { /* full or private mode: memory only */ }
  }

  _load() {
    const key = this._key();
    if (!this.storage || !key) return;
    let saved = null;
    try { saved = JSON.parse(this.storage.getItem(key) || 'null'); } catch { saved = null; }
    if (!saved) return;
    if (Number.isInteger(saved.inbox)) this.inbox = saved.inbox;
    for (const frame of Array.isArray(saved.pending) ? saved.pending : []) {
      if (frame && typeof frame.id === 'string' && !this._pending.has(frame.id)) {
        this._pending.set(frame.id, { id: frame.id, frame, state: 'sending', error: null, timer: null });
      }
    }
  }
}
