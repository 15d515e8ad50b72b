// The close-code table against the codes the hub uses (listed by tests/test_client_core.py), and the frame types.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { CLIENT_FRAMES, CLOSE_CODES, SERVER_FRAMES, closeAction } from '../../static/core/protocol.js';
import { HUB } from './helpers.mjs';

test('every close code the hub sends is in the table, with a meaning and a decision', () => {
  assert.ok(HUB.closeCodes.length >= 4, HUB.closeCodes);
  for (const code of HUB.closeCodes) {
    const entry = CLOSE_CODES[code];
    assert.ok(entry, `close code ${code} missing from protocol.js`);
    assert.equal(typeof entry.meaning, 'string');
    assert.equal(typeof entry.reconnect, 'boolean');
  }
  assert.equal(closeAction(4001).reconnect, false);
  assert.equal(closeAction(4001).status, 'auth');
  assert.equal(closeAction(1001).reconnect, true);
  assert.equal(closeAction(4008).reconnect, true);
  assert.ok(closeAction(4008).backoff > 1);
  assert.equal(closeAction(1006).reconnect, true);
  assert.equal(closeAction(4999).reconnect, true); // unknown: as a network drop
});

test('frame types are those of PROTOCOL.md', () => {
  assert.deepEqual(Object.values(CLIENT_FRAMES).sort(),
    ['auth', 'ping', 'read', 'recall', 'send', 'sync', 'typing']);
  for (const t of ['welcome', 'ack', 'synced', 'message', 'notice', 'read', 'typing', 'recalled', 'conv', 'error',
    'pong']) {
    assert.ok(Object.values(SERVER_FRAMES).includes(t), t);
  }
});
