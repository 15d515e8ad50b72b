// The socket adapters: the WeChat mini-program one through a fake `wx` whose SocketTask is backed by a real
// WebSocket to the hub (so HubSocket runs end to end over the wx API), and its failure paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { HubSocket } from '../../static/core/socket.js';
import { browserSocket, wxSocket } from '../../static/core/adapters.js';
import { HUB, collect, waitFor } from './helpers.mjs';

const sockets = [];
after(() => { for (const s of sockets) s.stop(); });

/** A fake `wx` with the SocketTask API of the mini-program base library, over node's WebSocket. */
function fakeWx({ failConnect = false } = {}) {
  const calls = [];
  const wx = {
    calls,
    tasks: [],
    connectSocket(options) {
      calls.push(['connectSocket', options.url, options.header]);
      const handlers = {};
      const task = {
        onOpen: (fn) => { handlers.open = fn; },
        onMessage: (fn) => { handlers.message = fn; },
        onClose: (fn) => { handlers.close = fn; },
        onError: (fn) => { handlers.error = fn; },
        send: ({ data }) => { calls.push(['send', JSON.parse(data).type]); ws.send(data); },
        close: ({ code, reason }) => { calls.push(['close', code, reason]); ws.close(code, reason); },
      };
      wx.tasks.push(task);
      if (failConnect) {
        setTimeout(() => options.fail && options.fail({ errMsg: 'connectSocket:fail' }), 0);
        const ws = { send() {}, close() {} };
        return task;
      }
      const ws = new WebSocket(options.url);
      ws.onopen = () => handlers.open && handlers.open({ header: {} });
      ws.onmessage = (e) => handlers.message && handlers.message({ data: e.data });
      ws.onclose = (e) => handlers.close && handlers.close({ code: e.code, reason: e.reason });
      ws.onerror = () => handlers.error && handlers.error({ errMsg: 'error' });
      return task;
    },
  };
  return wx;
}

test('HubSocket over wx.connectSocket: auth, welcome, send and ack', async () => {
  const wx = fakeWx();
  const sock = new HubSocket({ url: HUB.wsUrl, getToken: () => HUB.tokens.resident2, socket: wxSocket(wx) });
  sockets.push(sock);
  const acks = collect(sock, 'ack');
  sock.start();
  await waitFor(() => sock.status === 'open', 'open over wx');
  assert.equal(sock.heartbeatSecs, HUB.heartbeatSecs);
  assert.deepEqual(wx.calls[0], ['connectSocket', HUB.wsUrl, undefined]);
  assert.deepEqual(wx.calls[1], ['send', 'auth']);
  const { status, body } = await fetch(`${HUB.url}/api/consultations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${HUB.tokens.resident2}` },
    body: JSON.stringify({ doctor_id: HUB.users.doctor2 }),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
  assert.ok(status === 200 || status === 201, JSON.stringify(body));
  const id = sock.send({ conv: body.id, text: '通过小程序发送' });
  await waitFor(() => acks.some((a) => a.id === id), 'the ack');
  assert.equal(acks[0].conv, body.id);
  sock.stop();
  assert.deepEqual(wx.calls[wx.calls.length - 1], ['close', 1000, 'client']);
});

test('a server close comes through onClose with its code', async () => {
  const wx = fakeWx();
  const sock = new HubSocket({ url: HUB.wsUrl, getToken: () => 'bad-token', socket: wxSocket(wx) });
  sockets.push(sock);
  const closed = collect(sock, 'closed');
  sock.start();
  await waitFor(() => sock.status === 'auth', 'status auth');
  assert.equal(closed[0].code, 4001);
  assert.equal(wx.tasks.length, 1);
});

test('connectSocket failing is a close (1006) and a reconnect is scheduled', async () => {
  const wx = fakeWx({ failConnect: true });
  const sock = new HubSocket({ url: 'wss://hub.example.cn/ws', getToken: () => 't', socket: wxSocket(wx),
    reconnectMinMs: 60000 });
  sockets.push(sock);
  sock.start();
  await waitFor(() => sock.status === 'reconnecting' && sock.attempts === 1, 'reconnecting after the failure');
  assert.equal(wx.tasks.length, 1);
  sock.stop();
  assert.equal(sock.status, 'closed');
});

test('the adapters refuse a platform without sockets', () => {
  assert.throws(() => wxSocket({}), TypeError);
  assert.throws(() => browserSocket(null), TypeError);
});
