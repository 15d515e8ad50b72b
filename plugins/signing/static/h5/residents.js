// 居民 (doctor): the residents in scope by status class (已签约 / 待续签 / 未签约 / 拒签 / 无法签约) with a keyword search
// over name and address; a tap opens the resident with their tags, which the doctor may set.
import { API, STATUS_LABELS, STATUS_TAG_TYPES, day, errorText, useStyles } from "./common.js";

const CLASSES = [["", "全部"], ["signed", "已签约"], ["to_renew", "待续签"], ["unsigned", "未签约"], ["refused", "拒签"],
                 ["unable", "无法签约"]];

export default {
  title: "居民",
  component: {
    template: `
      <div class="sg-page" data-testid="residents-page">
        <van-search v-model="q" placeholder="姓名、住址，或完整身份证号 / 手机号" data-testid="residents-search"
                    @search="load" @clear="load" />
        <van-tabs v-model:active="status" @change="load" shrink data-testid="residents-tabs">
          <van-tab v-for="c in classes" :key="c[0]" :name="c[0]" :title="c[1]" />
        </van-tabs>
        <van-empty v-if="loaded && !items.length" description="暂无居民" image-size="60" />
        <van-cell-group inset style="margin-top: 12px">
          <van-cell v-for="r in items" :key="r.id" :title="r.name" is-link data-testid="resident-item" @click="open(r)">
            <template #label>
              <div>{{ [r.age !== null ? r.age + ' 岁' : '', r.address].filter(Boolean).join(' · ') }}</div>
              <div class="sg-tags"><van-tag v-for="t in r.tags" :key="t.id" plain type="primary">{{ t.name }}</van-tag></div>
            </template>
            <template #value><van-tag :type="tagTypes[r.status] || 'default'" data-testid="resident-status">{{ r.status_label }}</van-tag></template>
          </van-cell>
        </van-cell-group>
        <div v-if="cursor" class="sg-submit"><van-button block plain data-testid="residents-more" @click="more">加载更多</van-button></div>

        <van-popup v-model:show="showing" round position="bottom" teleport="body" closeable :style="{ maxHeight: '85%' }"
                   data-testid="resident-detail">
          <template v-if="current">
            <div class="sg-card-head sg-popup-head"><span class="sg-card-title">{{ current.name }}</span>
              <van-tag :type="tagTypes[current.status] || 'default'">{{ current.status_label }}</van-tag></div>
            <van-cell-group>
              <van-cell title="身份证号" :value="current.id_number" />
              <van-cell title="手机号" :value="current.phone || '—'" />
              <van-cell title="年龄" :value="current.age !== null ? current.age + ' 岁' : '—'" />
              <van-cell title="住址" :label="current.address || '—'" />
              <van-cell title="重点人群" :label="current.key_populations.join('、') || '—'" />
              <van-cell v-if="current.signing_end" title="签约到期" :value="day(current.signing_end)" />
            </van-cell-group>
            <van-cell-group title="标签">
              <van-checkbox-group v-model="chosen" direction="horizontal" style="padding: 8px 16px" data-testid="resident-tags">
                <van-checkbox v-for="t in tags" :key="t.id" :name="t.id" shape="square" style="margin: 4px 8px 4px 0"
                              data-testid="resident-tag">{{ t.name }}</van-checkbox>
              </van-checkbox-group>
            </van-cell-group>
            <div class="sg-submit">
              <van-button block round type="primary" :loading="busy" data-testid="resident-tags-save" @click="saveTags">保存标签</van-button>
            </div>
          </template>
        </van-popup>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const q = Vue.ref(""), status = Vue.ref(""), items = Vue.ref([]), cursor = Vue.ref(null), loaded = Vue.ref(false);
      const showing = Vue.ref(false), current = Vue.ref(null), tags = Vue.ref([]), chosen = Vue.ref([]);
      const busy = Vue.ref(false);
      async function fetchPage(after) {
        const query = new URLSearchParams({ limit: "30" });
        if (status.value) query.set("status", status.value);
        if (q.value.trim()) query.set("q", q.value.trim());
        if (after) query.set("cursor", after);
        try {
          const reply = await hub.rest.get(`${API}/residents?${query}`);
          items.value = [...(after ? items.value : []), ...reply.items];
          cursor.value = reply.next_cursor;
        } catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      }
      const load = () => fetchPage(null);
      async function open(r) {
        current.value = r; chosen.value = r.tags.map((t) => t.id); showing.value = true;
        try {
          if (!tags.value.length) tags.value = (await hub.rest.get(`${API}/tags`)).items;
          const whole = await hub.rest.get(`${API}/residents/${r.id}`);
          current.value = whole;
          chosen.value = whole.tags.map((t) => t.id);
        } catch (e) { hub.notify.error(errorText(e)); }
      }
      async function saveTags() {
        busy.value = true;
        try {
          const updated = await hub.rest.put(`${API}/residents/${current.value.id}/tags`, { tags: chosen.value });
          items.value = items.value.map((r) => (r.id === updated.id ? { ...r, tags: updated.tags } : r));
          hub.notify.success("标签已保存");
          showing.value = false;
        } catch (e) { hub.notify.error(errorText(e)); }
        busy.value = false;
      }
      Vue.onMounted(load);
      return { q, status, items, cursor, loaded, showing, current, tags, chosen, busy, load, open, saveTags, day,
               more: () => fetchPage(cursor.value), classes: CLASSES, tagTypes: STATUS_TAG_TYPES, labels: STATUS_LABELS };
    },
  },
};
