// 移动签约: choose an institution, a team and a doctor (with their profile, team and institution), apply for
// oneself or a family member; see each application's state, cancel a pending one, renew a signing when due.
import { API, ChoicePopup, SIGNING_LABELS, SIGNING_TAG_TYPES, day, errorText, useStyles } from "./common.js";

const DOCTOR_ROLES = ["doctor", "team_leader"];

export default {
  title: "移动签约",
  component: {
    components: { ChoicePopup },
    template: `
      <div class="sg-page" data-testid="apply-page">
        <div class="van-cell-group__title van-cell-group__title--inset">我的申请</div>
        <van-empty v-if="loaded && !signings.length" description="还没有签约申请" image-size="60" />
        <div v-for="s in signings" :key="s.id" class="sg-card" data-testid="application">
          <div class="sg-card-head">
            <span class="sg-card-title">{{ s.resident_name }}</span>
            <van-tag :type="tagTypes[s.status] || 'default'" data-testid="application-state">{{ stateOf(s) }}</van-tag>
          </div>
          <div class="sg-card-body">
            <div>{{ s.team_name }} · {{ s.doctor_name }}</div>
            <div v-if="s.status === 'active'">服务期 {{ day(s.start) }} 至 {{ day(s.end) }}（{{ s.term_years }} 年）</div>
            <div v-else>申请于 {{ day(s.created_at) }}</div>
            <div v-if="s.reason" data-testid="application-reason">原因：{{ s.reason }}</div>
          </div>
          <div v-if="s.status === 'pending' || renewable(s)" class="sg-actions">
            <van-button v-if="s.status === 'pending'" size="small" plain type="danger" data-testid="application-cancel"
                        @click="cancel(s)">取消申请</van-button>
            <van-button v-if="renewable(s)" size="small" type="primary" data-testid="application-renew"
                        @click="renew(s)">续签</van-button>
          </div>
        </div>

        <van-cell-group inset title="新的申请">
          <van-field :model-value="member ? member.name + '（' + (member.relation || '') + '）' : ''" label="签约人"
                     readonly is-link placeholder="选择本人或家庭成员" data-testid="apply-member" @click="sheets.member = true" />
          <van-field :model-value="institution ? institution.name : ''" label="签约机构" readonly is-link
                     placeholder="选择卫生院 / 社区卫生服务中心" data-testid="apply-institution" @click="openInstitutions" />
          <van-field :model-value="team ? team.name : ''" label="签约团队" readonly is-link
                     :disabled="!institution" placeholder="先选择机构" data-testid="apply-team" @click="openTeams" />
          <van-field :model-value="doctor ? doctor.name : ''" label="签约医生" readonly is-link
                     :disabled="!team" placeholder="先选择团队" data-testid="apply-doctor" @click="openDoctors" />
        </van-cell-group>
        <div v-if="doctor" class="sg-card" data-testid="apply-doctor-profile">
          <div class="sg-doctor-head">
            <div class="sg-avatar">{{ doctor.name.slice(0, 1) }}</div>
            <div>
              <div class="sg-doctor-name">{{ doctor.name }}</div>
              <div class="sg-muted">{{ [doctor.title, doctor.work_type].filter(Boolean).join(' · ') }}</div>
            </div>
          </div>
          <div class="sg-card-body">
            <div v-if="doctor.profile">简介：{{ doctor.profile }}</div>
            <div>团队：{{ team.name }}<span v-if="team.specialty">（{{ team.specialty }}）</span></div>
            <div v-if="team.contact">团队电话：{{ team.contact }}</div>
            <div>机构：{{ institution.name }}<span v-if="institution.phone"> · {{ institution.phone }}</span></div>
          </div>
        </div>
        <div class="sg-submit">
          <van-button block round type="primary" :disabled="!(member && doctor)" :loading="busy"
                      data-testid="apply-submit" @click="submit">提交签约申请</van-button>
        </div>

        <choice-popup v-model:show="sheets.member" title="选择签约人" :options="memberOptions" testid="choose-member"
                      @pick="pickMember" />
        <choice-popup v-model:show="sheets.institution" title="选择签约机构" :options="institutionOptions"
                      testid="choose-institution" @pick="pickInstitution" />
        <choice-popup v-model:show="sheets.team" title="选择签约团队" :options="teamOptions" testid="choose-team"
                      @pick="pickTeam" />
        <choice-popup v-model:show="sheets.doctor" title="选择签约医生" :options="doctorOptions" testid="choose-doctor"
                      @pick="pickDoctor" />
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const signings = Vue.ref([]);
      const members = Vue.ref([]);
      const loaded = Vue.ref(false);
      const busy = Vue.ref(false);
      const member = Vue.ref(null), institution = Vue.ref(null), team = Vue.ref(null), doctor = Vue.ref(null);
      const institutions = Vue.ref([]), teams = Vue.ref([]), doctors = Vue.ref([]);
      const sheets = Vue.reactive({ member: false, institution: false, team: false, doctor: false });
      const statusOf = (residentId) => (members.value.find((m) => m.id === residentId) || {}).status;

      const memberOptions = Vue.computed(() => members.value.filter((m) => !m.signing && m.status !== "unable")
        .map((m) => ({ value: m.id, title: m.name, label: `${m.relation || ""} · ${m.status_label}`, m })));
      const institutionOptions = Vue.computed(() => institutions.value.map((i) => ({
        value: i.id, title: i.name, label: [i.kind, i.address].filter(Boolean).join(" · "), i })));
      const teamOptions = Vue.computed(() => teams.value.map((t) => ({
        value: t.id, title: t.name, label: t.specialty || t.contact || "", t })));
      const doctorOptions = Vue.computed(() => doctors.value.map((d) => ({
        value: d.id, title: d.name, label: [d.title, d.work_type, d.profile].filter(Boolean).join(" · "), d })));

      function stateOf(s) { return SIGNING_LABELS[s.status] || s.status; }
      function renewable(s) { return s.status === "active" && statusOf(s.resident_id) === "to_renew"; }

      async function load() {
        try {
          const [mine, family] = await Promise.all([hub.rest.get(`${API}/signings?limit=50`),
                                                    hub.rest.get(`${API}/family`)]);
          signings.value = mine.items;
          members.value = family.items;
          const wanted = hub.route.query && hub.route.query.member;
          if (wanted && !member.value) member.value = members.value.find((m) => m.id === wanted && !m.signing) || null;
        } catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      }
      async function openInstitutions() {
        sheets.institution = true;
        if (!institutions.value.length) {
          try { institutions.value = (await hub.rest.get(`${API}/institutions?limit=200`)).items; }
          catch (e) { hub.notify.error(errorText(e)); }
        }
      }
      async function openTeams() {
        if (!institution.value) return;
        sheets.team = true;
      }
      async function openDoctors() {
        if (!team.value) return;
        sheets.doctor = true;
      }
      function pickMember(o) { member.value = o.m; }
      async function pickInstitution(o) {
        institution.value = o.i; team.value = null; doctor.value = null; teams.value = [];
        try { teams.value = (await hub.rest.get(`${API}/teams?institution_id=${o.value}&limit=200`)).items; }
        catch (e) { hub.notify.error(errorText(e)); }
      }
      async function pickTeam(o) {
        doctor.value = null; doctors.value = [];
        try {
          team.value = await hub.rest.get(`${API}/teams/${o.value}`);
          doctors.value = team.value.members.filter((m) => DOCTOR_ROLES.includes(m.role));
        } catch (e) { hub.notify.error(errorText(e)); }
      }
      function pickDoctor(o) { doctor.value = o.d; }
      async function submit() {
        busy.value = true;
        try {
          await hub.rest.post(`${API}/applications`, { resident_id: member.value.id, team_id: team.value.id,
                                                        doctor_id: doctor.value.id });
          hub.notify.success("已提交申请");
          member.value = null; doctor.value = null;
          await load();
        } catch (e) { hub.notify.error(errorText(e)); }
        busy.value = false;
      }
      async function act(s, action, done) {
        try {
          await hub.rest.post(`${API}/signings/${s.id}/${action}`, {});
          hub.notify.success(done);
          await load();
        } catch (e) { hub.notify.error(errorText(e)); }
      }
      async function cancel(s) {
        try { await vant.showConfirmDialog({ title: "取消申请", message: `确定取消${s.resident_name}的签约申请吗？` }); }
        catch (e) { return; }
        await act(s, "cancel", "申请已取消");
      }
      const renew = (s) => act(s, "renew", "已续签");

      Vue.onMounted(load);
      const onNotice = (notice) => { if (notice && notice.kind === "signing") load(); };
      Vue.onMounted(() => hub.socket && hub.socket.on && hub.socket.on("notice", onNotice));
      Vue.onUnmounted(() => hub.socket && hub.socket.off && hub.socket.off("notice", onNotice));
      return { signings, loaded, busy, member, institution, team, doctor, sheets, memberOptions,
               institutionOptions, teamOptions, doctorOptions, stateOf, renewable, openInstitutions, openTeams,
               openDoctors, pickMember, pickInstitution, pickTeam, pickDoctor, submit, cancel, renew, day,
               tagTypes: SIGNING_TAG_TYPES };
    },
  },
};
