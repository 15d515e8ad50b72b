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

export const SIGNING_ROLES = new Set(["doctor", "team_leader"]);  // scopes.SIGNING_ROLES: sign, review, renew
export const EDIT_ROLES = new Set(["doctor", "assistant", "team_leader", "admin", "sysadmin"]);  // not supervisors
export const TAG_ROLES = EDIT_ROLES;  // hub.roster.scopes.require_tag_user
export const MAX_TERM_YEARS = 3;  // signing.max_term_years is 1 to 3; the server checks the setting itself

/** A query string of the non-empty values (``?a=1&b=x`` or ""). */
export function queryOf(values) {
  const qs = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== undefined && v !== null
    && v !== "")).toString();
  return qs ? `?${qs}` : "";
}

/** A stylesheet next to the page module, linked once (the shells' CSP allows no inline <style>). */
export function linkStylesheet(url) {
  const href = String(url);
  if (document.querySelector(`link[data-signing-css="${href}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  link.dataset.signingCss = href;
  document.head.appendChild(link);
}

export const day = (iso) => (iso ? iso.slice(0, 10) : "—");

/** Cursor paging of a list page: ``fetchPage(cursor)`` answers ``{items, next_cursor, ...}``; the pager keeps the
 * cursor of every page seen, so 上一页 goes back without the server knowing page numbers. An answer to an older
 * question (the filters changed meanwhile) is dropped. ``onAnswer(answer)`` sees each kept answer (counts). */
export function cursorPager(fetchPage, { onAnswer, onError } = {}) {
  const pager = Vue.reactive({ rows: [], loading: false, index: 0, next: null, cursors: [null] });
  let asked = 0;
  async function load() {
    const mine = ++asked;
    pager.loading = true;
    try {
      const answer = await fetchPage(pager.cursors[pager.index]);
      if (mine !== asked) return;
      pager.rows = itemsOf(answer);
      pager.next = answer.next_cursor || null;
      if (onAnswer) onAnswer(answer);
    } catch (err) {
      if (mine === asked && onError) onError(errorOf(err).message);
    } finally {
      if (mine === asked) pager.loading = false;
    }
  }
  function first() {
    pager.cursors = [null];
    pager.index = 0;
    return load();
  }
  function turn(step) {
    if (step > 0) pager.cursors[pager.index + 1] = pager.next;
    pager.index = Math.max(0, pager.index + step);
    return load();
  }
  return { pager, load, first, turn };
}

const regionNames = new Map();  // code → name: public division names, fetched once per town

/** The names of villages (and their towns) for codes shown in a list: "雉城街道 城东村". */
export async function placeNames(hub, codes) {
  const towns = new Set(codes.filter(Boolean).map((c) => `${c.slice(0, 9)}000`));
  const counties = new Set([...towns].map(countyOf));
  const wanted = [...counties, ...towns].filter((c) => !regionNames.has(`children:${c}`));
  await Promise.all(wanted.map(async (parent) => {
    for (const r of await childRegions(hub, parent).catch(() => [])) regionNames.set(r.code, r.name);
    regionNames.set(`children:${parent}`, true);
  }));
  return (code) => {
    if (!code) return "—";
    const town = regionNames.get(`${code.slice(0, 9)}000`);
    const village = code.endsWith("000") ? "" : regionNames.get(code);
    return [town, village].filter(Boolean).join(" ") || code;
  };
}
