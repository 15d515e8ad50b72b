// 签约审核: the team's applications in three tabs — 待审核 / 已通过 / 被拒绝, with their counts
// (GET /api/signing/signings?status=…&with_counts=true) — filtered by a whole ID number or a name; a doctor or the
// leader of the team approves (the term may be changed) or rejects with a reason
// (POST /api/signing/signings/{id}/approve|reject). The first tab comes from the route (?tab=pending: the bell's link).
import { checkIdNumber } from "../idcard.js";
import { cursorPager, day, errorOf, linkStylesheet, MAX_TERM_YEARS, queryOf } from "./roster-kit.js";

const { inject, reactive, ref, onMounted } = Vue;
const TABS = [["pending", "待审核"], ["approved", "已通过"], ["rejected", "被拒绝"]];
const STATUS_LABELS = { pending: "待审核", active: "已签约", rejected: "已拒绝", cancelled: "已撤销",
  terminated: "已解约", expired: "已到期" };
const PAGE_SIZE = 20;

export default {
  title: "签约审核",
  component: {
    template: `
<div class="signing-review" data-testid="review-page">
  <el-card shadow="never">
    <el-form inline @submit.prevent>
      <el-form-item label="身份证号" :error="idError">
        <el-input v-model="idNumber" clearable maxlength="24" placeholder="完整的 18 位号码" style="width: 220px"
                  data-testid="review-id-number" @keyup.enter="search" @clear="search" />
      </el-form-item>
      <el-form-item label="姓名">
        <el-input v-model="name" clearable maxlength="30" style="width: 160px" data-testid="review-name"
                  @keyup.enter="search" @clear="search" />
      </el-form-item>
      <el-form-item>
        <el-button type="primary" data-testid="review-search" @click="search">查询</el-button>
        <el-button data-testid="review-reset" @click="reset">重置</el-button>
      </el-form-item>
    </el-form>
    <el-tabs :model-value="tab" data-testid="review-tabs" @tab-change="pickTab">
      <el-tab-pane v-for="[key, label] in TABS" :key="key" :name="key">
        <template #label><span :data-testid="'review-tab-' + key">{{ label }} {{ counts[key] ?? 0 }}</span></template>
      </el-tab-pane>
    </el-tabs>
    <el-table :data="pager.rows" v-loading="pager.loading" row-key="id" data-testid="review-table"
              empty-text="暂无申请">
      <el-table-column label="居民" min-width="90">
        <template #default="{ row }"><span :data-testid="'review-row-' + row.id">{{ row.resident_name }}</span></template>
      </el-table-column>
      <el-table-column prop="id_number" label="身份证号" min-width="170" />
      <el-table-column prop="doctor_name" label="签约医生" min-width="90" />
      <el-table-column prop="package_name" label="服务包" min-width="110" />
      <el-table-column label="年限" width="70"><template #default="{ row }">{{ row.term_years }} 年</template></el-table-column>
      <el-table-column label="申请时间" width="110"><template #default="{ row }">{{ day(row.created_at) }}</template></el-table-column>
      <el-table-column v-if="tab === 'approved'" label="服务期" min-width="190">
        <template #default="{ row }">{{ day(row.start) }} 至 {{ day(row.end) }}</template>
      </el-table-column>
      <el-table-column v-if="tab !== 'pending'" label="状态" width="90">
        <template #default="{ row }">
          <el-tag size="small" :type="row.status === 'active' ? 'success' : row.status === 'rejected' ? 'danger' : 'info'"
                  :data-testid="'review-status-' + row.id">{{ STATUS_LABELS[row.status] || row.status }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column v-if="tab === 'rejected'" prop="reason" label="拒绝原因" min-width="160" />
      <el-table-column v-if="tab === 'pending'" label="操作" width="150" fixed="right">
        <template #default="{ row }">
          <el-button link type="primary" :data-testid="'review-approve-' + row.id" @click="openApprove(row)">通过</el-button>
          <el-button link type="danger" :data-testid="'review-reject-' + row.id" @click="openReject(row)">拒绝</el-button>
        </template>
      </el-table-column>
    </el-table>
    <div class="review-pager">
      <el-button :disabled="pager.index === 0 || pager.loading" data-testid="review-prev" @click="turn(-1)">上一页</el-button>
      <span>第 {{ pager.index + 1 }} 页</span>
      <el-button :disabled="!pager.next || pager.loading" data-testid="review-next" @click="turn(1)">下一页</el-button>
    </div>
  </el-card>

  <el-dialog v-model="approve.open" title="通过签约申请" width="420px" data-testid="review-approve-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="居民">{{ approve.row && approve.row.resident_name }}</el-form-item>
      <el-form-item label="服务包">{{ approve.row && approve.row.package_name }}</el-form-item>
      <el-form-item label="签约年限">
        <el-input-number v-model="approve.term_years" :min="1" :max="MAX_TERM_YEARS" data-testid="review-term" />
        <span class="review-unit">年</span>
      </el-form-item>
      <el-alert v-if="approve.error" :title="approve.error" type="error" :closable="false" show-icon
                data-testid="review-approve-error" />
    </el-form>
    <template #footer>
      <el-button @click="approve.open = false">取消</el-button>
      <el-button type="primary" :loading="approve.busy" data-testid="review-approve-submit" @click="submitApprove">通过</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="reject.open" title="拒绝签约申请" width="420px" data-testid="review-reject-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="居民">{{ reject.row && reject.row.resident_name }}</el-form-item>
      <el-form-item label="拒绝原因" required>
        <el-input v-model="reject.reason" type="textarea" :rows="3" maxlength="200" show-word-limit
                  data-testid="review-reason" />
      </el-form-item>
      <el-alert v-if="reject.error" :title="reject.error" type="error" :closable="false" show-icon
                data-testid="review-reject-error" />
    </el-form>
    <template #footer>
      <el-button @click="reject.open = false">取消</el-button>
      <el-button type="danger" :loading="reject.busy" data-testid="review-reject-submit" @click="submitReject">拒绝</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      linkStylesheet(new URL("./pages.css", import.meta.url));
      const hub = inject("hub");
      const tabOf = (q) => (TABS.some(([k]) => k === q) ? q : "pending");
      const tab = ref(tabOf(hub.route.query.tab));
      const idNumber = ref("");
      const name = ref("");
      const idError = ref("");
      const counts = reactive({});
      const filters = reactive({ id_number: "", name: "" });  // the ones last searched
      const { pager, load, first, turn } = cursorPager(
        (cursor) => hub.rest.get(`/api/signing/signings${queryOf({ status: tab.value, ...filters,
          with_counts: "true", limit: PAGE_SIZE, cursor })}`),
        { onAnswer: (answer) => Object.assign(counts, answer.counts || {}),
          onError: (message) => hub.notify.error(message) });

      function search() {
        idError.value = "";
        const typed = idNumber.value.trim();
        const found = typed ? checkIdNumber(typed) : null;
        if (found && !found.ok) {
          // the list matches a whole number only: a fragment would find nobody (and count as a lookup)
          idError.value = found.message;
          return undefined;
        }
        Object.assign(filters, { id_number: found ? found.number : "", name: name.value.trim() });
        return first();
      }
      function reset() {
        idNumber.value = "";
        name.value = "";
        return search();
      }
      function pickTab(key) {
        // not into the route: the shell loads the page again on a change of the route (the bell's link does)
        tab.value = key;
        return first();
      }

      const approve = reactive({ open: false, row: null, term_years: 1, busy: false, error: "" });
      const reject = reactive({ open: false, row: null, reason: "", busy: false, error: "" });
      function openApprove(row) {
        Object.assign(approve, { open: true, row, busy: false, error: "",
          term_years: Math.min(Math.max(row.term_years || 1, 1), MAX_TERM_YEARS) });
      }
      function openReject(row) {
        Object.assign(reject, { open: true, row, reason: "", busy: false, error: "" });
      }
      async function decide(state, action, body, done) {
        state.busy = true;
        state.error = "";
        try {
          await hub.rest.post(`/api/signing/signings/${state.row.id}/${action}`, body);
          state.open = false;
          hub.notify.success(done);
          await load();
        } catch (err) {
          state.error = errorOf(err).message;
        } finally {
          state.busy = false;
        }
      }
      const submitApprove = () => decide(approve, "approve", { term_years: approve.term_years },
        `已通过 ${approve.row.resident_name} 的签约申请`);
      function submitReject() {
        const reason = reject.reason.trim();
        if (!reason) { reject.error = "请填写拒绝原因"; return undefined; }
        return decide(reject, "reject", { reason }, `已拒绝 ${reject.row.resident_name} 的签约申请`);
      }

      onMounted(first);
      return { TABS, STATUS_LABELS, MAX_TERM_YEARS, tab, idNumber, name, idError, counts, pager, turn,
        search, reset, pickTab, approve, reject, openApprove, openReject, submitApprove, submitReject, day };
    },
  },
};
