// Helpers shared by the core's supervision and account pages, and their stylesheet (admin.css, linked once:
// the shell's CSP allows styles from the hub only, never inline).

const STYLE_ID = 'jtyh-admin-pages-css';
if (typeof document !== 'undefined' && !document.getElementById(STYLE_ID)) {
  const link = document.createElement('link');
  link.id = STYLE_ID;
  link.rel = 'stylesheet';
  link.href = new URL('./admin.css', import.meta.url).href;
  document.head.appendChild(link);
}

export const ROLE_LABELS = {
  resident: '居民', doctor: '医生', assistant: '助理', team_leader: '团队长', admin: '机构管理员',
  supervisor: '监督管理', sysadmin: '系统管理员',
};

export const WORD_ACTIONS = [
  { value: 'block', label: '拦截', tag: 'danger' },
  { value: 'mask', label: '打码', tag: 'warning' },
  { value: 'alert', label: '预警', tag: 'primary' },
  { value: 'allow', label: '白名单', tag: 'success' },
];

export function wordActionLabel(action) {
  return (WORD_ACTIONS.find((a) => a.value === action) || { label: action }).label;
}

export function wordActionTag(action) {
  return (WORD_ACTIONS.find((a) => a.value === action) || { tag: 'info' }).tag;
}

// The audit actions the console names; any other action is shown as its code.
export const AUDIT_ACTIONS = {
  'sensitive_word.create': '新增敏感词',
  'sensitive_word.update': '修改敏感词',
  'sensitive_word.delete': '删除敏感词',
  'sensitive_word.import': '导入敏感词',
  'alert.view': '查看预警',
  'alert.resolve': '处理预警',
  'account.create': '创建账号',
  'account.disable': '停用账号',
  'account.enable': '启用账号',
  'account.password_reset': '重置密码',
  'auth.logout': '退出登录',
  'auth.password_change': '修改密码',
  'auth.login_failed': '登录失败',
  'auth.lockout': '登录锁定',
  'auth.locked_attempt': '锁定期间尝试登录',
  'signing.tag_create': '新建标签',
  'signing.tag_rename': '重命名标签',
  'signing.tag_delete': '删除标签',
  'signing.staff_create': '创建人员',
};

export function auditLabel(action) {
  return AUDIT_ACTIONS[action] || action;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

// "2026-12-03T15:51:18+08:00" → "2026-12-03 15:51:18" in the browser's time zone.
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// A query string from the non-empty values (el-date-picker ranges become since/until).
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (key === 'range') {
      if (Array.isArray(value) && value[0]) search.set('since', new Date(value[0]).toISOString());
      if (Array.isArray(value) && value[1]) search.set('until', new Date(value[1]).toISOString());
      continue;
    }
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// The hub's error details: {"error": {"code", "message", "details"}} reaches a page as RestError.details =
// {details: {...}} (the core keeps every field but code and message).
export function errorDetails(err) {
  if (!err || !err.details) return {};
  return err.details.details || err.details;
}

export function errorText(err) {
  if (!err) return '操作失败';
  return err.message || err.code || String(err);
}

// The console route of a notice or record (the bell's data.links.console), for pages that link elsewhere.
export function consoleLink(path, query) {
  return path + queryString(query || {});
}

// POST a raw body (a text file, a spreadsheet) and get the JSON reply.
export function postRaw(hub, path, body, contentType) {
  return hub.rest.post(path, body, { raw: true, headers: { 'Content-Type': contentType }, timeoutMs: 120000 });
}
