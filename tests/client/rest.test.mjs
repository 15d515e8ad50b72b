// static/core/rest.js against the real hub (the error shape) and a local server that never answers (timeout).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import { RestError, createRest, queryString } from '../../static/core/rest.js';
import { HUB } from './helpers.mjs';

const servers = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections?.();
    await new Promise((resolve) => s.close(resolve));
  }
});

const restFor = (user, extra = {}) => createRest({ baseUrl: HUB.url, getToken: () => HUB.tokens[user] ?? null,
  timeoutMs: 10000, ...extra });

test('JSON in and out with the bearer token', async () => {
  const rest = restFor('resident');
  const open = await rest.get(`/api/consultations${queryString({ status: 'open', limit: 5, cursor: '' })}`);
  assert.ok(Array.isArray(open.items));
  assert.ok(open.items.some((c) => c.id === HUB.conv));
  const conv = await rest.post('/api/consultations', { doctor_id: HUB.users.doctor });
  assert.equal(conv.id, HUB.conv); // reopening while one is open returns the open one
});

test("the hub's error shape becomes a RestError with status, code, message and details", async () => {
  const rest = restFor('resident');
  await assert.rejects(rest.get('/api/consultations/no-such-conversation'), (err) => {
    assert.ok(err instanceof RestError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0);
    return true;
  });
  await assert.rejects(rest.get('/api/consultations?limit=0'), (err) => {
    assert.equal(err.status, 400);
    assert.equal(typeof err.code, 'string');
    assert.equal(typeof err.details, 'object');
    return true;
  });
  await assert.rejects(rest.post('/api/consultations', { doctor_id: 12 }), (err) => err.status === 400);
});

test('401 calls onUnauthorized and throws code unauthorized', async () => {
  const seen = [];
  const rest = restFor('nobody', { getToken: () => 'not-a-token', onUnauthorized: (err) => seen.push(err) });
  await assert.rejects(rest.get('/api/consultations'), (err) => err.status === 401 && err.code === 'unauthorized');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].code, 'unauthorized');
});

test('a request that gets no answer fails with code timeout', async () => {
  const hanging = http.createServer(() => { /* never answers */ });
  servers.push(hanging);
  await new Promise((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  const rest = createRest({ baseUrl: `http://127.0.0.1:${hanging.address().port}`, timeoutMs: 300 });
  await assert.rejects(rest.get('/api/anything'), (err) => {
    assert.ok(err instanceof RestError);
    assert.equal(err.code, 'timeout');
    assert.equal(err.status, 0);
    return true;
  });
  // a per-request timeout too
  await assert.rejects(createRest({ baseUrl: `http://127.0.0.1:${hanging.address().port}` })
    .get('/x', { timeoutMs: 200 }), (err) => err.code === 'timeout');
});

test('nothing listening is code network', async () => {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve)); // the port is free again: connections are refused
  const rest = createRest({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
  await assert.rejects(rest.get('/api/x'), (err) => err.code === 'network' && err.status === 0);
});
