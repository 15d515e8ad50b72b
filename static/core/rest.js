/* REST client of the hub's JSON API (no DOM code): JSON in and out, a timeout per request, and the hub's error
 * shape ({error: {code, message, ...}}) as a RestError{status, code, message, details}. */
export class RestError extends Error {
  constructor(status, code, message, details = {}) {
    super(message || code);
    this.name = 'RestError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * @param {object} o
 * @param {string} [o.baseUrl] prefix of every path ('' = same origin)
 * @param {() => (string|null)} [o.getToken] the access token, sent as Authorization: Bearer
 * @param {number} [o.timeoutMs] per request (code `timeout` when over)
 * @param {Function} [o.fetch] a fetch implementation (default: the global one)
 * @param {(err: RestError) => void} [o.onUnauthorized] called on every 401 (the shells go back to login)
 */
export function createRest({ baseUrl = '', getToken = () => null, timeoutMs = 15000, fetch: fetchImpl,
  onUnauthorized } = {}) {
  const doFetch = fetchImpl || ((...args) => globalThis.fetch(...args));

  async function request(method, path, body, options = {}) {
    const headers = { Accept: 'application/json', ...(options.headers || {}) };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined && body !== null) {
      if (options.raw) {
        payload = body;
      } else {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
      }
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs || timeoutMs);
    let response;
    try {
      response = await doFetch(baseUrl + path, { method, headers, body: payload, signal: controller.signal });
    } catch (err) {
      if (controller.signal.aborted) throw new RestError(0, 'timeout', '请求超时，请稍后重试');
      throw new RestError(0, 'network', '网络连接失败，请检查网络');
    } finally {
      clearTimeout(timer);
    }
    const type = response.headers.get('Content-Type') || '';
    let data = null;
    if (response.status !== 204) {
      if (type.includes('application/json')) {
        try { data = await response.json(); } catch (_err) { data = null; }
      } else if (options.blob) {
        data = await response.blob();
      } else {
        data = await response.text();
      }
    }
    if (!response.ok) {
      const e = (data && data.error) || {};
      const { code, message, ...details } = e;
      const err = new RestError(response.status, code || `http_${response.status}`,
        message || `请求失败 (${response.status})`, details);
      if (response.status === 401 && onUnauthorized) onUnauthorized(err);
      throw err;
    }
    return data;
  }

  return {
    request,
    get: (path, options) => request('GET', path, undefined, options),
    post: (path, body, options) => request('POST', path, body, options),
    put: (path, body, options) => request('PUT', path, body, options),
    patch: (path, body, options) => request('PATCH', path, body, options),
    delete: (path, body, options) => request('DELETE', path, body, options),
  };
}

/** `?a=1&b=x` from an object, leaving out empty values. */
export function queryString(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
