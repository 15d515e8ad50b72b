// Shared by the signing plugin's H5 pages: labels, the REST prefix, a village picker.
export const API = "/api/signing";

export const SIGNING_LABELS = {
  pending: "待审核", active: "已签约", rejected: "被拒绝", cancelled: "已取消", terminated: "已解约",
  expired: "已到期", refused: "拒签",
};
export const SIGNING_TAG_TYPES = { pending: "warning", active: "success", rejected: "danger" };
export const STATUS_LABELS = { signed: "已签约", unsigned: "未签约", to_renew: "待续签", refused: "拒签", unable: "无法签约" };
export const STATUS_TAG_TYPES = { signed: "success", to_renew: "warning", refused: "danger", unable: "default", unsigned: "primary" };
export const RELATIONS = ["本人", "配偶", "子女", "父母", "祖父母", "孙子女", "兄弟姐妹", "其他"];
export const KEY_POPULATIONS = ["老年人", "孕产妇", "0-6岁儿童", "残疾人", "高血压", "糖尿病", "严重精神障碍", "结核病",
  "脱贫人口", "计划生育特殊家庭"];

export function day(iso) {
  return iso ? String(iso).slice(0, 10) : "—";
}

export function errorText(err) {
  return (err && err.message) || "操作失败，请稍后重试";
}

const isVillage = (code) => /^\d{12}$/.test(code || "") && !code.endsWith("000");

// A village (12-digit code) chosen down the regions tree from ``root`` (a region code, "" for the provinces, or
// "me": the caller's own service area, from /api/me).
// v-model is the code; the label shows the path picked.
export const VillagePicker = {
  props: { modelValue: String, root: { type: String, default: "" }, label: { type: String, default: "所在村" },
           testid: { type: String, default: "village" } },
  emits: ["update:modelValue"],
  template: `
    <van-field :model-value="text" is-link readonly :label="label" placeholder="请选择所在村（社区）"
               :data-testid="testid" @click="open" />
    <van-popup v-model:show="show" round position="bottom" teleport="body">
      <van-cascader v-model="picked" title="选择所在村" :options="options" @close="show = false"
                    @change="change" @finish="finish" :field-names="{ text: 'name', value: 'code' }" />
    </van-popup>`,
  setup(props, { emit }) {
    const hub = Vue.inject("hub");
    const show = Vue.ref(false);
    const picked = Vue.ref("");
    const options = Vue.ref([]);
    const text = Vue.ref("");
    async function children(parent) {
      const reply = await hub.rest.get(`${API}/regions${parent ? `?parent=${parent}` : ""}`);
      return reply.items.map((r) => ({ code: r.code, name: r.name, children: isVillage(r.code) ? undefined : [] }));
    }
    async function open() {
      show.value = true;
      if (!options.value.length) {
        try {
          const root = props.root === "me" ? (await hub.rest.get("/api/me")).region || "" : props.root;
          options.value = await children(root);
        } catch (e) { hub.notify.error(errorText(e)); }
      }
    }
    async function change({ selectedOptions }) {
      const last = selectedOptions[selectedOptions.length - 1];
      if (last.children && !last.children.length) {
        const found = await children(last.code);
        last.children = found.length ? found : undefined;
        options.value = [...options.value];
      }
    }
    function finish({ selectedOptions }) {
      show.value = false;
      text.value = selectedOptions.map((o) => o.name).join(" / ");
      emit("update:modelValue", selectedOptions[selectedOptions.length - 1].code);
    }
    Vue.watch(() => props.modelValue, async (code) => {
      if (!code) { text.value = ""; return; }
      if (text.value) return;
      try {  // a value given from outside (an edit, the account's own village): show its name
        const siblings = await children(code.slice(0, 9) + "000");
        text.value = (siblings.find((r) => r.code === code) || { name: code }).name;
      } catch (e) { text.value = code; }
    }, { immediate: true });
    return { show, picked, options, text, open, change, finish };
  },
};

// The pages' few styles, once per document (a stylesheet of our own static files: the shell's CSP allows 'self').
export function useStyles() {
  if (document.getElementById("signing-h5-css")) return;
  const link = document.createElement("link");
  link.id = "signing-h5-css";
  link.rel = "stylesheet";
  link.href = new URL("./signing.css", import.meta.url).href;
  document.head.appendChild(link);
}

// A bottom sheet of choices (members, institutions, teams, doctors): each option a cell with a title and a line.
export const ChoicePopup = {
  props: { show: Boolean, title: String, options: { type: Array, default: () => [] }, testid: String },
  emits: ["update:show", "pick"],
  template: `
    <van-popup :show="show" @update:show="$emit('update:show', $event)" round position="bottom" teleport="body"
               :style="{ maxHeight: '70%' }" closeable :data-testid="testid">
      <div class="sg-card-head"><span class="sg-card-title">{{ title }}</span></div>
      <van-empty v-if="!options.length" description="暂无可选项" image-size="60" />
      <van-cell v-for="o in options" :key="o.value" :title="o.title" :label="o.label" clickable
                data-testid="choice-option" @click="$emit('pick', o); $emit('update:show', false)" />
    </van-popup>`,
};
