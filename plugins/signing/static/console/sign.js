// 录入签约: a doctor signs a resident on the spot — the ID number checked as it is typed (../idcard.js, the
// server's rules), the resident's details, the package and term; POST /api/signing/signings.
import { checkIdNumber, typingProblem } from "../idcard.js";
import { childRegions, countyOf, errorOf, itemsOf } from "./roster-kit.js";

const { inject, reactive, ref, computed, onMounted } = Vue;

const FIELDS = ["id_number", "name", "phone", "village", "household", "address", "package_id", "term_years"];

function blankForm() {
  return { id_number: "", name: "", phone: "", town: "", village: "", household: "", address: "",
    package_id: "", term_years: 1, auto_renew: true };
}

export default {
  title: "录入签约",
  component: {
    template: `
<div class="signing-sign" data-testid="sign-page">
  <el-row :gutter="16">
    <el-col :span="15">
      <el-card shadow="never">
        <template #header><span>居民信息</span></template>
        <el-form label-width="110px" :model="form" @submit.prevent>
          <el-form-item label="身份证号" required :error="errors.id_number">
            <el-input v-model="form.id_number" maxlength="24" placeholder="18 位居民身份证号" clearable
                      data-testid="sign-id-number" @input="onIdInput" @blur="onIdBlur" />
            <div v-if="derived" class="sign-derived" data-testid="sign-id-derived">
              出生日期 {{ derived.birthDate }} · {{ derived.sex === "male" ? "男" : "女" }}
            </div>
          </el-form-item>
          <el-form-item label="姓名" required :error="errors.name">
            <el-input v-model="form.name" maxlength="30" data-testid="sign-name" />
          </el-form-item>
          <el-form-item label="手机号" :error="errors.phone">
            <el-input v-model="form.phone" maxlength="11" data-testid="sign-phone" />
          </el-form-item>
          <el-form-item label="村（社区）" required :error="errors.village">
            <el-select v-model="form.town" placeholder="乡镇（街道）" style="width: 190px" data-testid="sign-town"
                       @change="loadVillages">
              <el-option v-for="t in towns" :key="t.code" :label="t.name" :value="t.code" />
            </el-select>
            <el-select v-model="form.village" placeholder="村（社区）" style="width: 190px; margin-left: 8px"
                       data-testid="sign-village" :disabled="!form.town">
              <el-option v-for="v in villages" :key="v.code" :label="v.name" :value="v.code" />
            </el-select>
          </el-form-item>
          <el-form-item label="户号" :error="errors.household">
            <el-input v-model="form.household" maxlength="40" data-testid="sign-household" />
          </el-form-item>
          <el-form-item label="住址" :error="errors.address">
            <el-input v-model="form.address" maxlength="200" data-testid="sign-address" />
          </el-form-item>
        </el-form>
      </el-card>
    </el-col>
    <el-col :span="9">
      <el-card shadow="never">
        <template #header><span>签约信息</span></template>
        <el-form label-width="110px" @submit.prevent>
          <el-form-item label="签约团队">
            <span data-testid="sign-team">{{ me.team ? me.team.name : "—" }}</span>
          </el-form-item>
          <el-form-item label="签约医生">
            <span data-testid="sign-doctor">{{ me.name || "—" }}</span>
          </el-form-item>
          <el-form-item label="服务包" :error="errors.package_id">
            <el-select v-model="form.package_id" style="width: 100%" data-testid="sign-package"
                       @change="onPackage">
              <el-option v-for="p in packages" :key="p.id" :label="p.name" :value="p.id" />
            </el-select>
          </el-form-item>
          <el-form-item label="签约年限" :error="errors.term_years">
            <el-input-number v-model="form.term_years" :min="1" :max="3" data-testid="sign-term" />
            <span style="margin-left: 8px">年</span>
          </el-form-item>
          <el-form-item label="到期自动续签">
            <el-switch v-model="form.auto_renew" data-testid="sign-auto-renew" />
          </el-form-item>
          <el-alert v-if="general" :title="general" type="error" show-icon :closable="false"
                    data-testid="sign-error" style="margin-bottom: 12px" />
          <el-button type="primary" :loading="busy" data-testid="sign-submit" @click="submit">提交签约</el-button>
          <el-button data-testid="sign-reset" @click="reset">清空</el-button>
        </el-form>
      </el-card>
      <el-card v-if="created" shadow="never" style="margin-top: 16px" data-testid="sign-result">
        <template #header><span>签约成功</span></template>
        <el-descriptions :column="1" size="small" border>
          <el-descriptions-item label="居民">{{ created.resident_name }}</el-descriptions-item>
          <el-descriptions-item label="身份证号">{{ created.id_number }}</el-descriptions-item>
          <el-descriptions-item label="服务包">{{ created.package_name }}</el-descriptions-item>
          <el-descriptions-item label="签约期限">{{ day(created.start) }} 至 {{ day(created.end) }}</el-descriptions-item>
          <el-descriptions-item label="状态">
            <el-tag type="success" data-testid="sign-result-status">{{ created.status === "active" ? "已签约" : created.status }}</el-tag>
          </el-descriptions-item>
        </el-descriptions>
      </el-card>
    </el-col>
  </el-row>
</div>`,
    setup() {
      const hub = inject("hub");
      const form = reactive(blankForm());
      const errors = reactive(Object.fromEntries(FIELDS.map((f) => [f, ""])));
      const general = ref("");
      const busy = ref(false);
      const created = ref(null);
      const towns = ref([]);
      const villages = ref([]);
      const packages = ref([]);
      const me = reactive({ id: "", name: "", team: null, region: "" });
      const derived = computed(() => {
        const found = checkIdNumber(form.id_number);
        return found.ok ? found : null;
      });

      function clearErrors() {
        for (const f of FIELDS) errors[f] = "";
        general.value = "";
      }
      function onIdInput() {
        errors.id_number = typingProblem(form.id_number)?.message || "";
      }
      function onIdBlur() {
        if (!form.id_number.trim()) return;
        const found = checkIdNumber(form.id_number);
        errors.id_number = found.ok ? "" : found.message;
      }
      function onPackage(id) {
        const chosen = packages.value.find((p) => p.id === id);
        if (chosen) form.term_years = Math.min(Math.max(chosen.term_years || 1, 1), 3);
      }
      async function loadVillages(town) {
        form.village = "";
        const found = town ? await childRegions(hub, town) : [];
        if (form.town === town) villages.value = found;  // an answer for a town chosen since is dropped
      }
      function checkLocally() {
        const found = checkIdNumber(form.id_number);
        if (!found.ok) errors.id_number = found.message;
        if (!form.name.trim()) errors.name = "姓名必填";
        if (form.phone && !/^1\d{10}$/.test(form.phone.trim())) errors.phone = "手机号应为 11 位数字";
        if (!form.village) errors.village = "请选择村（社区）";
        return !FIELDS.some((f) => errors[f]);
      }
      async function submit() {
        clearErrors();
        created.value = null;
        if (!checkLocally()) return;
        const resident = { id_number: checkIdNumber(form.id_number).number, name: form.name.trim(),
          village: form.village };
        if (form.phone.trim()) resident.phone = form.phone.trim();
        if (form.household.trim()) resident.household = form.household.trim();
        if (form.address.trim()) resident.address = form.address.trim();
        const body = { resident, term_years: form.term_years, auto_renew: form.auto_renew };
        if (form.package_id) body.package_id = form.package_id;
        busy.value = true;
        try {
          created.value = await hub.rest.post("/api/signing/signings", body);
          hub.notify.success(`已为 ${created.value.resident_name} 签约`);
        } catch (err) {
          const { field, message } = errorOf(err);
          if (FIELDS.includes(field)) errors[field] = message;
          else general.value = message;
        } finally {
          busy.value = false;
        }
      }
      function reset() {
        Object.assign(form, blankForm(), { town: form.town });
        clearErrors();
        const standard = packages.value.find((p) => p.standard) || packages.value[0];
        if (standard) { form.package_id = standard.id; onPackage(standard.id); }
      }
      const day = (iso) => (iso ? iso.slice(0, 10) : "—");

      onMounted(async () => {
        try {
          const who = await hub.rest.get("/api/me");
          Object.assign(me, { id: who.id, name: who.name, region: who.region || "" });
          const [profile, found, townList] = await Promise.all([
            hub.rest.get(`/api/signing/doctors/${who.id}`).catch(() => null),
            hub.rest.get("/api/signing/packages"),
            childRegions(hub, countyOf(me.region)),
          ]);
          me.team = profile && profile.team;
          packages.value = itemsOf(found);
          towns.value = townList;
          if (me.region && townList.some((t) => t.code === me.region)) {
            form.town = me.region;
            await loadVillages(me.region);
          }
          reset();
        } catch (err) {
          general.value = errorOf(err).message;
        }
      });
      return { form, errors, general, busy, created, towns, villages, packages, me, derived,
        onIdInput, onIdBlur, onPackage, loadVillages, submit, reset, day };
    },
  },
};
