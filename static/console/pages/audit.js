// 操作审计 (/supervision/audit): the audit trail of the caller's region (everything for a sysadmin), by user,
// action, target and time. `?target=` / `?action=` (links from other pages) preset the filters.
import {
  AUDIT_ACTIONS, auditLabel, errorText, formatTime, queryString, ROLE_LABELS, wordActionLabel,
} from './admin-common.js';

const { inject, reactive, ref, onMounted, watch } = Vue;

const GROUPS = [
  { value: 'sensitive_word.', label: '敏感词（全部）' },
  { value: 'alert.', label: '预警（全部）' },
  { value: 'account.', label: '账号（全部）' },
  { value: 'auth.', label: '登录与密码（全部）' },
  { value: 'signing.', label: '签约（全部）' },
];

// The detail fields the console names; any other is shown by its key.
const DETAIL_KEYS = {
  word: '词语', action: '处理方式', enabled: '启用', category: '分类', note: '处理意见', conv: '咨询',
  rows: '行数', created: '新增', updated: '更新', unchanged: '未变', username: '用户名', role: '角色',
  institution_id: '机构', count: '次数', last_at: '最近一次', residents: '居民数', name: '名称', reason: '原因',
  mode: '方式', term_years: '年限',
};

function detailValue(key, value) {
  if (value === true) return '是';
  if (value === false) return '否';
  if (value === null || value === undefined || value === '') return '—';
  if (key === 'role') return ROLE_LABELS[value] || value;
  if (key === 'action') return wordActionLabel(value);
  if (key.endsWith('_at')) return formatTime(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function detailText(details) {
  return Object.entries(details || {})
    .map(([key, value]) => `${DETAIL_KEYS[key] || key}：${detailValue(key, value)}`).join('；');
}

export default {
  title: '操作审计',
  component: {
    template: `
<div class="page-audit" data-testid="page-audit">
  <el-card shadow="never">
    <el-form :inline="true" @submit.prevent="search">
      <el-form-item label="操作人">
        <el-input v-model="filters.actor_name" clearable placeholder="姓名" data-testid="audit-filter-actor"
                  style="width: 120px" />
      </el-form-item>
      <el-form-item label="操作">
        <el-select v-model="filters.action" clearable filterable allow-create default-first-option placeholder="全部"
                   data-testid="audit-filter-action" style="width: 170px">
          <el-option v-for="g in groups" :key="g.value" :label="g.label" :value="g.value" />
          <el-option v-for="(label, code) in actions" :key="code" :label="label" :value="code"
                     :data-testid="'audit-action-' + code" />
        </el-select>
      </el-form-item>
      <el-form-item label="对象">
        <el-input v-model="filters.target" clearable placeholder="对象 id" data-testid="audit-filter-target"
                  style="width: 190px" />
      </el-form-item>
      <el-form-item label="时间">
        <span class="range-picker" data-testid="audit-filter-time">
          <el-date-picker v-model="filters.range" type="datetimerange" range-separator="至" start-placeholder="开始时间"
                          end-placeholder="结束时间" style="width: 330px" />
        </span>
      </el-form-item>
      <el-form-item>
        <el-button type="primary" @click="search" data-testid="audit-search">查询</el-button>
        <el-button @click="reset" data-testid="audit-reset">重置</el-button>
      </el-form-item>
    </el-form>
    <el-table :data="items" v-loading="loading" data-testid="audit-table" empty-text="暂无记录" stripe>
      <el-table-column label="时间" width="170">
        <template #default="{ row }">{{ time(row.at) }}</template>
      </el-table-column>
      <el-table-column label="操作人" width="230">
        <template #default="{ row }">
          {{ row.actor_name }}<span class="muted" v-if="row.actor_role">（{{ roleLabel(row.actor_role) }}）</span>
        </template>
      </el-table-column>
      <el-table-column label="操作" width="180">
        <template #default="{ row }">
          <span :data-testid="'audit-row-action'">{{ label(row.action) }}</span>
          <div class="muted small">{{ row.action }}</div>
        </template>
      </el-table-column>
      <el-table-column label="对象" width="220">
        <template #default="{ row }">
          <el-button link type="primary" @click="byTarget(row.target)" v-if="row.target">{{ row.target }}</el-button>
        </template>
      </el-table-column>
      <el-table-column prop="address" label="来源地址" width="120" />
      <el-table-column label="详情" min-width="200" show-overflow-tooltip>
        <template #default="{ row }">{{ details(row.details) }}</template>
      </el-table-column>
    </el-table>
    <div class="pager">
      <el-button :disabled="!cursors.length" @click="prev" data-testid="audit-prev">上一页</el-button>
      <el-button :disabled="!next" @click="more" data-testid="audit-next">下一页</el-button>
    </div>
  </el-card>
</div>`,
    setup() {
      const hub = inject('hub');
      const query = hub.route.query || {};
      const filters = reactive({
        actor_name: '', action: query.action || '', target: query.target || '', range: null,
      });
      const items = ref([]);
      const loading = ref(false);
      const next = ref(null);
      const cursors = ref([]);
      const current = ref(null);

      async function load(cursor) {
        loading.value = true;
        try {
          const page = await hub.rest.get('/api/audit' + queryString({ ...filters, limit: 20, cursor }));
          items.value = page.items;
          next.value = page.next_cursor;
          current.value = cursor || null;
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          loading.value = false;
        }
      }
      function search() {
        cursors.value = [];
        load(null);
      }
      function reset() {
        Object.assign(filters, { actor_name: '', action: '', target: '', range: null });
        search();
      }
      function more() {
        cursors.value.push(current.value);
        load(next.value);
      }
      function prev() {
        load(cursors.value.pop());
      }
      function byTarget(target) {
        filters.target = target;
        search();
      }
      watch(() => [hub.route.query && hub.route.query.target, hub.route.query && hub.route.query.action],
        ([target, action]) => {
          if (target !== undefined) filters.target = target || '';
          if (action !== undefined) filters.action = action || '';
          search();
        });

      onMounted(() => load(null));
      return {
        filters, items, loading, next, cursors, groups: GROUPS, actions: AUDIT_ACTIONS,
        search, reset, more, prev, byTarget,
        time: formatTime, label: auditLabel, details: detailText, roleLabel: (r) => ROLE_LABELS[r] || r,
      };
    },
  },
};
