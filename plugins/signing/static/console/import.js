// Excel 导入: download the template, upload a filled workbook (POST /api/signing/imports, 202), a progress bar
// while it runs (the import's state polled), then the per-row error report — a table and errors.xlsx.
import { download, errorOf, itemsOf, rawRequest } from "./roster-kit.js";

const { inject, ref, computed, onMounted, onBeforeUnmount } = Vue;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const RUNNING = new Set(["reading", "importing"]);
const SIGNERS = new Set(["doctor", "team_leader"]);
const POLL_MS = 500;
const STATUS_LABELS = { reading: "读取中", importing: "导入中", done: "已完成", failed: "失败",
  interrupted: "已中断", stalled: "已停止" };

export default {
  title: "Excel 导入",
  component: {
    template: `
<div class="signing-import" data-testid="import-page">
  <el-card shadow="never">
    <template #header><span>导入签约数据</span></template>
    <el-steps :active="step" finish-status="success" simple style="margin-bottom: 16px">
      <el-step title="下载模板" /><el-step title="填写并上传" /><el-step title="查看结果" />
    </el-steps>
    <el-form v-if="isAdmin" inline @submit.prevent>
      <el-form-item label="签约团队">
        <el-select v-model="teamId" style="width: 220px" data-testid="import-team" @change="pickDoctor">
          <el-option v-for="t in teams" :key="t.id" :label="t.name" :value="t.id" />
        </el-select>
      </el-form-item>
      <el-form-item label="签约医生">
        <el-select v-model="doctorId" style="width: 160px" :disabled="!teamId" data-testid="import-doctor">
          <el-option v-for="d in doctors" :key="d.id" :label="d.name" :value="d.id" />
        </el-select>
      </el-form-item>
    </el-form>
    <el-space wrap>
      <el-button data-testid="import-template" @click="template">下载导入模板</el-button>
      <el-button type="primary" :loading="uploading" :disabled="running || (isAdmin && !doctorId)"
                 data-testid="import-choose"
                 @click="choose">选择 .xlsx 文件并上传</el-button>
      <input ref="fileInput" type="file" accept=".xlsx" style="display: none" data-testid="import-file"
             @change="upload" />
      <span style="color: #909399">{{ isAdmin ? "按模板填写：每行一位居民，导入为所选团队、医生的签约。" : "按模板填写：每行一位居民，导入为本团队、本人的签约。" }}</span>
    </el-space>
    <el-alert v-if="failure" :title="failure" type="error" show-icon :closable="false" style="margin-top: 12px"
              data-testid="import-error" />
  </el-card>

  <el-card v-if="job" shadow="never" style="margin-top: 12px" data-testid="import-job">
    <template #header>
      <span>{{ job.filename }}</span>
      <el-tag style="margin-left: 12px" :type="job.status === 'done' ? 'success' : running ? '' : 'danger'"
              data-testid="import-status">{{ statusLabel(job.status) }}</el-tag>
    </template>
    <el-progress :percentage="percent" :status="job.status === 'done' ? 'success' : running ? '' : 'exception'"
                 :stroke-width="18" text-inside data-testid="import-progress" />
    <el-descriptions :column="5" border size="small" style="margin-top: 12px" data-testid="import-counts">
      <el-descriptions-item label="总行数">{{ job.total }}</el-descriptions-item>
      <el-descriptions-item label="已处理">{{ job.processed }}</el-descriptions-item>
      <el-descriptions-item label="导入成功"><span data-testid="import-imported">{{ job.imported }}</span></el-descriptions-item>
      <el-descriptions-item label="未变化">{{ job.unchanged }}</el-descriptions-item>
      <el-descriptions-item label="失败"><span data-testid="import-failed">{{ job.failed }}</span></el-descriptions-item>
    </el-descriptions>
    <el-alert v-if="job.error" :title="job.error" type="error" :closable="false" style="margin-top: 12px" />
    <template v-if="!running && rows.length">
      <div style="display: flex; align-items: center; margin: 16px 0 8px">
        <strong>错误报告</strong>
        <span style="margin-left: 8px; color: #909399">{{ rows.length }} 行有误，未导入</span>
        <el-button style="margin-left: auto" size="small" data-testid="import-report"
                   @click="report">下载错误报告（errors.xlsx）</el-button>
      </div>
      <el-table :data="problems" size="small" border max-height="420" data-testid="import-rows">
        <el-table-column prop="row" label="行号" width="80" />
        <el-table-column prop="name" label="姓名" width="120" />
        <el-table-column prop="id_number" label="身份证号" width="200" />
        <el-table-column prop="column" label="列" width="180" />
        <el-table-column prop="message" label="错误" />
      </el-table>
      <div v-if="errorsCursor" style="text-align: center; margin-top: 8px">
        <el-button size="small" data-testid="import-rows-more" @click="loadErrors(false)">加载更多</el-button>
      </div>
    </template>
  </el-card>

  <el-card shadow="never" style="margin-top: 12px">
    <template #header><span>{{ isAdmin ? "本机构的导入记录" : "本团队的导入记录" }}</span></template>
    <el-table :data="history" size="small" data-testid="import-history" @row-click="open">
      <el-table-column prop="filename" label="文件" />
      <el-table-column label="状态" width="100"><template #default="{ row }">{{ statusLabel(row.status) }}</template></el-table-column>
      <el-table-column prop="total" label="总行数" width="90" />
      <el-table-column prop="imported" label="成功" width="80" />
      <el-table-column prop="failed" label="失败" width="80" />
      <el-table-column label="时间" width="180"><template #default="{ row }">{{ (row.created_at || "").replace("T", " ").slice(0, 19) }}</template></el-table-column>
    </el-table>
  </el-card>
</div>`,
    setup() {
      const hub = inject("hub");
      const fileInput = ref(null);
      const uploading = ref(false);
      const failure = ref("");
      const job = ref(null);
      const rows = ref([]);
      const errorsCursor = ref(null);
      const history = ref([]);
      const isAdmin = computed(() => hub.user && hub.user.role === "admin");
      const teams = ref([]);
      const teamId = ref("");
      const doctorId = ref("");
      const doctors = computed(() => (teams.value.find((t) => t.id === teamId.value)?.members || [])
        .filter((m) => SIGNERS.has(m.role)));
      let timer = null;
      let alive = true;

      function pickDoctor() {
        const team = teams.value.find((t) => t.id === teamId.value);
        const leader = doctors.value.find((d) => d.id === team?.leader_id);
        doctorId.value = (leader || doctors.value[0] || {}).id || "";
      }
      async function loadTeams() {
        if (!isAdmin.value) return;
        const found = itemsOf(await hub.rest.get("/api/signing/teams?limit=100"));
        // the list carries member ids only: each team's profile names its members and their roles
        teams.value = await Promise.all(found.map((t) => hub.rest.get(`/api/signing/teams/${t.id}`)));
        if (teams.value[0]) { teamId.value = teams.value[0].id; pickDoctor(); }
      }

      const running = computed(() => !!job.value && RUNNING.has(job.value.status));
      const percent = computed(() => {
        const j = job.value;
        if (!j) return 0;
        if (j.status === "done") return 100;
        return j.total ? Math.min(100, Math.round((100 * j.processed) / j.total)) : 0;
      });
      const step = computed(() => (job.value ? (running.value ? 1 : 3) : 0));
      const problems = computed(() => rows.value.flatMap((r) => r.errors.map((e, i) => ({
        key: `${r.row}-${i}`, row: r.row, name: r.name, id_number: r.id_number, column: e.column,
        message: e.message }))));
      const statusLabel = (s) => STATUS_LABELS[s] || s;

      async function loadHistory() {
        try { history.value = itemsOf(await hub.rest.get("/api/signing/imports?limit=10")); } catch { /* shown on use */ }
      }
      async function loadErrors(fresh) {
        if (fresh) { rows.value = []; errorsCursor.value = null; }
        const cursor = errorsCursor.value ? `&cursor=${encodeURIComponent(errorsCursor.value)}` : "";
        const answer = await hub.rest.get(`/api/signing/imports/${job.value.id}/errors?limit=100${cursor}`);
        rows.value = [...rows.value, ...itemsOf(answer)];
        errorsCursor.value = answer.next_cursor || null;
      }
      async function poll() {
        timer = null;
        if (!alive || !job.value) return;
        try {
          job.value = await hub.rest.get(`/api/signing/imports/${job.value.id}`);
        } catch (err) {
          failure.value = errorOf(err).message;
          return;
        }
        if (RUNNING.has(job.value.status)) {
          timer = setTimeout(poll, POLL_MS);
          return;
        }
        if (job.value.failed) await loadErrors(true);
        if (job.value.status === "done") hub.notify.success(`导入完成：成功 ${job.value.imported} 行`);
        await loadHistory();
      }
      function choose() {
        fileInput.value.value = "";
        fileInput.value.click();
      }
      async function upload(event) {
        const file = event.target.files && event.target.files[0];
        if (!file) return;
        failure.value = "";
        rows.value = [];
        uploading.value = true;
        try {
          const target = isAdmin.value ? `&team_id=${teamId.value}&doctor_id=${doctorId.value}` : "";
          const response = await rawRequest(hub, `/api/signing/imports?filename=${encodeURIComponent(file.name)}${target}`,
            { method: "POST", headers: { "Content-Type": XLSX }, body: file });
          job.value = await response.json();
          if (timer) clearTimeout(timer);
          timer = setTimeout(poll, POLL_MS);
        } catch (err) {
          failure.value = errorOf(err).message;
        } finally {
          uploading.value = false;
        }
      }
      async function open(row) {
        job.value = row;
        rows.value = [];
        await poll();
      }
      async function template() {
        try { await download(hub, "/api/signing/imports/template.xlsx", "签约数据导入模板.xlsx"); } catch (err) { hub.notify.error(errorOf(err).message); }
      }
      async function report() {
        try { await download(hub, `/api/signing/imports/${job.value.id}/errors.xlsx`, `导入错误报告-${job.value.id}.xlsx`); } catch (err) { hub.notify.error(errorOf(err).message); }
      }
      onMounted(() => Promise.all([loadHistory(), loadTeams()]).catch((err) => { failure.value = errorOf(err).message; }));
      onBeforeUnmount(() => { alive = false; if (timer) clearTimeout(timer); });
      return { isAdmin, teams, teamId, doctorId, doctors, pickDoctor, fileInput, uploading, failure, job, rows, errorsCursor, history, running, percent, step, problems,
        statusLabel, loadErrors, choose, upload, open, template, report };
    },
  },
};
