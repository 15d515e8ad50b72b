// 家庭: the family members this account manages, each with their signing state; add one (the ID number checked as
// it is typed), edit, delete. A person the roster already holds waits as a link request for their team to confirm.
import { API, RELATIONS, STATUS_TAG_TYPES, VillagePicker, day, errorText, useStyles } from "./common.js";
import { idNumberError, normaliseIdNumber } from "./idcard.js";

const LINK_LABELS = { pending: "待确认", confirmed: "已确认", rejected: "未通过", withdrawn: "已撤回", superseded: "未通过" };

export default {
  title: "家庭",
  component: {
    components: { VillagePicker },
    template: `
      <div class="sg-page" data-testid="family-page">
        <van-empty v-if="loaded && !members.length && !links.length" description="还没有家庭成员" image-size="60" />
        <div v-for="m in members" :key="m.id" class="sg-card" data-testid="family-member">
          <div class="sg-card-head">
            <span class="sg-card-title">{{ m.name }} <span class="sg-muted">{{ m.relation }}</span></span>
            <van-tag :type="tagType(m)" data-testid="family-member-state">{{ stateOf(m) }}</van-tag>
          </div>
          <div class="sg-card-body">
            <div>{{ m.id_number }}<span v-if="m.age !== null"> · {{ m.age }} 岁</span></div>
            <div v-if="m.signing">{{ m.signing.team_name }} · {{ m.signing.doctor_name }}
              <span v-if="m.signing.status === 'active'">· 至 {{ day(m.signing.end) }}</span></div>
          </div>
          <div class="sg-actions">
            <van-button v-if="!m.signing && m.status !== 'unable'" size="small" type="primary" plain
                        data-testid="family-apply" @click="go('/signing/apply', { member: m.id })">申请签约</van-button>
            <van-button size="small" data-testid="family-edit" @click="openEdit(m)">编辑</van-button>
            <van-button size="small" type="danger" plain data-testid="family-delete" @click="remove(m)">删除</van-button>
          </div>
        </div>
        <van-cell-group v-if="links.length" inset title="关联申请">
          <van-cell v-for="l in links" :key="l.id" :title="l.name + '（' + l.relation + '）'" :label="l.id_number"
                    data-testid="family-link">
            <template #value>
              <van-tag type="warning">{{ linkLabels[l.status] || l.status }}</van-tag>
              <van-button v-if="l.status === 'pending'" size="mini" plain data-testid="family-link-withdraw"
                          style="margin-left: 6px" @click="withdraw(l)">撤回</van-button>
            </template>
          </van-cell>
        </van-cell-group>
        <div class="sg-submit">
          <van-button block round type="primary" icon="plus" data-testid="family-add" @click="openAdd">添加家庭成员</van-button>
        </div>

        <van-popup v-model:show="editing" round position="bottom" teleport="body" closeable :style="{ maxHeight: '90%' }"
                   data-testid="family-form">
          <div class="sg-card-head"><span class="sg-card-title">{{ form.id ? '编辑家庭成员' : '添加家庭成员' }}</span></div>
          <van-cell-group>
            <van-field v-model="form.name" label="姓名" placeholder="请输入姓名" maxlength="30" data-testid="member-name" />
            <van-field v-if="!form.id" v-model="form.id_number" label="身份证号" placeholder="18 位身份证号"
                       maxlength="18" :error-message="idError" data-testid="member-id-number" />
            <van-field v-model="form.phone" label="手机号" type="tel" maxlength="11" placeholder="选填"
                       data-testid="member-phone" />
            <van-field label="关系">
              <template #input>
                <van-radio-group v-model="form.relation" direction="horizontal" data-testid="member-relation">
                  <van-radio v-for="r in relations" :key="r" :name="r" style="margin: 2px 8px 2px 0">{{ r }}</van-radio>
                </van-radio-group>
              </template>
            </van-field>
            <village-picker v-model="form.village" :root="root" testid="member-village" />
            <van-field v-model="form.address" label="住址" placeholder="选填" maxlength="200" data-testid="member-address" />
          </van-cell-group>
          <div class="sg-submit">
            <van-button block round type="primary" :disabled="!canSave" :loading="busy" data-testid="member-save"
                        @click="save">保存</van-button>
          </div>
        </van-popup>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const members = Vue.ref([]), links = Vue.ref([]), loaded = Vue.ref(false);
      const editing = Vue.ref(false), busy = Vue.ref(false);
      const blank = () => ({ id: null, name: "", id_number: "", phone: "", relation: "本人", village: "", address: "" });
      const form = Vue.reactive(blank());
      const root = "";
      // as typed: only a mistake already made shows; the whole check runs before saving
      const idError = Vue.computed(() => (form.id ? "" : idNumberError(form.id_number, { partial: true })));
      const canSave = Vue.computed(() => form.name.trim() && form.village && form.relation
        && (form.id || !idNumberError(form.id_number)));

      function stateOf(m) { return m.signing && m.signing.status === "pending" ? "待审核" : m.status_label; }
      function tagType(m) { return m.signing && m.signing.status === "pending" ? "warning" : (STATUS_TAG_TYPES[m.status] || "default"); }

      async function load() {
        try {
          const [family, requests] = await Promise.all([hub.rest.get(`${API}/family`),
                                                        hub.rest.get(`${API}/family/links?status=pending`)]);
          members.value = family.items;
          links.value = requests.items;
        } catch (e) { hub.notify.error(errorText(e)); }
        loaded.value = true;
      }
      function openAdd() {
        // a family mostly lives together: the village of the account's own record (or its first member) to start
        const self = members.value.find((m) => m.relation === "本人") || members.value[0];
        Object.assign(form, blank(), { relation: self && self.relation === "本人" ? "配偶" : "本人",
                                       village: (self && self.village) || "" });
        editing.value = true;
      }
      function openEdit(m) {
        Object.assign(form, blank(), { id: m.id, name: m.name, phone: "", relation: m.relation || "其他",
                                       village: m.village || "", address: m.address || "" });
        editing.value = true;
        hub.rest.get(`${API}/family/${m.id}`).then((whole) => { form.phone = whole.phone || ""; }).catch(() => {});
      }
      async function save() {
        const body = { name: form.name.trim(), relation: form.relation, village: form.village,
                       address: form.address.trim(), phone: form.phone.trim() || null };
        busy.value = true;
        try {
          if (form.id) {
            await hub.rest.patch(`${API}/family/${form.id}`, body);
            hub.notify.success("已保存");
          } else {
            const added = await hub.rest.post(`${API}/family`, { ...body, id_number: normaliseIdNumber(form.id_number) });
            hub.notify.success(added.status === "pending" ? "该居民已在档，已提交关联申请，待签约团队确认" : "已添加");
          }
          editing.value = false;
          await load();
        } catch (e) { hub.notify.error(errorText(e)); }
        busy.value = false;
      }
      async function remove(m) {
        try { await vant.showConfirmDialog({ title: "删除家庭成员", message: `确定删除${m.name}吗？` }); }
        catch (e) { return; }
        try {
          await hub.rest.delete(`${API}/family/${m.id}`);
          hub.notify.success("已删除");
          await load();
        } catch (e) { hub.notify.error(errorText(e)); }
      }
      async function withdraw(l) {
        try {
          await hub.rest.delete(`${API}/family/links/${l.id}`);
          await load();
        } catch (e) { hub.notify.error(errorText(e)); }
      }
      Vue.onMounted(load);
      return { members, links, loaded, editing, busy, form, root, idError, canSave, stateOf, tagType, openAdd,
               openEdit, save, remove, withdraw, day, relations: RELATIONS, linkLabels: LINK_LABELS, go: hub.go };
    },
  },
};
