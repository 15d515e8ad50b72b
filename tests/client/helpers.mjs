// Shared by the node tests of static/core: the hub given by tests/test_client_core.py, waiting for states, a TCP
// proxy that can go silent, and adapters that count or drop frames.
import net from 'node:net';

import { HubSocket } from '../../static/core/socket.js';
import { browserSocket } from '../../static/core/adapters.js';

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these through tests/test_client_core.py`);
  return value;
};

export const HUB = {
  url: need('HUB_TEST_URL'),
  wsUrl: need('HUB_TEST_WS_URL'),
  port: Number(need('HUB_TEST_PORT')),
  conv: need('HUB_TEST_CONV'),
  tokens: JSON.parse(need('HUB_TEST_TOKENS')),
  users: JSON.parse(need('HUB_TEST_USERS')),
  heartbeatSecs: Number(need('HUB_TEST_HEARTBEAT_SECS')),
  recallSecs: Number(need('HUB_TEST_RECALL_SECS')),
  closeCodes: JSON.parse(need('HUB_TEST_CLOSE_CODES')),
};

export const WAIT_MS = 15000;

/** Wait until `check()` is truthy (polled), else fail saying `what`. */
export async function waitFor(check, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Collect a HubSocket's events of `type` into an array. */
export function collect(sock, type) {
  const seen = [];
  sock.on(type, (frame, meta) => seen.push({ ...frame, _meta: meta }));
  return seen;
}

/**
 * A browser adapter that records what goes each way and can drop frames to the client: `dropIn(pred)` drops
 * the frames for which pred(frameObject) is true (return false from pred once done to drop only one).
 */
export function recordingSocket() {
  const base = browserSocket(globalThis.WebSocket);
  const record = { opened: 0, out: [], in: [], dropIn: null, transports: [] };
  record.factory = (url) => {
    record.opened += 1;
    const adapter = base(url);
    const wrapped = {
      onopen: null, onmessage: null, onclose: null, onerror: null,
      send: (text) => { record.out.push(JSON.parse(text)); adapter.send(text); },
      close: (reason) => adapter.close(reason),
    };
    adapter.onopen = () => wrapped.onopen && wrapped.onopen();
    adapter.onmessage = (text) => {
      const frame = JSON.parse(text);
      record.in.push(frame);
      if (record.dropIn && record.dropIn(frame)) return;
      if (wrapped.onmessage) wrapped.onmessage(text);
    };
    adapter.onclose = (code, reason) => wrapped.onclose && wrapped.onclose(code, reason);
    adapter.onerror = (err) => wrapped.onerror && wrapped.onerror(err);
    record.transports.push(adapter);
    return wrapped;
  };
  return record;
}

export function hubSocket(user, extra = {}) {
  return new HubSocket({ url: HUB.wsUrl, getToken: () => HUB.tokens[user], ...extra });
}

export async function opened(sock) {
  sock.start();
  await waitFor(() => sock.status === 'open', `${sock.url} open`);
  await waitFor(() => sock._syncs.size === 0, 'the first sync');
  return sock;
}

/**
 * A TCP proxy in front of the hub. `silence()` makes every connection open now go quiet both ways without
 * closing (a network that drops packets: nothing tells either side); `cut()` destroys them (a reset);
 * `swallowReplies()` keeps forwarding the client's bytes but drops the hub's (the ack is lost on the way).
 * New connections work normally.
 */
export async function startProxy(targetPort = HUB.port) {
  const links = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const link = { client, upstream, silent: false, swallow: false };
    links.add(link);
    client.on('data', (chunk) => { if (!link.silent) upstream.write(chunk); });
    upstream.on('data', (chunk) => { if (!link.silent && !link.swallow) client.write(chunk); });
    const end = () => { links.delete(link); client.destroy(); upstream.destroy(); };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get links() { return links.size; },
    silence() { for (const l of links) l.silent = true; },
    swallowReplies() { for (const l of links) l.swallow = true; },
    restore() { for (const l of links) { l.swallow = false; l.silent = false; } },
    cut() { for (const l of [...links]) { l.client.destroy(); l.upstream.destroy(); } },
    async close() {
      for (const l of [...links]) { l.client.destroy(); l.upstream.destroy(); }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** REST call to the hub (node's fetch). */
export async function api(method, path, user, body) {
  const res = await fetch(HUB.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${HUB.tokens[user]}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The conversation's messages as stored, in seq order (every page). */
export async function storedMessages(conv = HUB.conv) {
  const items = [];
  let after = 0;
  for (;;) {
    const { status, body } = await api('GET', `/api/consultations/${conv}/messages?after_seq=${after}&limit=200`,
      'resident');
    if (status !== 200) throw new Error(JSON.stringify(body));
    items.push(...body.items);
    if (body.items.length < 200) return items;
    after = body.items[body.items.length - 1].seq;
  }
}

export async function currentSeq(conv = HUB.conv) {
  const items = await storedMessages(conv);
  return items.length ? items[items.length - 1].seq : 0;
}

let counter = 0;
export function marker(what) {
  counter += 1;
  return `${what}-${process.pid}-${counter}-${Date.now()}`;
}
