// A family doctor's detail: profile, team (specialty, contact, members) and institution; a consultation from here.
import { API, errorText, useStyles } from "./common.js";

export default {
  title: "医生详情",
  component: {
    template: `
      <div class="sg-page" data-testid="doctor-detail">
        <template v-if="doctor">
          <div class="sg-doctor-head">
            <div class="sg-avatar">{{ doctor.name.slice(0, 1) }}</div>
            <div>
              <div class="sg-doctor-name" data-testid="doctor-detail-name">{{ doctor.name }}</div>
              <div class="sg-muted">{{ [doctor.title, doctor.work_type].filter(Boolean).join(' · ') }}</div>
            </div>
          </div>
          <van-cell-group inset title="医生简介">
            <div class="sg-profile">{{ doctor.profile || '暂无简介' }}</div>
          </van-cell-group>
          <van-cell-group v-if="team" inset title="所属团队">
            <van-cell title="团队" :value="team.name" />
            <van-cell v-if="team.specialty" title="擅长" :label="team.specialty" />
            <van-cell v-if="team.contact" title="团队电话" :value="team.contact" />
            <van-cell title="团队成员" :label="team.members.map((m) => m.name + (m.work_type ? '（' + m.work_type + '）' : '')).join('、')" />
          </van-cell-group>
          <van-cell-group v-if="institution" inset title="所属机构">
            <van-cell title="机构" :value="institution.name" />
            <van-cell v-if="institution.address" title="地址" :label="institution.address" />
            <van-cell v-if="institution.phone" title="电话" :value="institution.phone" />
          </van-cell-group>
          <div class="sg-submit">
            <van-button block round type="primary" icon="chat-o" data-testid="doctor-detail-consult"
                        @click="go('/consult')">在线咨询</van-button>
          </div>
        </template>
        <van-loading v-else-if="!failed" class="sg-submit" vertical>加载中…</van-loading>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const doctor = Vue.ref(null), team = Vue.ref(null), institution = Vue.ref(null), failed = Vue.ref(false);
      Vue.onMounted(async () => {
        try {
          const found = await hub.rest.get(`${API}/doctors/${encodeURIComponent(hub.route.query.id || "")}`);
          doctor.value = found;
          if (found.team) team.value = await hub.rest.get(`${API}/teams/${found.team.id}`);
          const institutionId = found.institution_id || (found.team && found.team.institution_id);
          if (institutionId) institution.value = await hub.rest.get(`${API}/institutions/${institutionId}`);
        } catch (e) { failed.value = true; hub.notify.error(errorText(e)); }
      });
      return { doctor, team, institution, failed, go: hub.go };
    },
  },
};
