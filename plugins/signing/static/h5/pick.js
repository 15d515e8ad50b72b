// 花名册签约 (doctor): pick residents from the roster — a village, then its households and their members — tick
// them and sign them at once; each one not signed is listed with the reason.
import { API, STATUS_TAG_TYPES, VillagePicker, errorText, useStyles } from "./common.js";

const SIGNABLE = ["unsigned", "refused"];

export default {
  title: "花名册签约",
  component: {
    components: { VillagePicker },
    template: `
      <div class="sg-page" data-testid="pick-page">
        <van-cell-group inset>
          <village-picker v-model="village" :root="root" testid="pick-village" />
        </van-cell-group>
        <van-empty v-if="village && loaded && !households.length" description="该村暂无居民" image-size="60" />
        <van-checkbox-group v-model="ticked">
          <template v-for="h in households" :key="h.household">
            <div class="sg-household">户号 {{ h.household || '未分户' }}</div>
            <van-cell-group inset>
              <van-cell v-for="r in h.members" :key="r.id" :title="r.name"
                        :label="[r.relation, r.age !== null ? r.age + ' 岁' : '', r.id_number].filter(Boolean).join(' · ')"
                        data-testid="pick-resident" clickable @click="toggle(r)">
                <template #icon>
                  <van-checkbox :name="r.id" :disabled="!signable(r)" shape="square" style="margin-right: 10px"
                                data-testid="pick-tick" @click.stop />
                </template>
                <template #value><van-tag :type="tagTypes[r.status] || 'default'">{{ r.status_label }}</van-tag></template>
              </van-cell>
            </van-cell-group>
          </template>
        </van-checkbox-group>
        <div v-if="cursor" class="sg-submit">
          <van-button block plain data-testid="pick-more" @click="more">加载更多</van-button>
        </div>
        <van-cell-group v-if="failed.length" inset title="未能签约" data-testid="pick-failed">
          <van-cell v-for="f in failed" :key="f.resident_id" :title="nameOf(f.resident_id)" :label="f.message" />
        </van-cell-group>
        <div v-if="households.length" class="sg-sticky-bar">
          <van-button block round type="primary" :disabled="!ticked.length" :loading="busy" data-testid="pick-submit"
                      @click="submit">签约所选（{{ ticked.length }} 人）</van-button>
        </div>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const village = Vue.ref(""), households = Vue.ref([]), ticked = Vue.ref([]), cursor = Vue.ref(null);
      const loaded = Vue.ref(false), busy = Vue.ref(false), failed = Vue.ref([]);
      const root = "me";
      const names = new Map();
      const signable = (r) => SIGNABLE.includes(r.status);
      const nameOf = (id) => names.get(id) || id;
      function add(groups) {
        for (const g of groups) {
          for (const r of g.members) names.set(r.id, r.name);
          const last = households.value[households.value.length - 1];
          if (last && last.household === g.household) last.members.push(...g.members);
          else households.value.push(g);
        }
      }
      async function fetchPage(after) {
        const query = new URLSearchParams({ village: village.value, limit: "50" });
        if (after) query.set("cursor", after);
        try {
          const reply = await hub.rest.get(`${API}/households?${query}`);
          add(reply.items);
          cursor.value = reply.next_cursor;
        } catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      }
      async function reload() {
        households.value = []; ticked.value = []; cursor.value = null; loaded.value = false;
        if (village.value) await fetchPage(null);
      }
      Vue.watch(village, () => { failed.value = []; reload(); });
      function toggle(r) {
        if (!signable(r)) return;
        ticked.value = ticked.value.includes(r.id) ? ticked.value.filter((x) => x !== r.id) : [...ticked.value, r.id];
      }
      async function submit() {
        busy.value = true;
        try {
          const reply = await hub.rest.post(`${API}/signings/batch`, { resident_ids: ticked.value });
          failed.value = reply.failed;
          if (reply.signed.length) hub.notify.success(`已签约 ${reply.signed.length} 人`);
          if (reply.failed.length) hub.notify.error(`${reply.failed.length} 人未能签约`);
          await reload();
        } catch (e) { hub.notify.error(errorText(e)); }
        busy.value = false;
      }
      return { village, households, ticked, cursor, loaded, busy, failed, root, signable, nameOf, toggle, submit,
               more: () => fetchPage(cursor.value), tagTypes: STATUS_TAG_TYPES };
    },
  },
};
