// 团队管理: the family-doctor teams in scope — members with their work types, the leader, the details — with
// create and edit (PATCH /api/signing/teams/{id}) and the adjustment history (调整记录) of each team.
import { errorOf, itemsOf } from "./roster-kit.js";

const { inject, reactive, ref, computed, onMounted } = Vue;
const WORK_TYPES = ["全科医生", "护士", "公卫医师", "家庭助理", "专科医生", "药师", "其他"];
const ROLE_LABELS = { doctor: "医生", assistant: "助理", team_leader: "团队长", admin: "机构管理员" };
const TEAM_ROLES = new Set(["doctor", "assistant", "team_leader"]);
const EDITORS = new Set(["admin", "sysadmin", "team_leader"]);
const LEADER_SETTERS = new Set(["admin", "sysadmin"]);

export default {
  title: "团队管理",
  component: {
    template: `
<div class="signing-teams" data-testid="teams-page">
  <el-row :gutter="16">
    <el-col :span="8">
      <el-card shadow="never">
        <template #header>
          <div style="display: flex; align-items: center">
            <span>家庭医生团队</span>
            <el-button v-if="canCreate" type="primary" size="small" style="margin-left: auto"
                       data-testid="teams-create" @click="openCreate">新建团队</el-button>
          </div>
        </template>
        <el-table :data="teams" highlight-current-row size="small" row-key="id" :current-row-key="team && team.id"
                  :row-class-name="({ row }) => (team && row.id === team.id ? 'current-row' : '')"
                  data-testid="teams-list" @row-click="select">
          <el-table-column prop="name" label="团队名称" />
          <el-table-column label="人数" width="60"><template #default="{ row }">{{ row.members.length }}</template></el-table-column>
        </el-table>
      </el-card>
    </el-col>
    <el-col :span="16">
      <el-empty v-if="!team" description="请选择左侧的团队" />
      <template v-else>
        <el-card shadow="never" data-testid="team-detail">
          <template #header>
            <div style="display: flex; align-items: center">
              <strong data-testid="team-name">{{ team.name }}</strong>
              <span style="margin-left: 12px; color: #909399">{{ team.institution }}</span>
              <el-button v-if="canEdit" size="small" style="margin-left: auto" data-testid="team-edit"
                         @click="openEdit">编辑资料</el-button>
            </div>
          </template>
          <el-descriptions :column="2" size="small" border>
            <el-descriptions-item label="团队长"><span data-testid="team-leader">{{ nameOf(team.leader_id) || "未设置" }}</span></el-descriptions-item>
            <el-descriptions-item label="联系方式">{{ team.contact || "—" }}</el-descriptions-item>
            <el-descriptions-item label="擅长" :span="2">{{ team.specialty || "—" }}</el-descriptions-item>
          </el-descriptions>
          <div style="display: flex; align-items: center; margin: 16px 0 8px">
            <strong>团队成员</strong>
            <template v-if="canEdit">
              <el-select v-model="adding.user_id" placeholder="选择本机构人员" size="small" filterable
                         style="width: 180px; margin-left: auto" data-testid="team-add-user">
                <el-option v-for="s in candidates" :key="s.id" :label="s.name + '（' + roleLabel(s.role) + '）'" :value="s.id" />
              </el-select>
              <el-select v-model="adding.work_type" size="small" style="width: 120px; margin-left: 8px"
                         data-testid="team-add-work-type">
                <el-option v-for="w in WORK_TYPES" :key="w" :label="w" :value="w" />
              </el-select>
              <el-button size="small" style="margin-left: 8px" :disabled="!adding.user_id" data-testid="team-add"
                         @click="addMember">添加成员</el-button>
            </template>
          </div>
          <el-table :data="team.members" size="small" data-testid="team-members">
            <el-table-column label="姓名" width="140">
              <template #default="{ row }">
                {{ row.name }}
                <el-tag v-if="row.id === team.leader_id" size="small" type="warning" style="margin-left: 4px">团队长</el-tag>
              </template>
            </el-table-column>
            <el-table-column label="账号角色" width="100"><template #default="{ row }">{{ roleLabel(row.role) }}</template></el-table-column>
            <el-table-column label="工作类型" width="160">
              <template #default="{ row }">
                <el-select v-if="canEdit" :model-value="row.work_type" size="small"
                           :data-testid="'team-work-type-' + row.id" @change="(w) => changeWorkType(row, w)">
                  <el-option v-for="w in WORK_TYPES" :key="w" :label="w" :value="w" />
                </el-select>
                <span v-else>{{ row.work_type }}</span>
              </template>
            </el-table-column>
            <el-table-column prop="title" label="职称" />
            <el-table-column v-if="canEdit" label="操作" width="190">
              <template #default="{ row }">
                <el-button v-if="canSetLeader && row.id !== team.leader_id" link type="primary" size="small"
                           :data-testid="'team-make-leader-' + row.id" @click="makeLeader(row)">设为团队长</el-button>
                <el-button link type="danger" size="small" :disabled="row.id === team.leader_id"
                           :data-testid="'team-remove-' + row.id" @click="removeMember(row)">移出</el-button>
              </template>
            </el-table-column>
          </el-table>
        </el-card>
        <el-card shadow="never" style="margin-top: 12px">
          <template #header><span>调整记录</span></template>
          <el-table :data="history" size="small" data-testid="team-history" empty-text="暂无调整记录">
            <el-table-column label="时间" width="170"><template #default="{ row }">{{ when(row.at) }}</template></el-table-column>
            <el-table-column label="操作人" width="110" prop="by_name" />
            <el-table-column label="内容">
              <template #default="{ row }"><span class="team-history-text">{{ describe(row) }}</span></template>
            </el-table-column>
          </el-table>
        </el-card>
      </template>
    </el-col>
  </el-row>

  <el-dialog v-model="dialog.open" :title="dialog.creating ? '新建团队' : '编辑团队资料'" width="560px"
             data-testid="team-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="团队名称" required :error="dialog.errors.name">
        <el-input v-model="dialog.form.name" maxlength="60" data-testid="team-form-name" />
      </el-form-item>
      <el-form-item label="联系方式" :error="dialog.errors.contact">
        <el-input v-model="dialog.form.contact" maxlength="60" data-testid="team-form-contact" />
      </el-form-item>
      <el-form-item label="擅长" :error="dialog.errors.specialty">
        <el-input v-model="dialog.form.specialty" type="textarea" maxlength="300" data-testid="team-form-specialty" />
      </el-form-item>
      <template v-if="dialog.creating">
        <el-form-item label="成员" :error="dialog.errors.members">
          <el-select v-model="dialog.form.members" multiple filterable style="width: 100%" data-testid="team-form-members">
            <el-option v-for="s in free" :key="s.id" :label="s.name + '（' + roleLabel(s.role) + '）'" :value="s.id" />
          </el-select>
        </el-form-item>
        <el-form-item label="团队长" :error="dialog.errors.leader_id">
          <el-select v-model="dialog.form.leader_id" clearable style="width: 100%" data-testid="team-form-leader">
            <el-option v-for="id in dialog.form.members" :key="id" :label="staffName(id)" :value="id" />
          </el-select>
        </el-form-item>
      </template>
      <el-alert v-if="dialog.error" :title="dialog.error" type="error" :closable="false" show-icon />
    </el-form>
    <template #footer>
      <el-button @click="dialog.open = false">取消</el-button>
      <el-button type="primary" :loading="dialog.busy" data-testid="team-form-save" @click="save">保存</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject("hub");
      const role = computed(() => (hub.user && hub.user.role) || "");
      const teams = ref([]);
      const team = ref(null);
      const history = ref([]);
      const staff = ref([]);
      const adding = reactive({ user_id: "", work_type: "全科医生" });
      const dialog = reactive({ open: false, creating: false, busy: false, error: "",
        errors: {}, form: {} });
      const canCreate = computed(() => LEADER_SETTERS.has(role.value));
      const canEdit = computed(() => EDITORS.has(role.value));
      const canSetLeader = computed(() => LEADER_SETTERS.has(role.value));
      const inTeam = computed(() => new Set((team.value?.members || []).map((m) => m.id)));
      const teamStaff = computed(() => staff.value.filter((s) => TEAM_ROLES.has(s.role)));
      const free = computed(() => teamStaff.value.filter((s) => !s.team_id));
      const candidates = computed(() => teamStaff.value.filter((s) => !inTeam.value.has(s.id)
        && (!s.team_id || s.team_id === team.value?.id)));
      const names = computed(() => {
        const map = new Map(staff.value.map((s) => [s.id, s.name]));
        for (const t of teams.value) for (const m of t.members) if (m.name) map.set(m.id, m.name);
        return map;
      });
      const nameOf = (id) => (id ? names.value.get(id) || "" : "");
      const staffName = (id) => names.value.get(id) || id;
      const roleLabel = (r) => ROLE_LABELS[r] || r || "";
      const when = (iso) => (iso || "").replace("T", " ").slice(0, 19);
      function describe(row) {
        const parts = [];
        if (row.kind === "created") {
          parts.push("创建团队");
          if (row.leader_to) parts.push(`团队长：${nameOf(row.leader_to)}`);
        } else if (row.leader_from !== row.leader_to) {
          parts.push(`团队长：${nameOf(row.leader_from) || "无"} → ${nameOf(row.leader_to) || "无"}`);
        }
        if (row.added.length) parts.push(`加入：${row.added.map(staffName).join("、")}`);
        if (row.removed.length) parts.push(`移出：${row.removed.map(staffName).join("、")}`);
        return parts.join("；") || "调整";
      }

      async function loadTeams() {
        teams.value = itemsOf(await hub.rest.get("/api/signing/teams?limit=100"));
      }
      async function loadStaff(institutionId) {
        const query = institutionId ? `&institution_id=${institutionId}` : "";
        try { staff.value = itemsOf(await hub.rest.get(`/api/signing/staff?limit=200${query}`)); } catch { staff.value = []; }
      }
      async function select(row) {
        try {
          team.value = await hub.rest.get(`/api/signing/teams/${row.id}`);
          if (!staff.value.some((s) => s.institution_id === team.value.institution_id)) {
            await loadStaff(team.value.institution_id);
          }
          history.value = itemsOf(await hub.rest.get(`/api/signing/teams/${row.id}/history?limit=50`));
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        }
      }
      async function patch(body, done) {
        try {
          const updated = await hub.rest.patch(`/api/signing/teams/${team.value.id}`, body);
          await Promise.all([loadTeams(), loadStaff(updated.institution_id)]);
          await select(updated);
          hub.notify.success(done);
          return true;
        } catch (err) {
          hub.notify.error(errorOf(err).message);
          return false;
        }
      }
      const memberBody = (members) => members.map((m) => ({ user_id: m.id, work_type: m.work_type }));
      const makeLeader = (row) => patch({ leader_id: row.id }, `已将 ${row.name} 设为团队长`);
      const changeWorkType = (row, workType) => patch({ members: memberBody(team.value.members.map(
        (m) => (m.id === row.id ? { ...m, work_type: workType } : m))) }, "工作类型已更新");
      const removeMember = (row) => patch({ members: memberBody(team.value.members.filter((m) => m.id !== row.id)) },
        `已将 ${row.name} 移出团队`);
      async function addMember() {
        const ok = await patch({ members: [...memberBody(team.value.members),
          { user_id: adding.user_id, work_type: adding.work_type }] }, "已添加成员");
        if (ok) adding.user_id = "";
      }
      function openDialog(creating, form) {
        Object.assign(dialog, { open: true, creating, busy: false, error: "", errors: {}, form });
      }
      const openCreate = () => openDialog(true, { name: "", contact: "", specialty: "", members: [], leader_id: "" });
      const openEdit = () => openDialog(false, { name: team.value.name, contact: team.value.contact,
        specialty: team.value.specialty });
      async function save() {
        dialog.busy = true;
        dialog.error = "";
        dialog.errors = {};
        const f = dialog.form;
        try {
          if (dialog.creating) {
            const body = { name: f.name, contact: f.contact, specialty: f.specialty,
              members: f.members.map((id) => ({ user_id: id })) };
            if (f.leader_id) body.leader_id = f.leader_id;
            const created = await hub.rest.post("/api/signing/teams", body);
            await Promise.all([loadTeams(), loadStaff(created.institution_id)]);
            await select(created);
            hub.notify.success("团队已创建");
          } else {
            const updated = await hub.rest.patch(`/api/signing/teams/${team.value.id}`,
              { name: f.name, contact: f.contact, specialty: f.specialty });
            await loadTeams();
            await select(updated);
            hub.notify.success("团队资料已保存");
          }
          dialog.open = false;
        } catch (err) {
          const { field, message } = errorOf(err);
          if (field) dialog.errors = { [field.split(".")[0]]: message };
          else dialog.error = message;
        } finally {
          dialog.busy = false;
        }
      }

      onMounted(async () => {
        try {
          await Promise.all([loadTeams(), loadStaff("")]);
          const wanted = hub.route?.query?.team;
          const first = teams.value.find((t) => t.id === wanted) || teams.value[0];
          if (first) await select(first);
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        }
      });
      return { WORK_TYPES, teams, team, history, adding, dialog, canCreate, canEdit, canSetLeader, free, candidates,
        nameOf, staffName, roleLabel, when, describe, select, makeLeader, changeWorkType, removeMember, addMember,
        openCreate, openEdit, save };
    },
  },
};
