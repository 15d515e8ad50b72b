// 签约管理 (doctor): the team's signings by state, terminate (解约, with a reason); the residents 待续签, whose
// signing is due, with 续签.
import { API, SIGNING_LABELS, SIGNING_TAG_TYPES, day, errorText, useStyles } from "./common.js";

const TABS = [["active", "已签约"], ["to_renew", "待续签"], ["terminated", "已解约"], ["expired", "已到期"]];

export default {
  title: "签约管理",
  component: {
    template: `
      <div class="sg-page" data-testid="signings-page">
        <van-search v-model="name" placeholder="按姓名查找" data-testid="signings-search" @search="load" @clear="load" />
        <van-tabs v-model:active="tab" @change="load" data-testid="signings-tabs">
          <van-tab v-for="t in tabs" :key="t[0]" :name="t[0]" :title="t[1]" />
        </van-tabs>
        <van-empty v-if="loaded && !items.length" description="暂无记录" image-size="60" />
        <div v-for="s in items" :key="s.key" class="sg-card" data-testid="signing-item">
          <div class="sg-card-head">
            <span class="sg-card-title">{{ s.name }}</span>
            <van-tag :type="s.tagType">{{ s.label }}</van-tag>
          </div>
          <div class="sg-card-body">
            <div>{{ s.id_number }}</div>
            <div v-if="s.line">{{ s.line }}</div>
            <div v-if="s.reason">原因：{{ s.reason }}</div>
          </div>
          <div v-if="s.signing_id && (s.status === 'active' || s.status === 'to_renew')" class="sg-actions">
            <van-button size="small" type="danger" plain data-testid="signing-terminate" @click="openTerminate(s)">解约</van-button>
            <van-button v-if="s.status === 'to_renew'" size="small" type="primary" data-testid="signing-renew"
                        @click="renew(s)">续签</van-button>
          </div>
        </div>
        <div v-if="cursor" class="sg-submit"><van-button block plain data-testid="signings-more" @click="more">加载更多</van-button></div>
        <van-dialog v-model:show="terminating" title="解约" show-cancel-button teleport="body" confirm-button-text="解约"
                    :before-close="closeTerminate" data-testid="terminate-dialog">
          <van-field v-model="reason" type="textarea" rows="3" maxlength="200" placeholder="请填写解约原因（必填）"
                     data-testid="terminate-reason" />
        </van-dialog>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const initial = (hub.route.query && hub.route.query.status) || "active";
      const tab = Vue.ref(TABS.some((t) => t[0] === initial) ? initial : "active");
      const name = Vue.ref(""), items = Vue.ref([]), cursor = Vue.ref(null), loaded = Vue.ref(false);
      const terminating = Vue.ref(false), reason = Vue.ref(""), current = Vue.ref(null);
      const fromSigning = (s) => ({ key: s.id, signing_id: s.id, name: s.resident_name, id_number: s.id_number,
        status: s.status, label: SIGNING_LABELS[s.status], tagType: SIGNING_TAG_TYPES[s.status] || "default",
        reason: s.reason, line: s.start ? `${s.doctor_name} · 服务期 ${day(s.start)} 至 ${day(s.end)}` : s.doctor_name });
      const fromResident = (r) => ({ key: r.id, signing_id: r.signing_id, name: r.name, id_number: r.id_number,
        status: "to_renew", label: "待续签", tagType: "warning", line: `到期 ${day(r.signing_end)}` });
      async function fetchPage(after) {
        const query = new URLSearchParams({ limit: "30" });
        if (after) query.set("cursor", after);
        if (name.value.trim()) query.set("name", name.value.trim());
        try {
          let reply;
          if (tab.value === "to_renew") {
            query.set("status", "to_renew");
            reply = await hub.rest.get(`${API}/residents?${query}`);
            items.value = [...(after ? items.value : []), ...reply.items.map(fromResident)];
          } else {
            query.set("status", tab.value);
            reply = await hub.rest.get(`${API}/signings?${query}`);
            items.value = [...(after ? items.value : []), ...reply.items.map(fromSigning)];
          }
          cursor.value = reply.next_cursor;
        } catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      }
      const load = () => fetchPage(null);
      async function renew(s) {
        try {
          const renewed = await hub.rest.post(`${API}/signings/${s.signing_id}/renew`, {});
          hub.notify.success(`已续签至 ${day(renewed.end)}`);
          await load();
        } catch (e) { hub.notify.error(errorText(e)); }
      }
      function openTerminate(s) { current.value = s; reason.value = ""; terminating.value = true; }
      async function closeTerminate(action) {
        if (action !== "confirm") return true;
        if (!reason.value.trim()) { hub.notify.error("请填写解约原因"); return false; }
        try {
          await hub.rest.post(`${API}/signings/${current.value.signing_id}/terminate`, { reason: reason.value.trim() });
          hub.notify.success("已解约");
          await load();
          return true;
        } catch (e) { hub.notify.error(errorText(e)); return false; }
      }
      Vue.onMounted(load);
      return { tab, name, items, cursor, loaded, terminating, reason, load, renew, openTerminate, closeTerminate,
               more: () => fetchPage(cursor.value), tabs: TABS };
    },
  },
};
