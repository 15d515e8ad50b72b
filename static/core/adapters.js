/* Socket adapters: the one small interface HubSocket talks to, over a platform's WebSocket.
 *
 * An adapter factory takes a URL and returns `{send(text), close()}`; HubSocket sets its handlers
 * `onopen()`, `onmessage(text)`, `onclose(code, reason)`, `onerror(err)`. Nothing else is used, so a new
 * platform needs only a factory of its own.
 */

/** Close code a client sends: WebSocket APIs accept only 1000 or 3000–4999 from scripts. */
const CLIENT_CLOSE = 1000;

function blankAdapter() {
  return { onopen: null, onmessage: null, onclose: null, onerror: null };
}

/** The browser's (or node's `--experimental-websocket`) WebSocket. */
export function browserSocket(WebSocketImpl = globalThis.WebSocket) {
  if (typeof WebSocketImpl !== 'function') throw new TypeError('no WebSocket implementation');
  return (url) => {
    const ws = new WebSocketImpl(url);
    const adapter = blankAdapter();
    adapter.send = (text) => ws.send(text);
    adapter.close = (reason = 'client') => {
      try { ws.close(CLIENT_CLOSE, reason); } catch { /* already closed or closing */ }
    };
    ws.onopen = () => adapter.onopen && adapter.onopen();
    ws.onmessage = (event) => adapter.onmessage && adapter.onmessage(String(event.data));
    ws.onclose = (event) => adapter.onclose && adapter.onclose(event.code, event.reason || '');
    ws.onerror = (event) => adapter.onerror && adapter.onerror(event);
    return adapter;
  };
}

/** A WeChat mini-program's `wx.connectSocket` SocketTask. `header` goes on the upgrade request. */
export function wxSocket(wx, { header } = {}) {
  if (!wx || typeof wx.connectSocket !== 'function') throw new TypeError('wx.connectSocket is missing');
  return (url) => {
    const adapter = blankAdapter();
    let closed = false;
    const closedWith = (code, reason) => {
      if (closed) return;
      closed = true;
      if (adapter.onclose) adapter.onclose(code, reason || '');
    };
    const task = wx.connectSocket({
      url,
      header,
      // connectSocket reports a failure to start through `fail` and may never call onClose
      fail: (err) => closedWith(1006, (err && err.errMsg) || 'connect failed'),
    });
    task.onOpen(() => adapter.onopen && adapter.onopen());
    task.onMessage((res) => adapter.onmessage && adapter.onmessage(String(res.data)));
    task.onClose((res) => closedWith(res && res.code, res && res.reason));
    task.onError((err) => adapter.onerror && adapter.onerror(err));
    adapter.send = (text) => task.send({ data: text });
    adapter.close = (reason = 'client') => {
      try { task.close({ code: CLIENT_CLOSE, reason }); } catch { /* already closed */ }
    };
    return adapter;
  };
}
