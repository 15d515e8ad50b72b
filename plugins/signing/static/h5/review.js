// 签约审核 (doctor): the team's applications by state; approve (the term may be changed) or reject with a reason.
import { API, SIGNING_LABELS, SIGNING_TAG_TYPES, day, errorText, useStyles } from "./common.js";

const TABS = [["pending", "待审核"], ["approved", "已通过"], ["rejected", "被拒绝"]];
const MAX_TERM_YEARS = 3;

export default {
  title: "签约审核",
  component: {
    template: `
      <div class="sg-page" data-testid="review-page">
        <van-search v-model="name" placeholder="按姓名查找" data-testid="review-search" @search="load" @clear="load" />
        <van-tabs v-model:active="tab" @change="load" data-testid="review-tabs">
          <van-tab v-for="t in tabs" :key="t[0]" :name="t[0]" :title="t[1]" />
        </van-tabs>
        <van-empty v-if="loaded && !items.length" description="暂无申请" image-size="60" />
        <div v-for="s in items" :key="s.id" class="sg-card" data-testid="review-item">
          <div class="sg-card-head">
            <span class="sg-card-title">{{ s.resident_name }}</span>
            <van-tag :type="tagTypes[s.status] || 'default'" data-testid="review-state">{{ labels[s.status] }}</van-tag>
          </div>
          <div class="sg-card-body">
            <div>{{ s.id_number }}</div>
            <div>{{ s.package_name }} · {{ s.term_years }} 年 · 医生 {{ s.doctor_name }}</div>
            <div>申请于 {{ day(s.created_at) }}<span v-if="s.start"> · 服务期 {{ day(s.start) }} 至 {{ day(s.end) }}</span></div>
            <div v-if="s.reason">原因：{{ s.reason }}</div>
          </div>
          <div v-if="s.status === 'pending'" class="sg-actions">
            <van-button size="small" type="danger" plain data-testid="review-reject" @click="openReject(s)">拒绝</van-button>
            <van-button size="small" type="primary" data-testid="review-approve" @click="openApprove(s)">通过</van-button>
          </div>
        </div>

        <van-dialog v-model:show="approving" title="通过签约申请" show-cancel-button teleport="body"
                    confirm-button-text="通过" :before-close="closeApprove" data-testid="approve-dialog">
          <van-cell title="签约年限" :label="current ? current.resident_name : ''">
            <template #value>
              <van-stepper v-model="termYears" :min="1" :max="maxTerm" integer data-testid="approve-term" />
            </template>
          </van-cell>
        </van-dialog>
        <van-dialog v-model:show="rejecting" title="拒绝签约申请" show-cancel-button teleport="body"
                    confirm-button-text="拒绝" :before-close="closeReject" data-testid="reject-dialog">
          <van-field v-model="reason" type="textarea" rows="3" maxlength="200" show-word-limit autosize
                     placeholder="请填写拒绝原因（必填）" data-testid="reject-reason" />
        </van-dialog>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const tab = Vue.ref("pending"), name = Vue.ref(""), items = Vue.ref([]), loaded = Vue.ref(false);
      const approving = Vue.ref(false), rejecting = Vue.ref(false), current = Vue.ref(null);
      const termYears = Vue.ref(1), reason = Vue.ref("");
      async function load() {
        const query = new URLSearchParams({ status: tab.value, limit: "50" });
        if (name.value.trim()) query.set("name", name.value.trim());
        try { items.value = (await hub.rest.get(`${API}/signings?${query}`)).items; }
        catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      }
      function openApprove(s) { current.value = s; termYears.value = s.term_years || 1; approving.value = true; }
      function openReject(s) { current.value = s; reason.value = ""; rejecting.value = true; }
      async function decide(action, body, done) {
        try {
          await hub.rest.post(`${API}/signings/${current.value.id}/${action}`, body);
          hub.notify.success(done);
          await load();
          return true;
        } catch (e) { hub.notify.error(errorText(e)); return false; }
      }
      async function closeApprove(action) {
        if (action !== "confirm") return true;
        return decide("approve", { term_years: Number(termYears.value) }, "已通过");
      }
      async function closeReject(action) {
        if (action !== "confirm") return true;
        if (!reason.value.trim()) { hub.notify.error("请填写拒绝原因"); return false; }
        return decide("reject", { reason: reason.value.trim() }, "已拒绝");
      }
      Vue.onMounted(load);
      return { tab, name, items, loaded, approving, rejecting, current, termYears, reason, load, openApprove,
               openReject, closeApprove, closeReject, day, tabs: TABS, labels: SIGNING_LABELS,
               tagTypes: SIGNING_TAG_TYPES, maxTerm: MAX_TERM_YEARS };
    },
  },
};
