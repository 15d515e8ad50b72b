// HubSocket against the real hub of tests/test_client_core.py (heartbeat 1 s, recall window 77 s).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { HubSocket } from '../../static/core/socket.js';
import {
  HUB, WAIT_MS, collect, currentSeq, hubSocket, marker, opened, recordingSocket, startProxy, storedMessages,
  waitFor,
} from './helpers.mjs';

const sockets = [];
const proxies = [];
after(async () => {
  for (const s of sockets) s.stop();
  for (const p of proxies) await p.close();
});

function keep(sock) { sockets.push(sock); return sock; }

async function proxy() {
  const p = await startProxy();
  proxies.push(p);
  return p;
}

/** The doctor, connected, tracking the conversation from now on, collecting what it receives. */
async function doctor() {
  const sock = keep(hubSocket('doctor'));
  const got = collect(sock, 'message');
  const acks = collect(sock, 'ack');
  sock.track(HUB.conv, await currentSeq());
  await opened(sock);
  return { sock, got, acks };
}

async function say(sock, text) {
  const acks = [];
  const off = sock.on('ack', (a) => acks.push(a));
  const id = sock.send({ conv: HUB.conv, text });
  await waitFor(() => acks.find((a) => a.id === id), `ack of "${text}"`);
  off();
  return acks.find((a) => a.id === id);
}

test('auth is the first frame; welcome gives the heartbeat and the recall window, and pings follow', async () => {
  const rec = recordingSocket();
  const statuses = [];
  const sock = keep(hubSocket('resident', { socket: rec.factory, onStatus: (s) => statuses.push(s) }));
  const welcomes = collect(sock, 'welcome');
  await opened(sock);
  assert.deepEqual(rec.out[0], { type: 'auth', token: HUB.tokens.resident });
  assert.equal(welcomes.length, 1);
  assert.equal(sock.user.id, HUB.users.resident);
  assert.equal(sock.user.role, 'resident');
  assert.equal(sock.heartbeatSecs, HUB.heartbeatSecs);
  assert.equal(sock.recallSecs, HUB.recallSecs);
  assert.deepEqual(statuses, ['connecting', 'open']);
  assert.equal(rec.out[1].type, 'sync'); // sync first, on every connect
  // a ping every heartbeat, each answered
  await waitFor(() => rec.out.filter((f) => f.type === 'ping').length >= 2, 'two pings');
  await waitFor(() => rec.in.some((f) => f.type === 'pong'), 'a pong');
  assert.equal(sock.status, 'open');
});

test('sync after a reconnect brings the messages missed meanwhile, in order', async () => {
  const doc = await doctor();
  const sock = keep(hubSocket('resident'));
  const got = collect(sock, 'message');
  sock.track(HUB.conv, await currentSeq());
  await opened(sock);
  sock.stop();
  assert.equal(sock.status, 'closed');
  const a = marker('missed-a');
  const b = marker('missed-b');
  await say(doc.sock, a);
  await say(doc.sock, b);
  await opened(sock);
  await waitFor(() => got.some((m) => m.text === b), 'the missed messages');
  const mine = got.filter((m) => m.text === a || m.text === b);
  assert.deepEqual(mine.map((m) => m.text), [a, b]);
  assert.ok(mine.every((m) => m._meta.replay), 'delivered by the sync');
  const seqs = got.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i += 1) assert.equal(seqs[i], seqs[i - 1] + 1, `contiguous: ${seqs}`);
  assert.equal(sock.lastSeq(HUB.conv), seqs[seqs.length - 1]);
});

