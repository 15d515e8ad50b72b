// 花名册选人: pick residents from the roster — town → village → household → residents with ticks — and sign the
// ticked ones at once (POST /api/signing/signings/batch). Residents already signed or waiting cannot be ticked.
import { childRegions, countyOf, errorOf, itemsOf, STATUS_TYPES } from "./roster-kit.js";

const { inject, reactive, ref, computed, onMounted } = Vue;
const SIGNABLE = new Set(["unsigned", "refused"]);
const PAGE_SIZE = 200;

export default {
  title: "花名册选人",
  component: {
    template: `
<div class="signing-pick" data-testid="pick-page">
  <el-card shadow="never">
    <el-form inline @submit.prevent>
      <el-form-item label="乡镇（街道）">
        <el-select v-model="town" style="width: 180px" data-testid="pick-town" @change="loadVillages">
          <el-option v-for="t in towns" :key="t.code" :label="t.name" :value="t.code" />
        </el-select>
      </el-form-item>
      <el-form-item label="村（社区）">
        <el-select v-model="village" style="width: 180px" :disabled="!town" data-testid="pick-village"
                   @change="loadHouseholds">
          <el-option v-for="v in villages" :key="v.code" :label="v.name" :value="v.code" />
        </el-select>
      </el-form-item>
      <el-form-item label="服务包">
        <el-select v-model="packageId" style="width: 160px" data-testid="pick-package">
          <el-option v-for="p in packages" :key="p.id" :label="p.name" :value="p.id" />
        </el-select>
      </el-form-item>
      <el-form-item label="年限">
        <el-input-number v-model="termYears" :min="1" :max="3" style="width: 110px" data-testid="pick-term" />
      </el-form-item>
      <el-form-item>
        <el-button type="primary" :disabled="!picked.size" :loading="busy" data-testid="pick-submit"
                   @click="submit">签约所选（{{ picked.size }} 人）</el-button>
        <el-button :disabled="!picked.size" data-testid="pick-clear" @click="picked.clear()">清除勾选</el-button>
      </el-form-item>
    </el-form>
  </el-card>

  <el-card v-if="result" shadow="never" style="margin-top: 12px" data-testid="pick-result">
    <el-alert :title="'已签约 ' + result.signed.length + ' 人' + (result.failed.length ? '，' + result.failed.length + ' 人未签约' : '')"
              :type="result.failed.length ? 'warning' : 'success'" show-icon :closable="false" />
    <el-table v-if="result.failed.length" :data="result.failed" size="small" style="margin-top: 8px"
              data-testid="pick-failed">
      <el-table-column label="居民" :formatter="(row) => nameOf(row.resident_id)" width="160" />
      <el-table-column prop="message" label="原因" />
    </el-table>
  </el-card>

  <el-card shadow="never" style="margin-top: 12px" v-loading="loading">
    <template #header>
      <span>{{ villageName || "请选择村（社区）" }}</span>
      <span v-if="village" style="margin-left: 12px; color: #909399">共 {{ households.length }} 户 · {{ residentCount }} 人</span>
    </template>
    <el-empty v-if="village && !loading && !households.length" description="该村暂无居民" />
    <el-collapse v-model="open" data-testid="pick-households">
      <el-collapse-item v-for="h in households" :key="h.household" :name="h.household"
                        :data-testid="'pick-household-' + (h.household || 'none')">
        <template #title>
          <el-checkbox :model-value="allPicked(h)" :indeterminate="somePicked(h)" :disabled="!signableOf(h).length"
                       :data-testid="'pick-household-all-' + (h.household || 'none')"
                       @click.stop @change="(on) => pickHousehold(h, on)" />
          <span style="margin-left: 8px">户号 {{ h.household || "（未填）" }}</span>
          <span style="margin-left: 12px; color: #909399">{{ h.members.length }} 人 · {{ h.members[0] && h.members[0].address }}</span>
        </template>
        <el-table :data="h.members" size="small" row-key="id">
          <el-table-column width="48">
            <template #default="{ row }">
              <el-checkbox :model-value="picked.has(row.id)" :disabled="!SIGNABLE.has(row.status)"
                           :data-testid="'pick-resident-' + row.id" @change="(on) => toggle(row, on)" />
            </template>
          </el-table-column>
          <el-table-column prop="name" label="姓名" width="120" />
          <el-table-column label="关系" width="90"><template #default="{ row }">{{ row.relation || "—" }}</template></el-table-column>
          <el-table-column label="性别" width="70">
            <template #default="{ row }">{{ row.sex === "male" ? "男" : row.sex === "female" ? "女" : "" }}</template>
          </el-table-column>
          <el-table-column prop="age" label="年龄" width="70" />
          <el-table-column prop="id_number" label="身份证号" width="200" />
          <el-table-column label="重点人群">
            <template #default="{ row }">
              <el-tag v-for="k in row.key_populations" :key="k" size="small" style="margin-right: 4px">{{ k }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column label="签约状态" width="110">
            <template #default="{ row }">
              <el-tag :type="STATUS_TYPES[row.status] || ''" size="small" :data-testid="'pick-status-' + row.id">{{ row.status_label }}</el-tag>
            </template>
          </el-table-column>
        </el-table>
      </el-collapse-item>
    </el-collapse>
    <div v-if="cursor" style="text-align: center; margin-top: 12px">
      <el-button data-testid="pick-more" @click="loadMore">加载更多</el-button>
    </div>
  </el-card>
</div>`,
    setup() {
      const hub = inject("hub");
      const towns = ref([]);
      const villages = ref([]);
      const town = ref("");
      const village = ref("");
      const households = ref([]);
      const cursor = ref(null);
      const open = ref([]);
      const loading = ref(false);
      const busy = ref(false);
      const picked = reactive(new Set());
      const names = reactive(new Map());
      const packages = ref([]);
      const packageId = ref("");
      const termYears = ref(1);
      const result = ref(null);
      const villageName = computed(() => villages.value.find((v) => v.code === village.value)?.name || "");
      const residentCount = computed(() => households.value.reduce((n, h) => n + h.members.length, 0));

      const signableOf = (h) => h.members.filter((m) => SIGNABLE.has(m.status));
      const allPicked = (h) => signableOf(h).length > 0 && signableOf(h).every((m) => picked.has(m.id));
      const somePicked = (h) => !allPicked(h) && h.members.some((m) => picked.has(m.id));
      function toggle(row, on) {
        if (on) picked.add(row.id); else picked.delete(row.id);
      }
      function pickHousehold(h, on) {
        for (const m of signableOf(h)) toggle(m, on);
      }
      function merge(found) {
        // a household cut by a page boundary goes on at the top of the next page under the same number
        for (const h of found) {
          for (const m of h.members) names.set(m.id, m.name);
          const last = households.value[households.value.length - 1];
          if (last && last.household === h.household) last.members.push(...h.members);
          else households.value.push(h);
        }
      }
      async function loadVillages(code) {
        village.value = "";
        households.value = [];
        const found = code ? await childRegions(hub, code) : [];
        if (town.value !== code) return;  // a town chosen since
        villages.value = found;
        if (villages.value[0]) {
          village.value = villages.value[0].code;
          await loadHouseholds();
        }
      }
      async function fetchPage() {
        const query = `village=${village.value}&limit=${PAGE_SIZE}${cursor.value ? `&cursor=${encodeURIComponent(cursor.value)}` : ""}`;
        const asked = village.value;
        const answer = await hub.rest.get(`/api/signing/households?${query}`);
        if (village.value !== asked) return;  // a village chosen since
        merge(itemsOf(answer));
        cursor.value = answer.next_cursor || null;
      }
      async function loadHouseholds() {
        households.value = [];
        cursor.value = null;
        picked.clear();
        result.value = null;
        if (!village.value) return;
        loading.value = true;
        try {
          await fetchPage();
          open.value = households.value.slice(0, 5).map((h) => h.household);
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        } finally {
          loading.value = false;
        }
      }
      async function loadMore() {
        loading.value = true;
        try { await fetchPage(); } catch (err) { hub.notify.error(errorOf(err).message); } finally { loading.value = false; }
      }
      async function submit() {
        busy.value = true;
        try {
          const body = { resident_ids: [...picked], term_years: termYears.value };
          if (packageId.value) body.package_id = packageId.value;
          result.value = await hub.rest.post("/api/signing/signings/batch", body);
          if (result.value.signed.length) hub.notify.success(`已签约 ${result.value.signed.length} 人`);
          const keep = result.value;
          const opened = open.value;
          await loadHouseholds();  // the statuses changed; clears the ticks
          result.value = keep;
          open.value = opened;
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        } finally {
          busy.value = false;
        }
      }
      const nameOf = (id) => names.get(id) || id;

      onMounted(async () => {
        try {
          const who = await hub.rest.get("/api/me");
          const [townList, found] = await Promise.all([childRegions(hub, countyOf(who.region || "")),
            hub.rest.get("/api/signing/packages")]);
          towns.value = townList;
          packages.value = itemsOf(found);
          const standard = packages.value.find((p) => p.standard) || packages.value[0];
          if (standard) { packageId.value = standard.id; termYears.value = Math.min(standard.term_years || 1, 3); }
          const home = townList.find((t) => t.code === who.region);
          if (home) { town.value = home.code; await loadVillages(home.code); }
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        }
      });
      return { towns, villages, town, village, households, cursor, open, loading, busy, picked, packages,
        packageId, termYears, result, villageName, residentCount, SIGNABLE, STATUS_TYPES, signableOf, allPicked,
        somePicked, toggle, pickHousehold, loadVillages, loadHouseholds, loadMore, submit, nameOf };
    },
  },
};
