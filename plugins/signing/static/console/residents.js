// 居民管理: the residents in scope by region (town → village on the left), the five status classes as tabs with
// their counts, a keyword over name / ID / phone / address, paging by cursor (GET /api/signing/residents
// ?with_counts=true), the row actions the caller's role may use (sign, renew, terminate, refuse, edit), tags in
// bulk on the ticked rows and the xlsx export of the filtered list (GET /api/signing/residents/export.xlsx).
// Numbers are masked as the API sends them.
import {
  childRegions, countyOf, cursorPager, day, download, EDIT_ROLES, errorOf, itemsOf, linkStylesheet, MAX_TERM_YEARS,
  queryOf, SIGNING_ROLES, STATUS_TYPES, TAG_ROLES,
} from "./roster-kit.js";

const { inject, reactive, ref, computed, onMounted } = Vue;
const CLASSES = [["signed", "已签约"], ["to_renew", "待续签"], ["unsigned", "未签约"], ["refused", "拒签"],
  ["unable", "无法签约"]];
const PAGE_SIZES = [20, 50, 100];
const UNABLE_KINDS = ["服刑", "死亡", "外迁", "失联", "其他"];  // signings.UNABLE_KINDS
const isVillage = (code) => !code.endsWith("000");

export default {
  title: "居民管理",
  component: {
    template: `
<div class="signing-residents" data-testid="residents-page">
  <el-row :gutter="12">
    <el-col :span="4">
      <el-card shadow="never" class="residents-regions">
        <template #header>
          <div class="residents-head">
            <span>区域</span>
            <el-button link type="primary" :disabled="!region" data-testid="residents-region-all"
                       @click="pickRegion(null)">全部</el-button>
          </div>
        </template>
        <el-tree v-if="rootsReady" lazy :load="loadNode" node-key="code" :props="treeProps" highlight-current
                 :expand-on-click-node="false" data-testid="residents-tree" @node-click="pickRegion">
          <template #default="{ data }">
            <span :data-testid="'region-' + data.code">{{ data.name }}</span>
          </template>
        </el-tree>
      </el-card>
    </el-col>
    <el-col :span="20">
      <el-card shadow="never">
        <div class="residents-toolbar">
          <el-input v-model="keyword" clearable placeholder="姓名 / 身份证号 / 手机号 / 住址" style="width: 300px"
                    data-testid="residents-search" @keyup.enter="search" @clear="search" />
          <el-select v-if="tags.length" v-model="tag" clearable placeholder="标签" style="width: 140px" data-testid="residents-tag-filter"
                     @change="search">
            <el-option v-for="t in tags" :key="t.id" :label="t.name" :value="t.id" />
          </el-select>
          <el-button type="primary" data-testid="residents-search-submit" @click="search">查询</el-button>
          <span class="residents-where muted" data-testid="residents-region">{{ regionName || "全部区域" }}</span>
          <span class="residents-spacer"></span>
          <el-button v-if="canTag" :disabled="!picked.size" data-testid="residents-bulk-tags" @click="openTags">
            批量标签（{{ picked.size }}）</el-button>
          <el-button :loading="exporting" data-testid="residents-export" @click="exportList">导出 Excel</el-button>
        </div>
        <el-tabs v-model="status" class="residents-tabs" data-testid="residents-tabs" @tab-change="search">
          <el-tab-pane name="all">
            <template #label><span data-testid="residents-tab-all">全部 {{ allCount }}</span></template>
          </el-tab-pane>
          <el-tab-pane v-for="[key, label] in CLASSES" :key="key" :name="key">
            <template #label><span :data-testid="'residents-tab-' + key">{{ label }} {{ counts[key] ?? 0 }}</span></template>
          </el-tab-pane>
        </el-tabs>
        <div v-loading="pager.loading" class="el-table el-table--fit el-table--enable-row-hover residents-grid">
          <table class="el-table__body" data-testid="residents-table">
            <thead>
              <tr>
                <th v-if="canTag" class="el-table__cell col-pick"><div class="cell">
                  <el-checkbox :model-value="allPicked" :indeterminate="somePicked" :disabled="!pager.rows.length"
                               data-testid="residents-select-page" @change="pickPage" />
                </div></th>
                <th class="el-table__cell"><div class="cell">姓名</div></th>
                <th class="el-table__cell"><div class="cell">性别 / 年龄</div></th>
                <th class="el-table__cell"><div class="cell">身份证号</div></th>
                <th class="el-table__cell"><div class="cell">手机号</div></th>
                <th class="el-table__cell"><div class="cell">住址</div></th>
                <th class="el-table__cell"><div class="cell">标签</div></th>
                <th class="el-table__cell"><div class="cell">签约状态</div></th>
                <th v-if="hasActions" class="el-table__cell col-actions"><div class="cell">操作</div></th>
              </tr>
            </thead>
            <tbody>
              <tr v-for="row in pager.rows" :key="row.id" class="el-table__row" data-testid="resident-row"
                  :data-resident="row.id">
                <td v-if="canTag" class="el-table__cell col-pick"><div class="cell">
                  <el-checkbox :model-value="picked.has(row.id)" :data-testid="'resident-select-' + row.id"
                               @change="(on) => pick(row.id, on)" />
                </div></td>
                <td class="el-table__cell"><div class="cell" data-testid="resident-name">{{ row.name }}</div></td>
                <td class="el-table__cell"><div class="cell">{{ sexOf(row) }}<template v-if="row.age != null"> · {{ row.age }}岁</template></div></td>
                <td class="el-table__cell"><div class="cell">{{ row.id_number || "—" }}</div></td>
                <td class="el-table__cell"><div class="cell">{{ row.phone || "—" }}</div></td>
                <td class="el-table__cell"><div class="cell residents-address" :title="row.address">{{ row.address || "—" }}</div></td>
                <td class="el-table__cell"><div class="cell residents-tags" :data-testid="'resident-tags-' + row.id">
                  <el-tag v-for="t in row.tags" :key="t.id" size="small" type="info" class="residents-tag">{{ t.name }}</el-tag>
                </div></td>
                <td class="el-table__cell"><div class="cell">
                  <el-tag :type="STATUS_TYPES[row.status] || 'info'" size="small" :data-testid="'resident-status-' + row.id">
                    {{ row.status_label }}</el-tag>
                  <div v-if="row.signing_end" class="residents-end muted">至 {{ day(row.signing_end) }}</div>
                </div></td>
                <td v-if="hasActions" class="el-table__cell col-actions"><div class="cell">
                  <el-button v-if="may.sign(row)" link type="primary" :data-testid="'resident-sign-' + row.id"
                             @click="openTerm('sign', row)">签约</el-button>
                  <el-button v-if="may.renew(row)" link type="primary" :data-testid="'resident-renew-' + row.id"
                             @click="openTerm('renew', row)">续签</el-button>
                  <el-button v-if="may.terminate(row)" link type="danger" :data-testid="'resident-terminate-' + row.id"
                             @click="openReason('terminate', row)">解约</el-button>
                  <el-button v-if="may.refuse(row)" link type="warning" :data-testid="'resident-refuse-' + row.id"
                             @click="openReason('refuse', row)">拒签</el-button>
                  <el-dropdown v-if="may.edit(row) || may.unable(row)" trigger="click" class="residents-more"
                               @command="(c) => (c === 'edit' ? openEdit(row) : openReason('unable', row))">
                    <el-button link type="primary" :data-testid="'resident-more-' + row.id">更多</el-button>
                    <template #dropdown>
                      <el-dropdown-menu>
                        <el-dropdown-item v-if="may.edit(row)" command="edit" :data-testid="'resident-edit-' + row.id">编辑</el-dropdown-item>
                        <el-dropdown-item v-if="may.unable(row)" command="unable" :data-testid="'resident-unable-' + row.id">登记无法签约</el-dropdown-item>
                      </el-dropdown-menu>
                    </template>
                  </el-dropdown>
                </div></td>
              </tr>
              <tr v-if="!pager.rows.length && !pager.loading">
                <td class="el-table__cell residents-empty" :colspan="7 + (canTag ? 1 : 0) + (hasActions ? 1 : 0)" data-testid="residents-empty">暂无居民</td>
              </tr>
            </tbody>
          </table>
        </div>
        <div class="residents-pager">
          <span>共 <b data-testid="residents-total">{{ total }}</b> 人</span>
          <el-select v-model="pageSize" style="width: 110px" data-testid="residents-page-size" @change="search">
            <el-option v-for="n in PAGE_SIZES" :key="n" :label="n + ' 条/页'" :value="n" />
          </el-select>
          <el-button :disabled="pager.index === 0 || pager.loading" data-testid="residents-prev" @click="turn(-1)">上一页</el-button>
          <span data-testid="residents-page-number">第 {{ pager.index + 1 }} / {{ pageCount }} 页</span>
          <el-button :disabled="!pager.next || pager.loading" data-testid="residents-next" @click="turn(1)">下一页</el-button>
        </div>
      </el-card>
    </el-col>
  </el-row>

  <el-dialog v-model="term.open" :title="term.action === 'renew' ? '续签' : '签约'" width="440px" data-testid="residents-term-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="居民">{{ term.row && term.row.name }}</el-form-item>
      <el-form-item v-if="term.action === 'sign'" label="服务包">
        <el-select v-model="term.package_id" style="width: 100%" data-testid="residents-term-package">
          <el-option v-for="p in packages" :key="p.id" :label="p.name" :value="p.id" />
        </el-select>
      </el-form-item>
      <el-form-item label="签约年限">
        <el-input-number v-model="term.term_years" :min="1" :max="MAX_TERM_YEARS" data-testid="residents-term-years" />
        <span class="residents-unit">年</span>
      </el-form-item>
      <el-alert v-if="term.error" :title="term.error" type="error" :closable="false" show-icon data-testid="residents-term-error" />
    </el-form>
    <template #footer>
      <el-button @click="term.open = false">取消</el-button>
      <el-button type="primary" :loading="term.busy" data-testid="residents-term-submit" @click="submitTerm">确定</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="reason.open" :title="REASON_TITLES[reason.action]" width="440px" data-testid="residents-reason-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="居民">{{ reason.row && reason.row.name }}</el-form-item>
      <el-form-item v-if="reason.action === 'unable'" label="情形">
        <el-select v-model="reason.kind" style="width: 100%" data-testid="residents-unable-kind">
          <el-option v-for="k in UNABLE_KINDS" :key="k" :label="k" :value="k" />
        </el-select>
      </el-form-item>
      <el-form-item label="原因" required>
        <el-input v-model="reason.text" type="textarea" :rows="3" maxlength="200" show-word-limit
                  data-testid="residents-reason" />
      </el-form-item>
      <el-alert v-if="reason.error" :title="reason.error" type="error" :closable="false" show-icon data-testid="residents-reason-error" />
    </el-form>
    <template #footer>
      <el-button @click="reason.open = false">取消</el-button>
      <el-button type="primary" :loading="reason.busy" data-testid="residents-reason-submit" @click="submitReason">确定</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="edit.open" title="编辑居民信息" width="480px" data-testid="residents-edit-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="姓名" required><el-input v-model="edit.form.name" maxlength="30" data-testid="residents-edit-name" /></el-form-item>
      <el-form-item label="手机号">
        <el-input v-model="edit.form.phone" maxlength="11" :placeholder="edit.maskedPhone ? '当前 ' + edit.maskedPhone + '，不改请留空' : ''"
                  data-testid="residents-edit-phone" />
      </el-form-item>
      <el-form-item label="户号"><el-input v-model="edit.form.household" maxlength="40" data-testid="residents-edit-household" /></el-form-item>
      <el-form-item label="住址"><el-input v-model="edit.form.address" maxlength="200" data-testid="residents-edit-address" /></el-form-item>
      <el-alert v-if="edit.error" :title="edit.error" type="error" :closable="false" show-icon data-testid="residents-edit-error" />
    </el-form>
    <template #footer>
      <el-button @click="edit.open = false">取消</el-button>
      <el-button type="primary" :loading="edit.busy" data-testid="residents-edit-submit" @click="submitEdit">保存</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="bulk.open" title="批量标签" width="440px" data-testid="residents-tags-dialog">
    <el-form label-width="90px" @submit.prevent>
      <el-form-item label="所选居民">{{ picked.size }} 人</el-form-item>
      <el-form-item label="标签">
        <el-select v-model="bulk.tag" style="width: 100%" data-testid="residents-tags-tag">
          <el-option v-for="t in tags" :key="t.id" :label="t.name" :value="t.id" />
        </el-select>
      </el-form-item>
      <el-form-item label="操作">
        <el-radio-group v-model="bulk.remove" data-testid="residents-tags-mode">
          <el-radio :value="false" data-testid="residents-tags-add">添加</el-radio>
          <el-radio :value="true" data-testid="residents-tags-remove">移除</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-alert v-if="bulk.error" :title="bulk.error" type="error" :closable="false" show-icon />
    </el-form>
    <template #footer>
      <el-button @click="bulk.open = false">取消</el-button>
      <el-button type="primary" :disabled="!bulk.tag" :loading="bulk.busy" data-testid="residents-tags-submit"
                 @click="submitTags">确定</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      linkStylesheet(new URL("./pages.css", import.meta.url));
      const hub = inject("hub");
      const user = computed(() => hub.user || {});
      const role = computed(() => user.value.role || "");
      const myTeam = computed(() => (user.value.scope && user.value.scope.team) || user.value.team_id || "");
      const rootsReady = ref(false);
      const roots = ref([]);
      const region = ref(null);  // the tree node chosen: {code, name}
      const regionName = computed(() => region.value && region.value.name);
      const keyword = ref(hub.route.query.q || "");
      const tag = ref("");
      // ?status= opens a status class (a link from a to-do: 待续签), ?q= a keyword
      const status = ref(CLASSES.some(([k]) => k === hub.route.query.status) ? hub.route.query.status : "all");
      const counts = reactive({});
      const total = ref(0);
      const pageSize = ref(PAGE_SIZES[0]);
      const picked = reactive(new Set());
      const tags = ref([]);
      const packages = ref([]);
      const exporting = ref(false);

      const allCount = computed(() => CLASSES.reduce((n, [key]) => n + (counts[key] || 0), 0));
      const pageCount = computed(() => Math.max(1, Math.ceil(total.value / pageSize.value)));
      const allPicked = computed(() => pager.rows.length > 0 && pager.rows.every((r) => picked.has(r.id)));
      const somePicked = computed(() => !allPicked.value && pager.rows.some((r) => picked.has(r.id)));
      const canSign = computed(() => SIGNING_ROLES.has(role.value) && !!myTeam.value);
      const canTag = computed(() => TAG_ROLES.has(role.value));
      const hasActions = computed(() => canSign.value || EDIT_ROLES.has(role.value));  // a supervisor only looks
      const ours = (row) => !!row.team_id && row.team_id === myTeam.value;
      const may = {
        // a pending application holds the resident for its team too (status 未签约, team_id set): not signable
        sign: (row) => canSign.value && (row.status === "unsigned" || row.status === "refused") && !row.team_id,
        renew: (row) => canSign.value && row.status === "to_renew" && ours(row) && !!row.signing_id,
        terminate: (row) => canSign.value && ["signed", "to_renew"].includes(row.status) && ours(row) && !!row.signing_id,
        refuse: (row) => canSign.value && row.status === "unsigned" && !row.team_id,
        unable: (row) => canSign.value && row.status !== "unable",
        edit: () => EDIT_ROLES.has(role.value),
      };

      function filters() {
        const where = region.value ? { [isVillage(region.value.code) ? "village" : "region"]: region.value.code } : {};
        return { ...where, q: keyword.value.trim(), tag: tag.value,
          status: status.value === "all" ? "" : status.value };
      }
      const { pager, load, first, turn } = cursorPager(
        (cursor) => hub.rest.get(`/api/signing/residents${queryOf({ ...filters(), with_counts: "true",
          limit: pageSize.value, cursor })}`),
        { onAnswer: (answer) => { Object.assign(counts, answer.counts || {}); total.value = answer.total || 0; },
          onError: (message) => hub.notify.error(message) });
      function search() {
        picked.clear();
        return first();
      }
      function pick(id, on) { if (on) picked.add(id); else picked.delete(id); }
      function pickPage(on) { for (const r of pager.rows) pick(r.id, on); }

      // the region tree: the towns of the caller's county (a sysadmin starts from the provinces), villages below
      const treeProps = { label: "name", isLeaf: "leaf" };
      const nodeOf = (r) => ({ code: r.code, name: r.name, leaf: isVillage(r.code) });
      async function loadNode(node, resolve) {
        if (node.level === 0) { resolve(roots.value); return; }
        try {
          resolve((await childRegions(hub, node.data.code)).map(nodeOf));
        } catch (err) {
          hub.notify.error(errorOf(err).message);
          resolve([]);
        }
      }
      function pickRegion(data) {
        region.value = data ? { code: data.code, name: data.name } : null;
        return search();
      }

      // row actions
      const REASON_TITLES = { terminate: "解约", refuse: "记录拒签", unable: "登记无法签约" };
      const term = reactive({ open: false, action: "sign", row: null, package_id: "", term_years: 1, busy: false,
        error: "" });
      const reason = reactive({ open: false, action: "terminate", row: null, text: "", kind: UNABLE_KINDS[0],
        busy: false, error: "" });
      const edit = reactive({ open: false, row: null, form: {}, original: {}, maskedPhone: "", busy: false, error: "" });
      const bulk = reactive({ open: false, tag: "", remove: false, busy: false, error: "" });

      function openTerm(action, row) {
        const standard = packages.value.find((p) => p.standard) || packages.value[0];
        Object.assign(term, { open: true, action, row, error: "", busy: false, package_id: standard ? standard.id : "",
          term_years: Math.min(Math.max((standard && standard.term_years) || 1, 1), MAX_TERM_YEARS) });
      }
      async function act(state, call, done) {
        state.busy = true;
        state.error = "";
        try {
          await call();
          state.open = false;
          hub.notify.success(done);
          await load();
        } catch (err) {
          state.error = errorOf(err).message;
        } finally {
          state.busy = false;
        }
      }
      function submitTerm() {
        const row = term.row;
        if (term.action === "renew") {
          return act(term, () => hub.rest.post(`/api/signing/signings/${row.signing_id}/renew`,
            { term_years: term.term_years }), `已为 ${row.name} 续签`);
        }
        const body = { resident_id: row.id, term_years: term.term_years };
        if (term.package_id) body.package_id = term.package_id;
        return act(term, () => hub.rest.post("/api/signing/signings", body), `已为 ${row.name} 签约`);
      }
      function openReason(action, row) {
        Object.assign(reason, { open: true, action, row, text: "", kind: UNABLE_KINDS[0], error: "", busy: false });
      }
      function submitReason() {
        const row = reason.row;
        const text = reason.text.trim();
        if (!text) { reason.error = "请填写原因"; return undefined; }
        if (reason.action === "terminate") {
          return act(reason, () => hub.rest.post(`/api/signing/signings/${row.signing_id}/terminate`, { reason: text }),
            `已为 ${row.name} 解约`);
        }
        if (reason.action === "refuse") {
          return act(reason, () => hub.rest.post(`/api/signing/residents/${row.id}/refusal`, { reason: text }),
            `已记录 ${row.name} 拒签`);
        }
        return act(reason, () => hub.rest.post("/api/signing/unable-requests",
          { resident_id: row.id, kind: reason.kind, reason: text }), "已提交无法签约申请，等待审核");
      }
      async function openEdit(row) {
        try {
          const found = await hub.rest.get(`/api/signing/residents/${row.id}`);
          const masked = (found.phone || "").includes("*");
          const form = { name: found.name || "", phone: masked ? "" : found.phone || "",
            household: found.household || "", address: found.address || "" };
          Object.assign(edit, { open: true, row, form, original: { ...form }, maskedPhone: masked ? found.phone : "",
            error: "", busy: false });
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        }
      }
      function submitEdit() {
        const body = {};
        for (const [k, v] of Object.entries(edit.form)) {
          const value = v.trim();
          if (value !== edit.original[k] && !(k === "phone" && !value && edit.maskedPhone)) body[k] = value || null;
        }
        if (!body.name && "name" in body) { edit.error = "姓名必填"; return undefined; }
        if (!Object.keys(body).length) { edit.open = false; return undefined; }
        return act(edit, () => hub.rest.patch(`/api/signing/residents/${edit.row.id}`, body), "已保存");
      }
      function openTags() {
        Object.assign(bulk, { open: true, tag: bulk.tag || (tags.value[0] && tags.value[0].id) || "", error: "",
          busy: false });
      }
      async function submitTags() {
        const ids = [...picked];
        const name = (tags.value.find((t) => t.id === bulk.tag) || {}).name || "";
        await act(bulk, () => hub.rest.post(`/api/signing/tags/${bulk.tag}/apply`,
          { resident_ids: ids, remove: bulk.remove }), `${bulk.remove ? "已移除" : "已添加"}标签「${name}」：${ids.length} 人`);
        if (!bulk.open) picked.clear();
      }
      async function exportList() {
        exporting.value = true;
        try {
          await download(hub, `/api/signing/residents/export.xlsx${queryOf(filters())}`, "居民名单.xlsx");
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        } finally {
          exporting.value = false;
        }
      }
      const sexOf = (row) => (row.sex === "male" ? "男" : row.sex === "female" ? "女" : "");

      onMounted(async () => {
        const listed = search();  // the list first: the tree, tags and packages come beside it
        try {
          const county = countyOf(user.value.region || "");
          const [found, tagList, packageList] = await Promise.all([
            childRegions(hub, county),
            canTag.value ? hub.rest.get("/api/signing/tags") : Promise.resolve({ items: [] }),
            canSign.value ? hub.rest.get("/api/signing/packages") : Promise.resolve({ items: [] }),
          ]);
          roots.value = found.map(nodeOf);
          tags.value = itemsOf(tagList);
          packages.value = itemsOf(packageList);
        } catch (err) {
          hub.notify.error(errorOf(err).message);
        }
        rootsReady.value = true;
        await listed;
      });
      return { CLASSES, PAGE_SIZES, STATUS_TYPES, UNABLE_KINDS, MAX_TERM_YEARS, REASON_TITLES, rootsReady, region,
        regionName, keyword, tag, status, pager, counts, total, pageSize, pageCount, picked, tags, packages, exporting,
        allCount, allPicked, somePicked, canTag, hasActions, may, treeProps, loadNode,
        pickRegion, search, turn, pick, pickPage, term, reason, edit, bulk, openTerm, submitTerm, openReason,
        submitReason, openEdit, submitEdit, openTags, submitTags, exportList, sexOf, day };
    },
  },
};