test('a gap in seq asks for a sync, and the messages come in order', async () => {
  const doc = await doctor();
  const rec = recordingSocket();
  const sock = keep(hubSocket('resident', { socket: rec.factory }));
  const got = collect(sock, 'message');
  const gaps = collect(sock, 'gap');
  sock.track(HUB.conv, await currentSeq());
  await opened(sock);
  const lost = marker('lost');
  const next = marker('next');
  let dropped = 0;
  rec.dropIn = (f) => { // the first live copy of `lost` never reaches the client
    if (dropped === 0 && f.type === 'message' && f.text === lost) { dropped += 1; return true; }
    return false;
  };
  const syncsBefore = rec.out.filter((f) => f.type === 'sync').length;
  await say(doc.sock, lost);
  await say(doc.sock, next);
  await waitFor(() => got.some((m) => m.text === next), 'the message after the gap');
  assert.equal(dropped, 1);
  assert.ok(gaps.length >= 1, 'the gap was seen');
  assert.ok(rec.out.filter((f) => f.type === 'sync').length > syncsBefore, 'a sync was sent');
  const texts = got.map((m) => m.text).filter((t) => t === lost || t === next);
  assert.deepEqual(texts, [lost, next]);
  const seqs = got.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i += 1) assert.equal(seqs[i], seqs[i - 1] + 1, `contiguous: ${seqs}`);
});

test('a send whose ack is lost is resent after the drop with the same id, and stored once', async () => {
  const doc = await doctor();
  const p = await proxy();
  const rec = recordingSocket();
  const sock = keep(hubSocket('resident', { url: p.wsUrl, socket: rec.factory }));
  const acks = collect(sock, 'ack');
  await opened(sock);
  const text = marker('once');
  p.swallowReplies(); // the hub gets the send; its ack never comes back
  const id = sock.send({ conv: HUB.conv, text });
  await waitFor(() => doc.got.some((m) => m.text === text), 'the hub stored it and the doctor got it');
  assert.equal(acks.length, 0);
  p.cut(); // then the connection drops
  await waitFor(() => acks.some((a) => a.id === id), 'the ack after the resend');
  const sends = rec.out.filter((f) => f.type === 'send' && f.id === id);
  assert.ok(sends.length >= 2, 'sent again after the reconnect');
  assert.ok(sends.every((f) => f.text === text));
  assert.equal(acks.filter((a) => a.id === id).length, 1);
  assert.equal(sock.pending().length, 0);
  const stored = (await storedMessages()).filter((m) => m.text === text);
  assert.equal(stored.length, 1, 'stored once');
  assert.equal(stored[0].seq, acks[0].seq);
  await say(doc.sock, marker('after')); // anything later comes after it: the doctor got it once
  assert.equal(doc.got.filter((m) => m.text === text).length, 1);
});

test('a send with no ack is reported failed within seconds, and a retry delivers it once', async () => {
  const doc = await doctor();
  const rec = recordingSocket();
  const sock = keep(hubSocket('resident', { socket: rec.factory, ackTimeoutMs: 1500 }));
  const failed = collect(sock, 'send_failed');
  const acks = collect(sock, 'ack');
  await opened(sock);
  const text = marker('no-ack');
  const id = `noack${Date.now()}`;
  let lost = 0;
  rec.dropIn = (f) => { // the hub stores it, but its first ack is lost on the way
    if (lost === 0 && f.type === 'ack' && f.id === id) { lost += 1; return true; }
    return false;
  };
  assert.equal(sock.send({ conv: HUB.conv, text, id }), id);
  await waitFor(() => failed.some((f) => f.id === id), 'send_failed', 5000);
  const report = failed.find((f) => f.id === id);
  assert.equal(report.code, 'timeout');
  assert.equal(report.retryable, true);
  assert.equal(report.text, text);
  assert.deepEqual(sock.pending().map((e) => [e.id, e.state]), [[id, 'failed']]);
  assert.equal(acks.length, 0);
  assert.equal(sock.status, 'open'); // the socket answered the probe: only this send is in doubt
  assert.equal(sock.retry(id), true);
  await waitFor(() => acks.some((a) => a.id === id), 'the ack of the retry');
  assert.equal(lost, 1);
  assert.equal(sock.pending().length, 0);
  assert.equal((await storedMessages()).filter((m) => m.text === text).length, 1);
  await say(doc.sock, marker('after'));
  assert.equal(doc.got.filter((m) => m.text === text).length, 1);
  assert.equal(sock.retry(id), false); // nothing left to retry
});

