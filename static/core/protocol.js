/* The hub's client contract (PROTOCOL.md) as data: frame types and WebSocket close codes.
 *
 * Plain ES module, no DOM: the browser pages, the node tests and a WeChat mini-program import the same file.
 * Protocol values that the server decides (heartbeat, recall window) are NOT here: they come in `welcome`.
 */

/** Frames a client sends. */
export const CLIENT_FRAMES = Object.freeze({
  AUTH: 'auth',
  SEND: 'send',
  SYNC: 'sync',
  READ: 'read',
  TYPING: 'typing',
  RECALL: 'recall',
  PING: 'ping',
});

/** Frames the hub sends. */
export const SERVER_FRAMES = Object.freeze({
  WELCOME: 'welcome',
  ACK: 'ack',
  SYNCED: 'synced',
  MESSAGE: 'message',
  NOTICE: 'notice',
  READ: 'read',
  TYPING: 'typing',
  RECALLED: 'recalled',
  CONV: 'conv',
  ERROR: 'error',
  PONG: 'pong',
});

/**
 * Every close code a client can see, what it means and what the client does next.
 * `reconnect`: false means the socket stays closed until something changes (a new login); `status` is the
 * HubSocket status then. `backoff`: a multiplier of the reconnect delay (a policy close should not come back
 * at once). The hub's own codes are checked against this table by tests/test_client_core.py.
 */
export const CLOSE_CODES = Object.freeze({
  1000: Object.freeze({ name: 'normal', meaning: '正常关闭', reconnect: true }),
  1001: Object.freeze({ name: 'going_away', meaning: '服务器正在关闭，请重连（任意节点）', reconnect: true }),
  1005: Object.freeze({ name: 'no_status', meaning: '连接关闭（无状态码）', reconnect: true }),
  1006: Object.freeze({ name: 'abnormal', meaning: '连接异常中断', reconnect: true }),
  1008: Object.freeze({ name: 'policy_violation', meaning: '违反策略', reconnect: true, backoff: 4 }),
  1009: Object.freeze({ name: 'too_large', meaning: '帧过大', reconnect: true }),
  1011: Object.freeze({ name: 'internal', meaning: '服务器内部错误', reconnect: true, backoff: 2 }),
  4001: Object.freeze({ name: 'unauthorized', meaning: '登录已失效，请重新登录', reconnect: false, status: 'auth' }),
  4003: Object.freeze({ name: 'forbidden', meaning: '没有权限', reconnect: false, status: 'forbidden' }),
  4008: Object.freeze({ name: 'policy', meaning: '发送过快或接收过慢，稍后重连', reconnect: true, backoff: 4 }),
});

/** What to do after a close with `code` (unknown codes: reconnect, as after a network drop). */
export function closeAction(code) {
  return CLOSE_CODES[code] || { name: 'unknown', meaning: '连接关闭', reconnect: true };
}

/** Error codes of `error` frames (PROTOCOL.md) with the text a page shows. */
export const ERROR_TEXT = Object.freeze({
  unauthorized: '登录已失效，请重新登录',
  forbidden: '没有权限',
  not_found: '找不到对象',
  invalid_frame: '请求格式错误',
  invalid_input: '请求格式错误',
  too_large: '内容过长',
  rate_limited: '操作过于频繁，请稍后再试',
  content_blocked: '内容包含违禁词，未发送',
  conversation_closed: '咨询已结束，无法发送',
  recall_expired: '已超过可撤回时间，无法撤回',
  internal: '服务器出错，请稍后再试',
  timeout: '未发送，点击重试',
});

/** The longest client frame id the hub takes. */
export const MAX_FRAME_ID_CHARS = 64;
