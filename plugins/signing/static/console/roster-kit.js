// Helpers shared by the roster pages of the signing plugin (sign, pick, import, teams, institutions, packages):
// the server's error answer turned into per-field messages, the region cascade, binary up/downloads.

const SESSION_KEY = "jtyh.session";

/** The message of a failed request, and the form field it names (``details.field``; "resident.name" → "name"). */
export function errorOf(err) {
  // RestError.details is the error minus code and message: the hub's own ``details`` sit one level down
  const outer = (err && err.details) || {};
  const details = outer.details && typeof outer.details === "object" ? outer.details : outer;
  const field = String(details.field || "").replace(/^resident\./, "");
  return { field, message: (err && err.message) || "操作失败，请重试", code: err?.code || "" };
}

/** The county code (12 digits) of any code inside it. */
export function countyOf(code) {
  return code && code.length === 12 ? `${code.slice(0, 6)}000000` : "";
}

/** The towns of the user's county, and a town's villages: ``GET /api/signing/regions?parent=``. */
export async function childRegions(hub, parent) {
  return itemsOf(await hub.rest.get(`/api/signing/regions${parent ? `?parent=${parent}` : ""}`));
}

export function itemsOf(answer) {
  return (answer && (answer.items || answer.data)) || [];
}

function token(hub) {
  if (typeof hub.getToken === "function") return hub.getToken();
  if (hub.session && hub.session.token) return hub.session.token;
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "{}").token || "";
  } catch {
    return "";
  }
}

/** A request the JSON client cannot make (a file up or down), with the session's token. */
export async function rawRequest(hub, path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...(init.headers || {}), Authorization: `Bearer ${token(hub)}` },
  });
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      /* not JSON */
    }
    const failure = new Error(error.message || `请求失败（${response.status}）`);
    Object.assign(failure, { status: response.status, code: error.code || "http", details: error.details || {} });
    throw failure;
  }
  return response;
}

/** Download a file the hub serves behind the token: fetch it, then hand it to the browser as a link. */
export async function download(hub, path, filename) {
  const blob = await (await rawRequest(hub, path)).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const STATUS_TYPES = { signed: "success", to_renew: "warning", refused: "danger", unable: "info",
  unsigned: "" };
