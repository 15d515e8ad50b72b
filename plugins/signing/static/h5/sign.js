// 录入签约 (doctor): sign a resident on the spot — the details typed now (the ID number checked as it is typed);
// a number the roster already holds signs that record (its name must match).
import { API, KEY_POPULATIONS, VillagePicker, day, errorText, useStyles } from "./common.js";
import { idNumberError, normaliseIdNumber } from "./idcard.js";

export default {
  title: "录入签约",
  component: {
    components: { VillagePicker },
    template: `
      <div class="sg-page" data-testid="sign-page">
        <van-cell-group inset title="居民信息">
          <van-field v-model="form.name" label="姓名" placeholder="请输入姓名" maxlength="30" data-testid="sign-name" />
          <van-field v-model="form.id_number" label="身份证号" placeholder="18 位身份证号" maxlength="18"
                     :error-message="idError" data-testid="sign-id-number" />
          <van-field v-model="form.phone" label="手机号" type="tel" maxlength="11" placeholder="选填" data-testid="sign-phone" />
          <village-picker v-model="form.village" :root="root" testid="sign-village" />
          <van-field v-model="form.address" label="住址" placeholder="选填" maxlength="200" data-testid="sign-address" />
          <van-field label="重点人群">
            <template #input>
              <van-checkbox-group v-model="form.key_populations" direction="horizontal" data-testid="sign-populations">
                <van-checkbox v-for="p in populations" :key="p" :name="p" shape="square"
                              style="margin: 2px 8px 2px 0">{{ p }}</van-checkbox>
              </van-checkbox-group>
            </template>
          </van-field>
        </van-cell-group>
        <van-cell-group inset title="签约信息">
          <van-cell title="签约年限">
            <template #value><van-stepper v-model="termYears" :min="1" :max="3" integer data-testid="sign-term" /></template>
          </van-cell>
          <van-cell title="到期自动续签">
            <template #value><van-switch v-model="autoRenew" size="20px" data-testid="sign-auto-renew" /></template>
          </van-cell>
        </van-cell-group>
        <div class="sg-submit">
          <van-button block round type="primary" :disabled="!canSave" :loading="busy" data-testid="sign-submit"
                      @click="submit">签约</van-button>
        </div>
        <van-cell-group v-if="done" inset title="签约成功" data-testid="sign-done">
          <van-cell :title="done.resident_name" :label="done.id_number"
                    :value="'服务期至 ' + day(done.end)" />
        </van-cell-group>
      </div>`,
    setup() {
      useStyles();
      const hub = Vue.inject("hub");
      const blank = () => ({ name: "", id_number: "", phone: "", village: "", address: "", key_populations: [] });
      const form = Vue.reactive(blank());
      const termYears = Vue.ref(1), autoRenew = Vue.ref(true), busy = Vue.ref(false), done = Vue.ref(null);
      const root = "me";
      const idError = Vue.computed(() => idNumberError(form.id_number, { partial: true }));
      const canSave = Vue.computed(() => form.name.trim() && form.village && !idNumberError(form.id_number));
      async function submit() {
        busy.value = true;
        const resident = { name: form.name.trim(), id_number: normaliseIdNumber(form.id_number), village: form.village,
                           address: form.address.trim(), phone: form.phone.trim() || null,
                           key_populations: form.key_populations };
        try {
          done.value = await hub.rest.post(`${API}/signings`, { resident, term_years: Number(termYears.value),
                                                               auto_renew: autoRenew.value });
          hub.notify.success("签约成功");
          Object.assign(form, blank(), { village: form.village });
        } catch (e) { hub.notify.error(errorText(e)); }
        busy.value = false;
      }
      return { form, termYears, autoRenew, busy, done, root, idError, canSave, submit, day,
               populations: KEY_POPULATIONS };
    },
  },
};