test('a silent network drop is noticed within two heartbeats and the socket comes back', async () => {
  const p = await proxy();
  const statuses = [];
  const sock = keep(hubSocket('resident', { url: p.wsUrl, onStatus: (s) => statuses.push(s) }));
  await opened(sock);
  const welcomes = sock.connects;
  p.silence(); // nothing arrives, nothing closes
  const bound = HUB.heartbeatSecs * 2 * 1000 + 2000;
  await waitFor(() => sock.status === 'reconnecting', 'the drop noticed', bound);
  await waitFor(() => sock.status === 'open' && sock.connects === welcomes + 1, 'connected again');
  assert.deepEqual(statuses.slice(-2), ['reconnecting', 'open']);
});

test('a send with no ack probes the socket: a silent drop is found at once, and the send goes after it', async () => {
  const doc = await doctor();
  const p = await proxy();
  const sock = keep(hubSocket('resident', {
    url: p.wsUrl, ackTimeoutMs: 1000, probeTimeoutMs: 1000, livenessHeartbeats: 1000,
  }));
  const acks = collect(sock, 'ack');
  await opened(sock);
  p.silence();
  const text = marker('probe');
  const id = sock.send({ conv: HUB.conv, text });
  await waitFor(() => sock.status === 'reconnecting', 'the probe found the drop', 5000);
  await waitFor(() => acks.some((a) => a.id === id), 'the failed send resent after the reconnect');
  await waitFor(() => doc.got.some((m) => m.text === text), 'the doctor got it');
  assert.equal((await storedMessages()).filter((m) => m.text === text).length, 1);
});

test('4001 (a token the hub refuses) does not reconnect', async () => {
  const rec = recordingSocket();
  const sock = keep(new HubSocket({ url: HUB.wsUrl, getToken: () => 'not-a-token', socket: rec.factory }));
  const closed = collect(sock, 'closed');
  const errors = collect(sock, 'error');
  sock.start();
  await waitFor(() => sock.status === 'auth', 'status auth');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].code, 4001);
  assert.equal(errors[0].code, 'unauthorized');
  assert.equal(rec.opened, 1);
  assert.equal(sock._timers.reconnect, null, 'no reconnect scheduled');
  assert.equal(sock.attempts, 0);
  sock.reconnectNow(); // nor on request: it needs a new login (a new HubSocket or start())
  assert.equal(rec.opened, 1);
});

test('no token at all is status auth without a frame sent', async () => {
  const rec = recordingSocket();
  const sock = keep(new HubSocket({ url: HUB.wsUrl, getToken: async () => null, socket: rec.factory }));
  sock.start();
  await waitFor(() => sock.status === 'auth', 'status auth');
  assert.equal(rec.out.length, 0);
});

test('recall: an error frame rejects, a success resolves', async () => {
  const sock = keep(hubSocket('resident'));
  await opened(sock);
  const ack = await say(sock, marker('recall-me'));
  assert.equal(await sock.recall(HUB.conv, ack.seq), null);
  await assert.rejects(sock.recall(HUB.conv, 999999), (err) => err.type === 'error' && typeof err.code === 'string');
}, { timeout: WAIT_MS });

test('with storage, a send not yet acknowledged survives a reload and goes on the next connect', async () => {
  const saved = new Map();
  const storage = { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, v),
    removeItem: (k) => saved.delete(k) };
  const p = await proxy();
  const first = keep(hubSocket('resident', { url: p.wsUrl, storage, ackTimeoutMs: 60000 }));
  await opened(first);
  p.silence(); // the send goes nowhere
  const text = marker('reload');
  const id = first.send({ conv: HUB.conv, text });
  first.stop(); // the page is closed before any ack
  assert.ok([...saved.values()].some((v) => v.includes(id)), 'kept in storage');
  const second = keep(hubSocket('resident', { storage }));
  const acks = collect(second, 'ack');
  await opened(second);
  await waitFor(() => acks.some((a) => a.id === id), 'the ack after the reload');
  assert.equal((await storedMessages()).filter((m) => m.text === text).length, 1);
  assert.ok(![...saved.values()].some((v) => v.includes(id)), 'gone from storage once acknowledged');
});
