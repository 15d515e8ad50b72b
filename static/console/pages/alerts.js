// 告警中心 (/supervision/alerts): the alerts of the supervisor's region, live (a `notice` of kind `alert`
// puts a new one at the top without a reload), filtered by time, word, category and status; each opens with
// the consultation it came from, and is resolved with a note. `?id=` (the bell's link) opens that alert.
import { errorText, formatTime, queryString, ROLE_LABELS } from './admin-common.js';

const { computed, inject, reactive, ref, onMounted, onBeforeUnmount, watch } = Vue;

const STATUS = { open: '待处理', resolved: '已处理' };

export default {
  title: '告警中心',
  component: {
    template: `
<div class="page-alerts" data-testid="page-alerts">
  <el-card shadow="never">
    <el-form :inline="true" @submit.prevent="search">
      <el-form-item label="时间">
        <span class="range-picker" data-testid="alerts-filter-time">
          <el-date-picker v-model="filters.range" type="datetimerange" range-separator="至" start-placeholder="开始时间"
                          end-placeholder="结束时间" style="width: 360px" />
        </span>
      </el-form-item>
      <el-form-item label="命中词">
        <el-input v-model="filters.word" clearable placeholder="敏感词" data-testid="alerts-filter-word"
                  style="width: 140px" />
      </el-form-item>
      <el-form-item label="分类">
        <el-input v-model="filters.category" clearable placeholder="分类" data-testid="alerts-filter-category"
                  style="width: 120px" />
      </el-form-item>
      <el-form-item label="状态">
        <el-select v-model="filters.status" clearable placeholder="全部" data-testid="alerts-filter-status"
                   style="width: 110px">
          <el-option label="全部" value="" />
          <el-option label="待处理" value="open" />
          <el-option label="已处理" value="resolved" />
        </el-select>
      </el-form-item>
      <el-form-item>
        <el-button type="primary" @click="search" data-testid="alerts-search">查询</el-button>
      </el-form-item>
    </el-form>
    <div class="alerts-live" data-testid="alerts-live">
      <el-tag disable-transitions :type="live ? 'success' : 'info'" size="small">{{ live ? '实时接收中' : '实时通道连接中…' }}</el-tag>
      <span v-if="fresh" class="fresh" data-testid="alerts-fresh">新到 {{ fresh }} 条预警</span>
    </div>
    <el-table :data="items" v-loading="loading" data-testid="alerts-table" empty-text="暂无预警" stripe
              :row-class-name="rowClass">
      <el-table-column label="时间" width="170">
        <template #default="{ row }">{{ time(row.created_at) }}</template>
      </el-table-column>
      <el-table-column label="用户" width="150">
        <template #default="{ row }">{{ row.user.name }}<span class="muted">（{{ roleLabel(row.user.role) }}）</span></template>
      </el-table-column>
      <el-table-column label="命中词" width="160">
        <template #default="{ row }">
          <el-tag disable-transitions v-for="w in row.words" :key="w" type="danger" size="small" class="gap">{{ w }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="分类" width="110">
        <template #default="{ row }">{{ row.categories.join('、') }}</template>
      </el-table-column>
      <el-table-column label="结果" width="80">
        <template #default="{ row }">{{ row.action === 'block' ? '已拦截' : '已放行' }}</template>
      </el-table-column>
      <el-table-column label="内容" min-width="200" show-overflow-tooltip>
        <template #default="{ row }"><span :data-testid="'alert-text-' + row.id">{{ row.text }}</span></template>
      </el-table-column>
      <el-table-column label="状态" width="90">
        <template #default="{ row }">
          <el-tag disable-transitions :type="row.status === 'open' ? 'warning' : 'success'" :data-testid="'alert-status-' + row.id">{{ statusLabel(row.status) }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="操作" width="140" fixed="right">
        <template #default="{ row }">
          <el-button link type="primary" @click="openDetail(row.id)" :data-testid="'alert-open-' + row.id">详情</el-button>
          <el-button v-if="row.status === 'open'" link type="success" @click="startResolve(row)"
                     :data-testid="'alert-resolve-' + row.id">处理</el-button>
        </template>
      </el-table-column>
    </el-table>
    <div class="pager">
      <el-button :disabled="!cursors.length" @click="prev" data-testid="alerts-prev">上一页</el-button>
      <el-button :disabled="!next" @click="more" data-testid="alerts-next">下一页</el-button>
    </div>
  </el-card>

  <el-drawer v-model="detail.open" title="预警详情" size="520px" data-testid="alert-detail">
    <div v-if="detail.alert" class="alert-detail">
      <el-descriptions :column="1" border size="small">
        <el-descriptions-item label="时间">{{ time(detail.alert.created_at) }}</el-descriptions-item>
        <el-descriptions-item label="用户">{{ detail.alert.user.name }}（{{ roleLabel(detail.alert.user.role) }}）</el-descriptions-item>
        <el-descriptions-item label="区划">{{ detail.alert.region_name || detail.alert.region || '—' }}</el-descriptions-item>
        <el-descriptions-item label="命中词">{{ detail.alert.words.join('、') }}</el-descriptions-item>
        <el-descriptions-item label="分类">{{ detail.alert.categories.join('、') || '—' }}</el-descriptions-item>
        <el-descriptions-item label="结果">{{ detail.alert.action === 'block' ? '已拦截（未发出）' : '已放行并预警' }}</el-descriptions-item>
        <el-descriptions-item label="内容"><span data-testid="alert-detail-text">{{ detail.alert.text }}</span></el-descriptions-item>
        <el-descriptions-item label="状态">
          <span data-testid="alert-detail-status">{{ statusLabel(detail.alert.status) }}</span>
        </el-descriptions-item>
        <el-descriptions-item v-if="detail.alert.status === 'resolved'" label="处理意见">
          <span data-testid="alert-detail-note">{{ detail.alert.note }}</span>（{{ time(detail.alert.resolved_at) }}）
        </el-descriptions-item>
        <el-descriptions-item label="来源">
          <template v-if="detail.alert.where.conv">
            在线咨询<template v-if="detail.alert.context">：{{ detail.alert.context.conversation.resident.name }} ↔ {{ detail.alert.context.conversation.doctor.name }}</template>
            <el-button link type="primary" @click="showContext" data-testid="alert-chat-link">查看咨询记录</el-button>
          </template>
          <template v-else>
            <span data-testid="alert-form-source">表单提交<template v-if="detail.alert.where.plugin">（插件 {{ detail.alert.where.plugin }}）</template>：{{ detail.alert.where.object || '—' }} 的 {{ detail.alert.where.field || '—' }} 字段</span>
            <div class="muted small">{{ detail.alert.where.path || '' }}</div>
          </template>
        </el-descriptions-item>
      </el-descriptions>
      <div v-if="detail.alert.context" class="alert-context" ref="contextBox" data-testid="alert-context">
        <h4>咨询记录：{{ detail.alert.context.conversation.resident.name }} ↔ {{ detail.alert.context.conversation.doctor.name }}
          <el-tag disable-transitions size="small">{{ detail.alert.context.conversation.status === 'open' ? '进行中' : '已结束' }}</el-tag></h4>
        <div v-for="m in detail.alert.context.messages" :key="m.seq"
             :class="['ctx-msg', m.seq === detail.alert.where.seq ? 'hit' : '']" :data-testid="'alert-context-' + m.seq">
          <span class="ctx-who">{{ m.from.name }}</span><span class="muted">{{ time(m.ts) }}</span>
          <div>{{ m.recalled ? '（已撤回）' : (m.kind === 'image' ? '［图片］' : m.text) }}</div>
        </div>
        <div v-if="detail.alert.action === 'block'" class="ctx-msg hit">
          <span class="ctx-who">{{ detail.alert.user.name }}</span><span class="muted">（被拦截，未发出）</span>
          <div>{{ detail.alert.text }}</div>
        </div>
      </div>
      <div class="drawer-actions">
        <el-button v-if="detail.alert.status === 'open'" type="success" @click="startResolve(detail.alert)"
                   data-testid="alert-detail-resolve">处理</el-button>
      </div>
    </div>
  </el-drawer>

  <el-dialog v-model="resolving.open" title="处理预警" width="480px" data-testid="resolve-dialog">
    <el-input type="textarea" :rows="4" maxlength="1000" show-word-limit v-model="resolving.note"
              placeholder="请填写处理意见（必填）" data-testid="alert-note" />
    <template #footer>
      <el-button @click="resolving.open = false">取消</el-button>
      <el-button type="primary" :loading="resolving.busy" @click="resolve" data-testid="alert-resolve-submit">确认处理</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject('hub');
      const filters = reactive({ range: null, word: '', category: '', status: 'open' });
      const items = ref([]);
      const loading = ref(false);
      const next = ref(null);
      const cursors = ref([]);
      const current = ref(null);
      const fresh = ref(0);
      // Notices the socket replays on connecting are alerts the first load lists: only later ones are new.
      const listed = ref(false);
      const arrived = reactive(new Set());
      const live = computed(() => !!hub.socket && hub.socket.status === 'open');
      const detail = reactive({ open: false, alert: null });
      const resolving = reactive({ open: false, id: null, note: '', busy: false });

      async function load(cursor) {
        loading.value = true;
        try {
          const page = await hub.rest.get('/api/alerts' + queryString({ ...filters, limit: 20, cursor }));
          items.value = page.items;
          next.value = page.next_cursor;
          current.value = cursor || null;
          listed.value = true;
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          loading.value = false;
        }
      }
      function search() {
        cursors.value = [];
        fresh.value = 0;
        load(null);
      }
      function more() {
        cursors.value.push(current.value);
        load(next.value);
      }
      function prev() {
        load(cursors.value.pop());
      }

      // Whether a live alert belongs in the list as filtered now (only on the first page).
      function matches(alert) {
        if (current.value) return false;
        if (filters.status && alert.status !== filters.status) return false;
        if (filters.word && !alert.words.some((w) => w.includes(filters.word.trim()))) return false;
        if (filters.category && !alert.categories.includes(filters.category.trim())) return false;
        if (filters.range && filters.range[1] && new Date(alert.created_at) > new Date(filters.range[1])) return false;
        if (filters.range && filters.range[0] && new Date(alert.created_at) < new Date(filters.range[0])) return false;
        return true;
      }
      function onNotice(notice) {
        if (!listed.value || !notice || notice.kind !== 'alert' || !notice.data || !notice.data.alert) return;
        const alert = notice.data.alert;
        if (items.value.some((a) => a.id === alert.id) || !matches(alert)) return;
        items.value = [alert, ...items.value];
        arrived.add(alert.id);
        fresh.value += 1;
      }
      function rowClass({ row }) {
        return arrived.has(row.id) ? 'alert-fresh' : '';
      }

      async function openDetail(id) {
        try {
          detail.alert = await hub.rest.get(`/api/alerts/${encodeURIComponent(id)}`);
          detail.open = true;
        } catch (err) {
          hub.notify.error(errorText(err));
        }
      }
      // The consultation the alert came from: its messages around the hit (supervisors read it here, without
      // joining the consultation), scrolled into view with the hit highlighted.
      const contextBox = ref(null);
      function showContext() {
        if (contextBox.value) contextBox.value.scrollIntoView({ behavior: 'smooth', block: 'start' });
      }
      function startResolve(alert) {
        Object.assign(resolving, { open: true, id: alert.id, note: '', busy: false });
      }
      async function resolve() {
        if (!resolving.note.trim()) {
          hub.notify.error('请填写处理意见');
          return;
        }
        resolving.busy = true;
        try {
          const done = await hub.rest.post(`/api/alerts/${resolving.id}/resolve`, { note: resolving.note.trim() });
          resolving.open = false;
          hub.notify.success('已处理');
          const index = items.value.findIndex((a) => a.id === done.id);
          if (index >= 0) {
            if (filters.status === 'open') items.value.splice(index, 1);
            else items.value.splice(index, 1, done);
          }
          if (detail.alert && detail.alert.id === done.id) detail.alert = { ...detail.alert, ...done };
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          resolving.busy = false;
        }
      }

      onMounted(() => {
        if (hub.socket) hub.socket.on('notice', onNotice);
        load(null);
        if (hub.route.query && hub.route.query.id) openDetail(hub.route.query.id);
      });
      onBeforeUnmount(() => {
        if (hub.socket) hub.socket.off('notice', onNotice);
      });
      watch(() => hub.route.query && hub.route.query.id, (id) => {
        if (id) openDetail(id);
      });

      return {
        filters, items, loading, next, cursors, fresh, live, detail, resolving,
        search, more, prev, rowClass, openDetail, startResolve, resolve, contextBox, showContext,
        time: formatTime, roleLabel: (r) => ROLE_LABELS[r] || r, statusLabel: (s) => STATUS[s] || s,
      };
    },
  },
};
