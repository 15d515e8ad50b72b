// 首页: one page for both roles. A resident sees the family's signing state, their family doctor and shortcuts;
// a doctor their signing progress (by state) and the to-do list (applications waiting, residents 待续签).
import { API, SIGNING_LABELS, STATUS_LABELS, STATUS_TAG_TYPES, day, errorText, useStyles } from "./common.js";

const ResidentHome = {
  template: `
    <div class="sg-home" data-testid="resident-home">
      <van-cell-group inset title="我的签约">
        <van-empty v-if="loaded && !members.length" description="还没有家庭成员，先去添加吧" image-size="60" />
        <van-cell v-for="m in members" :key="m.id" :title="m.name" :label="line(m)" data-testid="home-member"
                  title-style="flex: 3"
                  is-link @click="go('/signing/apply')">
          <template #value>
            <van-tag :type="tagType(m)" data-testid="home-member-state">{{ state(m) }}</van-tag>
          </template>
        </van-cell>
      </van-cell-group>
      <van-cell-group inset title="我的家庭医生">
        <van-cell v-if="doctor" :title="doctor.name" :label="doctor.team ? doctor.team.name : ''" is-link
                  data-testid="home-doctor" @click="go('/doctor/detail', { id: doctor.id })">
          <template #value><span>{{ doctor.title || doctor.work_type }}</span></template>
        </van-cell>
        <van-cell v-else-if="loaded" title="尚未签约家庭医生" label="选择机构、团队和医生，在线申请签约" is-link
                  data-testid="home-no-doctor" @click="go('/signing/apply')" />
      </van-cell-group>
      <van-grid :column-num="4" class="sg-shortcuts" :border="false">
        <van-grid-item icon="records-o" text="移动签约" data-testid="shortcut-apply" @click="go('/signing/apply')" />
        <van-grid-item icon="friends-o" text="家庭成员" data-testid="shortcut-family" @click="go('/family')" />
        <van-grid-item icon="manager-o" text="家庭医生" data-testid="shortcut-doctor" @click="go('/doctor/mine')" />
        <van-grid-item icon="chat-o" text="在线咨询" data-testid="shortcut-consult" @click="go('/consult')" />
      </van-grid>
    </div>`,
  setup() {
    const hub = Vue.inject("hub");
    const members = Vue.ref([]);
    const doctor = Vue.ref(null);
    const loaded = Vue.ref(false);
    function state(m) {
      return m.signing && m.signing.status === "pending" ? "待审核" : (STATUS_LABELS[m.status] || m.status_label);
    }
    function tagType(m) {
      return m.signing && m.signing.status === "pending" ? "warning" : (STATUS_TAG_TYPES[m.status] || "default");
    }
    function line(m) {
      const s = m.signing;
      if (!s) return m.relation || "";
      return `${m.relation || ""} · ${s.doctor_name || ""}${s.status === "active" ? ` · 至 ${day(s.end)}` : ""}`;
    }
    Vue.onMounted(async () => {
      try {
        members.value = (await hub.rest.get(`${API}/family`)).items;
        const own = members.value.find((m) => m.relation === "本人" && m.signing && m.signing.status === "active")
          || members.value.find((m) => m.signing && m.signing.status === "active");
        if (own) doctor.value = await hub.rest.get(`${API}/doctors/${own.signing.doctor_id}`);
      } catch (e) { hub.notify.error(errorText(e)); }
      loaded.value = true;
    });
    return { members, doctor, loaded, state, tagType, line, go: hub.go };
  },
};

const PROGRESS = ["active", "pending", "rejected", "terminated", "expired", "refused"];

const DoctorHome = {
  template: `
    <div class="sg-home" data-testid="doctor-home">
      <van-cell-group inset title="签约进度">
        <van-grid :column-num="3" :border="false">
          <van-grid-item v-for="s in progress" :key="s" :data-testid="'progress-' + s">
            <div class="sg-figure" :data-testid="'progress-count-' + s">{{ counts[s] ?? '—' }}</div>
            <div class="sg-figure-label">{{ labels[s] }}</div>
          </van-grid-item>
        </van-grid>
      </van-cell-group>
      <van-cell-group inset title="待办事项">
        <van-cell title="待审核的签约申请" is-link :value="pending.count" data-testid="todo-review"
                  @click="go('/doctor/review')" />
        <van-cell v-for="s in pending.items" :key="s.id" :title="s.resident_name" :label="'申请于 ' + day(s.created_at)"
                  class="sg-sub" data-testid="todo-review-item" @click="go('/doctor/review')" />
        <van-cell title="待续签的居民" is-link :value="renew.count" data-testid="todo-renew"
                  @click="go('/doctor/signings', { status: 'to_renew' })" />
        <van-cell v-for="r in renew.items" :key="r.id" :title="r.name" :label="'到期 ' + day(r.signing_end)"
                  class="sg-sub" data-testid="todo-renew-item" @click="go('/doctor/signings', { status: 'to_renew' })" />
      </van-cell-group>
      <van-grid :column-num="4" class="sg-shortcuts" :border="false">
        <van-grid-item icon="passed" text="签约审核" data-testid="shortcut-review" @click="go('/doctor/review')" />
        <van-grid-item icon="edit" text="录入签约" data-testid="shortcut-sign" @click="go('/doctor/sign')" />
        <van-grid-item icon="cluster-o" text="花名册签约" data-testid="shortcut-pick" @click="go('/doctor/pick')" />
        <van-grid-item icon="orders-o" text="签约管理" data-testid="shortcut-signings" @click="go('/doctor/signings')" />
      </van-grid>
    </div>`,
  setup() {
    const hub = Vue.inject("hub");
    const counts = Vue.ref({});
    const pending = Vue.ref({ count: "", items: [] });
    const renew = Vue.ref({ count: "", items: [] });
    const countOf = (reply) => `${reply.items.length}${reply.next_cursor ? "+" : ""}`;
    Vue.onMounted(async () => {
      try {
        const [progress, waiting, due] = await Promise.all([
          hub.rest.get(`${API}/signings/progress`),
          hub.rest.get(`${API}/signings?status=pending&limit=50`),
          hub.rest.get(`${API}/residents?status=to_renew&limit=50`)]);
        counts.value = progress.counts;
        pending.value = { count: countOf(waiting), items: waiting.items.slice(0, 3) };
        renew.value = { count: countOf(due), items: due.items.slice(0, 3) };
      } catch (e) { hub.notify.error(errorText(e)); }
    });
    return { counts, pending, renew, progress: PROGRESS, labels: SIGNING_LABELS, day, go: hub.go };
  },
};

export default {
  title: "首页",
  component: {
    components: { ResidentHome, DoctorHome },
    template: `<resident-home v-if="role === 'resident'" /><doctor-home v-else />`,
    setup() {
      const hub = Vue.inject("hub");
      useStyles();
      return { role: hub.user.role };
    },
  },
};
