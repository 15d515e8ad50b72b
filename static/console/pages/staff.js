// 账号管理 (/accounts/staff): the staff accounts a sysadmin (all) or an institution admin (their institution's
// doctors, assistants and team leaders) administers — create, disable, enable, reset password; each change is
// audited (a sysadmin follows it to the audit page).
import { errorText, formatTime, queryString, ROLE_LABELS } from './admin-common.js';

const { inject, reactive, ref, onMounted, computed } = Vue;

function blankForm() {
  return {
    role: 'doctor', username: '', name: '', password: '', institution_id: '', region: '', work_type: '',
    phone: '', title: '',
  };
}

export default {
  title: '账号管理',
  component: {
    template: `
<div class="page-staff" data-testid="page-staff">
  <el-card shadow="never">
    <el-form :inline="true" @submit.prevent="search">
      <el-form-item label="关键词">
        <el-input v-model="filters.q" clearable placeholder="姓名或用户名" data-testid="staff-filter-q"
                  style="width: 180px" />
      </el-form-item>
      <el-form-item label="角色">
        <el-select v-model="filters.role" clearable placeholder="全部" data-testid="staff-filter-role"
                   style="width: 140px">
          <el-option label="全部" value="" />
          <el-option v-for="r in listRoles" :key="r" :label="roleLabel(r)" :value="r" />
        </el-select>
      </el-form-item>
      <el-form-item label="状态">
        <el-select v-model="filters.disabled" clearable placeholder="全部" data-testid="staff-filter-status"
                   style="width: 110px">
          <el-option label="全部" value="" />
          <el-option label="正常" value="false" />
          <el-option label="已停用" value="true" />
        </el-select>
      </el-form-item>
      <el-form-item>
        <el-button type="primary" @click="search" data-testid="staff-search">查询</el-button>
        <el-button @click="openCreate" data-testid="staff-create">新建账号</el-button>
      </el-form-item>
    </el-form>
    <el-table :data="items" v-loading="loading" data-testid="staff-table" empty-text="暂无账号" stripe>
      <el-table-column prop="name" label="姓名" width="140" />
      <el-table-column label="用户名" width="170">
        <template #default="{ row }"><span :data-testid="'staff-row-' + row.username">{{ row.username }}</span></template>
      </el-table-column>
      <el-table-column label="角色" width="110">
        <template #default="{ row }">{{ roleLabel(row.role) }}</template>
      </el-table-column>
      <el-table-column label="机构 / 区划" min-width="180">
        <template #default="{ row }">{{ row.institution_name || row.region_name || row.region || '—' }}</template>
      </el-table-column>
      <el-table-column label="状态" width="90">
        <template #default="{ row }">
          <el-tag disable-transitions :type="row.disabled ? 'info' : 'success'" :data-testid="'staff-status-' + row.username">{{ row.disabled ? '已停用' : '正常' }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="创建时间" width="170">
        <template #default="{ row }">{{ time(row.created_at) }}</template>
      </el-table-column>
      <el-table-column label="操作" width="230" fixed="right">
        <template #default="{ row }">
          <template v-if="row.id !== me">
            <el-button v-if="!row.disabled" link type="danger" @click="setDisabled(row, true)"
                       :data-testid="'staff-disable-' + row.username">停用</el-button>
            <el-button v-else link type="success" @click="setDisabled(row, false)"
                       :data-testid="'staff-enable-' + row.username">启用</el-button>
            <el-button link type="primary" @click="startReset(row)" :data-testid="'staff-reset-' + row.username">重置密码</el-button>
          </template>
          <el-button v-if="canAudit" link @click="history(row)" :data-testid="'staff-audit-' + row.username">操作记录</el-button>
        </template>
      </el-table-column>
    </el-table>
    <div class="pager">
      <el-button :disabled="!cursors.length" @click="prev" data-testid="staff-prev">上一页</el-button>
      <el-button :disabled="!next" @click="more" data-testid="staff-next">下一页</el-button>
    </div>
  </el-card>

  <el-dialog v-model="creating.open" title="新建账号" width="520px" data-testid="staff-dialog">
    <el-form label-width="90px">
      <el-form-item label="角色" required>
        <el-select v-model="form.role" data-testid="staff-form-role" style="width: 100%">
          <el-option v-for="r in options.roles" :key="r" :label="roleLabel(r)" :value="r"
                     :data-testid="'staff-role-' + r" />
        </el-select>
      </el-form-item>
      <el-form-item label="用户名" required>
        <el-input v-model="form.username" maxlength="64" placeholder="字母、数字或 . _ @ -"
                  data-testid="staff-form-username" />
      </el-form-item>
      <el-form-item label="姓名" required>
        <el-input v-model="form.name" maxlength="30" data-testid="staff-form-name" />
      </el-form-item>
      <el-form-item label="初始密码" required>
        <el-input v-model="form.password" type="password" show-password maxlength="256" placeholder="至少 8 位"
                  data-testid="staff-form-password" />
      </el-form-item>
      <el-form-item label="所属机构" v-if="needsInstitution" required>
        <el-select v-model="form.institution_id" filterable placeholder="请选择机构" data-testid="staff-form-institution"
                   style="width: 100%">
          <el-option v-for="i in options.institutions" :key="i.id" :label="i.name" :value="i.id" />
        </el-select>
      </el-form-item>
      <el-form-item label="工作类型" v-if="needsInstitution">
        <el-select v-model="form.work_type" clearable placeholder="默认" data-testid="staff-form-work-type"
                   style="width: 100%">
          <el-option v-for="w in options.work_types" :key="w" :label="w" :value="w" />
        </el-select>
      </el-form-item>
      <el-form-item label="管辖区划" v-if="form.role === 'supervisor'" required>
        <el-input v-model="form.region" maxlength="12" placeholder="12 位区划代码" data-testid="staff-form-region" />
      </el-form-item>
      <el-form-item label="手机号">
        <el-input v-model="form.phone" maxlength="11" data-testid="staff-form-phone" />
      </el-form-item>
      <el-form-item label="职称">
        <el-input v-model="form.title" maxlength="30" data-testid="staff-form-title" />
      </el-form-item>
    </el-form>
    <template #footer>
      <el-button @click="creating.open = false">取消</el-button>
      <el-button type="primary" :loading="creating.busy" @click="create" data-testid="staff-form-submit">创建</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="resetting.open" :title="'重置密码：' + resetting.name" width="440px" data-testid="reset-dialog">
    <el-input v-model="resetting.password" type="password" show-password maxlength="256" placeholder="新密码，至少 8 位"
              data-testid="staff-new-password" />
    <div class="hint">重置后该账号的所有登录立即失效。</div>
    <template #footer>
      <el-button @click="resetting.open = false">取消</el-button>
      <el-button type="primary" :loading="resetting.busy" @click="reset" data-testid="staff-reset-submit">确认重置</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject('hub');
      const filters = reactive({ q: '', role: '', disabled: '' });
      const items = ref([]);
      const loading = ref(false);
      const next = ref(null);
      const cursors = ref([]);
      const current = ref(null);
      const options = reactive({ roles: [], work_types: [], institutions: [] });
      const form = reactive(blankForm());
      const creating = reactive({ open: false, busy: false });
      const resetting = reactive({ open: false, busy: false, id: null, name: '', password: '' });
      const me = computed(() => hub.user && hub.user.id);
      const canAudit = computed(() => hub.user && ['sysadmin', 'supervisor'].includes(hub.user.role));
      const needsInstitution = computed(() => !['supervisor', 'sysadmin'].includes(form.role));
      const listRoles = computed(() => (hub.user && hub.user.role === 'sysadmin'
        ? ['doctor', 'assistant', 'team_leader', 'admin', 'supervisor', 'sysadmin']
        : ['doctor', 'assistant', 'team_leader']));

      async function load(cursor) {
        loading.value = true;
        try {
          const page = await hub.rest.get('/api/accounts' + queryString({ ...filters, limit: 20, cursor }));
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
      function more() {
        cursors.value.push(current.value);
        load(next.value);
      }
      function prev() {
        load(cursors.value.pop());
      }
      function replace(account) {
        const index = items.value.findIndex((a) => a.id === account.id);
        if (index >= 0) items.value.splice(index, 1, { ...items.value[index], ...account });
      }

      async function loadOptions() {
        try {
          Object.assign(options, await hub.rest.get('/api/accounts/options'));
        } catch (err) {
          hub.notify.error(errorText(err));
        }
      }
      function openCreate() {
        Object.assign(form, blankForm());
        if (options.institutions.length === 1) form.institution_id = options.institutions[0].id;
        creating.open = true;
      }
      async function create() {
        for (const [field, label] of [['username', '用户名'], ['name', '姓名'], ['password', '初始密码']]) {
          if (!form[field].trim()) {
            hub.notify.error(`请填写${label}`);
            return;
          }
        }
        if (needsInstitution.value && !form.institution_id) {
          hub.notify.error('请选择所属机构');
          return;
        }
        const body = { role: form.role, username: form.username.trim(), name: form.name.trim(), password: form.password };
        if (needsInstitution.value) body.institution_id = form.institution_id;
        if (needsInstitution.value && form.work_type) body.work_type = form.work_type;
        if (form.role === 'supervisor') body.region = form.region.trim();
        if (form.phone.trim()) body.phone = form.phone.trim();
        if (form.title.trim()) body.title = form.title.trim();
        creating.busy = true;
        try {
          const account = await hub.rest.post('/api/accounts', body);
          creating.open = false;
          hub.notify.success(`已创建账号 ${account.username}`);
          search();
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          creating.busy = false;
        }
      }
      async function setDisabled(row, disabled) {
        try {
          const account = await hub.rest.post(`/api/accounts/${row.id}/${disabled ? 'disable' : 'enable'}`, {});
          replace(account);
          hub.notify.success(disabled ? '已停用，该账号的登录已全部失效' : '已启用');
        } catch (err) {
          hub.notify.error(errorText(err));
        }
      }
      function startReset(row) {
        Object.assign(resetting, { open: true, busy: false, id: row.id, name: row.name, password: '' });
      }
      async function reset() {
        if (resetting.password.length < 8) {
          hub.notify.error('新密码至少 8 位');
          return;
        }
        resetting.busy = true;
        try {
          await hub.rest.post(`/api/accounts/${resetting.id}/password`, { new_password: resetting.password });
          resetting.open = false;
          hub.notify.success('密码已重置');
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          resetting.busy = false;
        }
      }
      function history(row) {
        hub.go('/supervision/audit', { target: row.id });
      }

      onMounted(() => {
        load(null);
        loadOptions();
      });
      return {
        filters, items, loading, next, cursors, options, form, creating, resetting, me, canAudit, needsInstitution,
        listRoles, search, more, prev, openCreate, create, setDisabled, startReset, reset, history,
        time: formatTime, roleLabel: (r) => ROLE_LABELS[r] || r,
      };
    },
  },
};
