// 服务包: the service packages (basic and special) with their items, term and price; an institution admin or a
// sysadmin creates one (POST /api/signing/packages — the API has no edit of a package).
import { errorOf, itemsOf } from "./roster-kit.js";

const { inject, reactive, ref, computed, onMounted } = Vue;
const KIND_LABELS = { basic: "基础包", special: "个性化包" };

function blank() {
  return { name: "", kind: "special", term_years: 1, price_yuan: 0, description: "",
    items: [{ name: "", times_per_year: 1 }] };
}

export default {
  title: "服务包",
  component: {
    template: `
<div class="signing-packages" data-testid="packages-page">
  <el-card shadow="never">
    <template #header>
      <div style="display: flex; align-items: center">
        <span>签约服务包</span>
        <el-button v-if="canCreate" type="primary" size="small" style="margin-left: auto"
                   data-testid="packages-create" @click="openCreate">新建服务包</el-button>
      </div>
    </template>
    <el-table :data="packages" size="small" row-key="id" data-testid="packages-list">
      <el-table-column type="expand">
        <template #default="{ row }">
          <div style="padding: 4px 48px">
            <p v-if="row.description" style="margin: 0 0 8px; color: #606266">{{ row.description }}</p>
            <el-table :data="row.items" size="small" border style="width: 420px">
              <el-table-column prop="name" label="服务项目" />
              <el-table-column prop="times_per_year" label="每年次数" width="100" />
            </el-table>
          </div>
        </template>
      </el-table-column>
      <el-table-column label="名称">
        <template #default="{ row }">
          {{ row.name }}
          <el-tag v-if="row.standard" size="small" style="margin-left: 6px">默认</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="类型" width="110"><template #default="{ row }">{{ KIND_LABELS[row.kind] || row.kind }}</template></el-table-column>
      <el-table-column label="服务项目" width="100"><template #default="{ row }">{{ row.items.length }} 项</template></el-table-column>
      <el-table-column label="签约年限" width="100"><template #default="{ row }">{{ row.term_years }} 年</template></el-table-column>
      <el-table-column label="价格" width="110"><template #default="{ row }">{{ row.price_yuan ? "¥" + row.price_yuan : "免费" }}</template></el-table-column>
    </el-table>
  </el-card>

  <el-dialog v-model="dialog.open" title="新建服务包" width="600px" data-testid="package-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="名称" required :error="dialog.errors.name">
        <el-input v-model="dialog.form.name" maxlength="40" data-testid="package-form-name" />
      </el-form-item>
      <el-form-item label="类型" required :error="dialog.errors.kind">
        <el-radio-group v-model="dialog.form.kind">
          <el-radio value="basic">基础包</el-radio><el-radio value="special">个性化包</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-form-item label="签约年限" :error="dialog.errors.term_years">
        <el-input-number v-model="dialog.form.term_years" :min="1" :max="3" data-testid="package-form-term" />
      </el-form-item>
      <el-form-item label="价格（元）" :error="dialog.errors.price_yuan">
        <el-input-number v-model="dialog.form.price_yuan" :min="0" :precision="2" data-testid="package-form-price" />
      </el-form-item>
      <el-form-item label="说明" :error="dialog.errors.description">
        <el-input v-model="dialog.form.description" type="textarea" maxlength="300" />
      </el-form-item>
      <el-form-item label="服务项目" :error="dialog.errors.items">
        <div v-for="(item, i) in dialog.form.items" :key="i" style="display: flex; gap: 8px; margin-bottom: 6px; width: 100%">
          <el-input v-model="item.name" placeholder="项目名称" maxlength="40" :data-testid="'package-item-name-' + i" />
          <el-input-number v-model="item.times_per_year" :min="0" :max="365" style="width: 130px" />
          <el-button link type="danger" @click="dialog.form.items.splice(i, 1)">删除</el-button>
        </div>
        <el-button size="small" data-testid="package-item-add" @click="dialog.form.items.push({ name: '', times_per_year: 1 })">添加项目</el-button>
      </el-form-item>
      <el-alert v-if="dialog.error" :title="dialog.error" type="error" :closable="false" show-icon />
    </el-form>
    <template #footer>
      <el-button @click="dialog.open = false">取消</el-button>
      <el-button type="primary" :loading="dialog.busy" data-testid="package-form-save" @click="save">保存</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject("hub");
      const packages = ref([]);
      const dialog = reactive({ open: false, busy: false, error: "", errors: {}, form: blank() });
      const canCreate = computed(() => hub.user && ["admin", "sysadmin"].includes(hub.user.role));
      async function load() {
        packages.value = itemsOf(await hub.rest.get("/api/signing/packages"));
      }
      function openCreate() {
        Object.assign(dialog, { open: true, busy: false, error: "", errors: {}, form: blank() });
      }
      async function save() {
        dialog.busy = true;
        dialog.error = "";
        dialog.errors = {};
        const f = dialog.form;
        const body = { name: f.name, kind: f.kind, term_years: f.term_years, price_yuan: f.price_yuan,
          items: f.items.filter((i) => i.name.trim()).map((i) => ({ name: i.name.trim(), times_per_year: i.times_per_year })) };
        if (f.description.trim()) body.description = f.description.trim();
        try {
          await hub.rest.post("/api/signing/packages", body);
          await load();
          dialog.open = false;
          hub.notify.success("服务包已创建");
        } catch (err) {
          const { field, message } = errorOf(err);
          if (field) dialog.errors = { [field.split(".")[0].replace(/\[\d+\]$/, "")]: message };
          else dialog.error = message;
        } finally {
          dialog.busy = false;
        }
      }
      onMounted(() => load().catch((err) => hub.notify.error(errorOf(err).message)));
      return { KIND_LABELS, packages, dialog, canCreate, openCreate, save };
    },
  },
};
