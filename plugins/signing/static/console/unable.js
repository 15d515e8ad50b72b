// 无法签约审核: the unable-to-sign requests of the supervisor's region by state
// (GET /api/signing/unable-requests?status=…); approve or reject a pending one with a note (required to reject,
// POST …/{id}/approve|reject) and lift (解除) an approved one with a reason (POST …/{id}/lift).
import { cursorPager, day, errorOf, linkStylesheet, placeNames, queryOf } from "./roster-kit.js";

const { inject, reactive, ref, onMounted } = Vue;
const TABS = [["pending", "待审核"], ["approved", "已通过"], ["rejected", "已驳回"], ["lifted", "已解除"]];
const PAGE_SIZE = 20;
const ACTIONS = {
  approve: { title: "通过无法签约申请", label: "审核意见", required: false, field: "note", done: "已通过" },
  reject: { title: "驳回无法签约申请", label: "驳回理由", required: true, field: "note", done: "已驳回" },
  lift: { title: "解除无法签约", label: "解除原因", required: true, field: "reason", done: "已解除" },
};

export default {
  title: "无法签约审核",
  component: {
    template: `
<div class="signing-unable" data-testid="unable-page">
  <el-card shadow="never">
    <el-tabs :model-value="tab" data-testid="unable-tabs" @tab-change="pickTab">
      <el-tab-pane v-for="[key, label] in TABS" :key="key" :name="key">
        <template #label><span :data-testid="'unable-tab-' + key">{{ label }}</span></template>
      </el-tab-pane>
    </el-tabs>
    <el-table :data="pager.rows" v-loading="pager.loading" row-key="id" data-testid="unable-table"
              empty-text="暂无申请">
      <el-table-column label="居民" min-width="90">
        <template #default="{ row }"><span :data-testid="'unable-row-' + row.id">{{ row.resident_name }}</span></template>
      </el-table-column>
      <el-table-column prop="id_number" label="身份证号" min-width="170" />
      <el-table-column label="村（社区）" min-width="140"><template #default="{ row }">{{ placeOf(row.region) }}</template></el-table-column>
      <el-table-column prop="kind" label="情形" width="80" />
      <el-table-column prop="reason" label="申请原因" min-width="150" show-overflow-tooltip />
      <el-table-column prop="requested_by_name" label="申请人" width="100" />
      <el-table-column label="申请时间" width="110"><template #default="{ row }">{{ day(row.created_at) }}</template></el-table-column>
      <el-table-column v-if="tab !== 'pending'" label="审核意见" min-width="140" show-overflow-tooltip>
        <template #default="{ row }">{{ row.note || "—" }}</template>
      </el-table-column>
      <el-table-column v-if="tab === 'lifted'" prop="lift_reason" label="解除原因" min-width="140" show-overflow-tooltip />
      <el-table-column v-if="tab === 'pending' || tab === 'approved'" label="操作" width="140" fixed="right">
        <template #default="{ row }">
          <template v-if="row.status === 'pending'">
            <el-button link type="primary" :data-testid="'unable-approve-' + row.id" @click="open('approve', row)">通过</el-button>
            <el-button link type="danger" :data-testid="'unable-reject-' + row.id" @click="open('reject', row)">驳回</el-button>
          </template>
          <el-button v-else-if="row.status === 'approved'" link type="warning" :data-testid="'unable-lift-' + row.id"
                     @click="open('lift', row)">解除</el-button>
        </template>
      </el-table-column>
    </el-table>
    <div class="review-pager">
      <el-button :disabled="pager.index === 0 || pager.loading" data-testid="unable-prev" @click="turn(-1)">上一页</el-button>
      <span>第 {{ pager.index + 1 }} 页</span>
      <el-button :disabled="!pager.next || pager.loading" data-testid="unable-next" @click="turn(1)">下一页</el-button>
    </div>
  </el-card>

  <el-dialog v-model="dialog.open" :title="dialog.action ? ACTIONS[dialog.action].title : ''" width="440px"
             data-testid="unable-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="居民">{{ dialog.row && dialog.row.resident_name }}（{{ dialog.row && dialog.row.kind }}）</el-form-item>
      <el-form-item :label="dialog.action ? ACTIONS[dialog.action].label : ''" :required="dialog.action && ACTIONS[dialog.action].required">
        <el-input v-model="dialog.text" type="textarea" :rows="3" maxlength="200" show-word-limit
                  data-testid="unable-text" />
      </el-form-item>
      <el-alert v-if="dialog.error" :title="dialog.error" type="error" :closable="false" show-icon
                data-testid="unable-error" />
    </el-form>
    <template #footer>
      <el-button @click="dialog.open = false">取消</el-button>
      <el-button type="primary" :loading="dialog.busy" data-testid="unable-submit" @click="submit">确定</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      linkStylesheet(new URL("./pages.css", import.meta.url));
      const hub = inject("hub");
      const tab = ref(TABS.some(([k]) => k === hub.route.query.tab) ? hub.route.query.tab : "pending");
      const placeOf = ref(() => "—");
      const { pager, load, first, turn } = cursorPager(
        (cursor) => hub.rest.get(`/api/signing/unable-requests${queryOf({ status: tab.value, limit: PAGE_SIZE,
          cursor })}`),
        { onAnswer: async (answer) => {
          placeOf.value = await placeNames(hub, (answer.items || []).map((r) => r.region));
        }, onError: (message) => hub.notify.error(message) });
      function pickTab(key) {
        tab.value = key;
        return first();
      }
      const dialog = reactive({ open: false, action: "", row: null, text: "", busy: false, error: "" });
      function open(action, row) {
        Object.assign(dialog, { open: true, action, row, text: "", busy: false, error: "" });
      }
      async function submit() {
        const spec = ACTIONS[dialog.action];
        const text = dialog.text.trim();
        if (spec.required && !text) { dialog.error = `请填写${spec.label}`; return; }
        const path = dialog.action === "lift" ? `${dialog.row.id}/lift` : `${dialog.row.id}/${dialog.action}`;
        dialog.busy = true;
        dialog.error = "";
        try {
          await hub.rest.post(`/api/signing/unable-requests/${path}`, text ? { [spec.field]: text } : {});
          dialog.open = false;
          hub.notify.success(`${spec.done}：${dialog.row.resident_name}`);
          await load();
        } catch (err) {
          dialog.error = errorOf(err).message;
        } finally {
          dialog.busy = false;
        }
      }
      onMounted(first);
      return { TABS, ACTIONS, tab, placeOf, pager, turn, pickTab, dialog, open, submit, day };
    },
  },
};
