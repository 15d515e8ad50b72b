// Helpers shared by the core's supervision and account pages, and their stylesheet (admin.css, linked once:
// the shell's CSP allows styles from the hub only, never inline).

import { ROLE_NAMES } from '../../shell/kit.js';

const STYLE_ID = 'jtyh-admin-pages-css';
if (typeof document !== 'undefined' && !document.getElementById(STYLE_ID)) {
  const link = document.createElement('link');
  link.id = STYLE_ID;
  link.rel = 'stylesheet';
  link.href = new URL('./admin.css', import.meta.url).href;
  document.head.appendChild(link);
}

// The role names the shell shows in its header.
export const ROLE_LABELS = ROLE_NAMES;

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
  'auth.login': '登录',
  'auth.logout': '退出登录',
  'auth.password_change': '修改密码',
  'auth.login_failed': '登录失败',
  'auth.lockout': '登录锁定',
  'auth.locked_attempt': '锁定期间尝试登录',
  'security.forbidden': '越权访问被拒',
  'consultation.open': '发起咨询',
  'consultation.end': '结束咨询',
  'message.recall': '撤回消息',
  'media.upload': '上传文件',
  'signing.apply': '申请签约',
  'signing.create': '签约',
  'signing.approve': '通过签约',
  'signing.reject': '拒绝签约',
  'signing.cancel': '撤销申请',
  'signing.terminate': '解约',
  'signing.renew': '续约',
  'signing.expire': '签约到期',
  'signing.refuse': '登记拒签',
  'signing.import_start': '开始导入签约',
  'signing.import': '导入签约',
  'signing.resident_create': '新增居民',
  'signing.resident_update': '修改居民',
  'signing.resident_export': '导出居民',
  'signing.resident_lookup': '查询居民',
  'signing.resident_lookup_refused': '查询居民被拒',
  'signing.resident_tags': '批量打标签',
  'signing.tag_create': '新建标签',
  'signing.tag_rename': '重命名标签',
  'signing.tag_delete': '删除标签',
  'signing.tag_apply': '添加标签',
  'signing.tag_remove': '移除标签',
  'signing.team_create': '新建团队',
  'signing.team_update': '调整团队',
  'signing.staff_create': '创建人员',
  'signing.institution_create': '新建机构',
  'signing.package_create': '新建服务包',
  'signing.regions_load': '导入行政区划',
  'signing.unable_request': '申请无法签约',
  'signing.unable_approve': '通过无法签约',
  'signing.unable_reject': '驳回无法签约',
  'signing.unable_lift': '撤销无法签约',
  'signing.family_add': '添加家庭成员',
  'signing.family_update': '修改家庭成员',
  'signing.family_remove': '删除家庭成员',
  'signing.family_link_request': '申请关联家庭成员',
  'signing.family_link_confirm': '同意关联家庭成员',
  'signing.family_link_reject': '拒绝关联家庭成员',
  'signing.family_link_withdraw': '撤回关联申请',
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
