// 机构: the institutions (卫生院 / 社区卫生服务中心) with their teams; a sysadmin creates one in a town
// (POST /api/signing/institutions, the only change the API has for institutions).
import { childRegions, countyOf, errorOf, itemsOf } from "./roster-kit.js";

const { inject, reactive, ref, computed, onMounted } = Vue;
const KINDS = ["卫生院", "社区卫生服务中心"];

export default {
  title: "机构",
  component: {
    template: `
<div class="signing-institutions" data-testid="institutions-page">
  <el-row :gutter="16">
    <el-col :span="12">
      <el-card shadow="never">
        <template #header>
          <div style="display: flex; align-items: center">
            <span>医疗机构</span>
            <el-button v-if="canCreate" type="primary" size="small" style="margin-left: auto"
                       data-testid="institutions-create" @click="openCreate">新建机构</el-button>
          </div>
        </template>
        <el-table :data="institutions" highlight-current-row size="small" data-testid="institutions-list"
                  @row-click="select">
          <el-table-column prop="name" label="机构名称" />
          <el-table-column prop="kind" label="类型" width="140" />
          <el-table-column prop="phone" label="电话" width="130" />
        </el-table>
        <div v-if="cursor" style="text-align: center; margin-top: 8px">
          <el-button size="small" @click="load(false)">加载更多</el-button>
        </div>
      </el-card>
    </el-col>
    <el-col :span="12">
      <el-empty v-if="!chosen" description="请选择左侧的机构" />
      <el-card v-else shadow="never" data-testid="institution-detail">
        <template #header><strong>{{ chosen.name }}</strong></template>
        <el-descriptions :column="1" size="small" border>
          <el-descriptions-item label="类型">{{ chosen.kind }}</el-descriptions-item>
          <el-descriptions-item label="区划代码">{{ chosen.region }}</el-descriptions-item>
          <el-descriptions-item label="地址">{{ chosen.address || "—" }}</el-descriptions-item>
          <el-descriptions-item label="电话">{{ chosen.phone || "—" }}</el-descriptions-item>
        </el-descriptions>
        <div style="margin: 16px 0 8px"><strong>家庭医生团队（{{ chosen.teams.length }}）</strong></div>
        <el-table :data="chosen.teams" size="small" data-testid="institution-teams">
          <el-table-column prop="name" label="团队" />
          <el-table-column label="人数" width="70"><template #default="{ row }">{{ row.members.length }}</template></el-table-column>
          <el-table-column prop="specialty" label="擅长" />
        </el-table>
      </el-card>
    </el-col>
  </el-row>

  <el-dialog v-model="dialog.open" title="新建机构" width="520px" data-testid="institution-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="机构名称" required :error="dialog.errors.name">
        <el-input v-model="dialog.form.name" maxlength="60" data-testid="institution-form-name" />
      </el-form-item>
      <el-form-item label="类型" required :error="dialog.errors.kind">
        <el-radio-group v-model="dialog.form.kind" data-testid="institution-form-kind">
          <el-radio v-for="k in KINDS" :key="k" :value="k">{{ k }}</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-form-item label="所在乡镇" required :error="dialog.errors.region">
        <el-select v-model="dialog.form.region" filterable style="width: 100%" data-testid="institution-form-region">
          <el-option v-for="t in towns" :key="t.code" :label="t.name + '（' + t.code + '）'" :value="t.code" />
        </el-select>
      </el-form-item>
      <el-form-item label="地址" :error="dialog.errors.address">
        <el-input v-model="dialog.form.address" maxlength="200" data-testid="institution-form-address" />
      </el-form-item>
      <el-form-item label="电话" :error="dialog.errors.phone">
        <el-input v-model="dialog.form.phone" maxlength="30" data-testid="institution-form-phone" />
      </el-form-item>
      <el-alert v-if="dialog.error" :title="dialog.error" type="error" :closable="false" show-icon />
    </el-form>
    <template #footer>
      <el-button @click="dialog.open = false">取消</el-button>
      <el-button type="primary" :loading="dialog.busy" data-testid="institution-form-save" @click="save">保存</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject("hub");
      const institutions = ref([]);
      const cursor = ref(null);
      const chosen = ref(null);
      const towns = ref([]);
      const dialog = reactive({ open: false, busy: false, error: "", errors: {}, form: {} });
      const canCreate = computed(() => hub.user && hub.user.role === "sysadmin");

      async function load(fresh) {
        const after = !fresh && cursor.value ? `&cursor=${encodeURIComponent(cursor.value)}` : "";
        const answer = await hub.rest.get(`/api/signing/institutions?limit=50${after}`);
        institutions.value = fresh ? itemsOf(answer) : [...institutions.value, ...itemsOf(answer)];
        cursor.value = answer.next_cursor || null;
      }
      async function select(row) {
        try { chosen.value = await hub.rest.get(`/api/signing/institutions/${row.id}`); } catch (err) { hub.notify.error(errorOf(err).message); }
      }
      async function openCreate() {
        Object.assign(dialog, { open: true, busy: false, error: "", errors: {},
          form: { name: "", kind: KINDS[0], region: "", address: "", phone: "" } });
        if (!towns.value.length) {
          const who = await hub.rest.get("/api/me");
          const county = countyOf(who.region || "") || countyOf(institutions.value[0]?.region || "");
          towns.value = county ? await childRegions(hub, county) : [];
        }
      }
      async function save() {
        dialog.busy = true;
        dialog.error = "";
        dialog.errors = {};
        const body = Object.fromEntries(Object.entries(dialog.form).filter(([, v]) => v !== ""));
        try {
          const created = await hub.rest.post("/api/signing/institutions", body);
          await load(true);
          await select(created);
          dialog.open = false;
          hub.notify.success("机构已创建");
        } catch (err) {
          const { field, message } = errorOf(err);
          if (field) dialog.errors = { [field]: message };
          else dialog.error = message;
        } finally {
          dialog.busy = false;
        }
      }
      onMounted(async () => {
        try {
          await load(true);
          if (institutions.value[0]) await select(institutions.value[0]);
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        }
      });
      return { KINDS, institutions, cursor, chosen, towns, dialog, canCreate, load, select, openCreate, save };
    },
  },
};
