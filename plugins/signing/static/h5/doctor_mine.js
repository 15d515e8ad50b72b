// 我的家庭医生: the doctors the family is signed with (each member's signing in force), a tap to the detail page.
import { API, day, errorText, useStyles } from "./common.js";

export default {
  title: "我的家庭医生",
  component: {
    template: `
      <div class="sg-page" data-testid="my-doctors">
        <van-empty v-if="loaded && !doctors.length" description="家庭成员尚未签约家庭医生">
          <van-button round type="primary" data-testid="my-doctors-apply" @click="go('/signing/apply')">去签约</van-button>
        </van-empty>
        <div v-for="d in doctors" :key="d.id" class="sg-card" data-testid="my-doctor" @click="open(d)">
          <div class="sg-doctor-head">
            <div class="sg-avatar">{{ d.name.slice(0, 1) }}</div>
            <div style="flex: 1">
              <div class="sg-doctor-name">{{ d.name }}</div>
              <div class="sg-muted">{{ d.team_name }}</div>
              <div class="sg-muted">签约成员：{{ d.members.join('、') }}</div>
            </div>
            <van-icon name="arrow" color="#969799" />
          </div>
        </div>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const doctors = Vue.ref([]), loaded = Vue.ref(false);
      Vue.onMounted(async () => {
        try {
          const family = (await hub.rest.get(`${API}/family`)).items;
          const byDoctor = new Map();
          for (const m of family) {
            const s = m.signing;
            if (!s || s.status !== "active") continue;
            const entry = byDoctor.get(s.doctor_id) || { id: s.doctor_id, name: s.doctor_name || "", team_id: s.team_id,
                                                         team_name: s.team_name, end: s.end, members: [] };
            entry.members.push(m.name);
            byDoctor.set(s.doctor_id, entry);
          }
          doctors.value = [...byDoctor.values()];
        } catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      });
      return { doctors, loaded, day, go: hub.go, open: (d) => hub.go("/doctor/detail", { id: d.id }) };
    },
  },
};
