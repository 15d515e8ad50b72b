// 修改密码 (/me/password): every staff member changes their own password (POST /api/auth/password).
import { saveGrant } from '../../core/session.js';

const { inject, reactive, ref } = Vue;

export default {
  title: '修改密码',
  component: {
    template: `
<el-card shadow="never" class="page-password" data-testid="page-password" style="max-width: 480px">
  <el-form label-width="90px" @submit.prevent="save">
    <el-form-item label="当前密码">
      <el-input v-model="form.password" type="password" show-password data-testid="password-current" />
    </el-form-item>
    <el-form-item label="新密码">
      <el-input v-model="form.new_password" type="password" show-password data-testid="password-new" />
    </el-form-item>
    <el-form-item label="确认新密码">
      <el-input v-model="form.confirm" type="password" show-password data-testid="password-confirm" />
    </el-form-item>
    <el-form-item>
      <el-button type="primary" :loading="busy" data-testid="password-save" @click="save">保存</el-button>
    </el-form-item>
  </el-form>
</el-card>`,
    setup() {
      const hub = inject('hub');
      const form = reactive({ password: '', new_password: '', confirm: '' });
      const busy = ref(false);
      async function save() {
        if (form.new_password !== form.confirm) { hub.notify.error('两次输入的新密码不一致'); return; }
        busy.value = true;
        try {
          const grant = await hub.rest.post('/api/auth/password',
            { old_password: form.password, new_password: form.new_password });
          saveGrant(grant); // every old token ended: keep the fresh one (the socket reconnects with it)
          hub.notify.success('密码已修改');
          Object.assign(form, { password: '', new_password: '', confirm: '' });
        } catch (err) {
          hub.notify.error(err.message);
        } finally {
          busy.value = false;
        }
      }
      return { form, busy, save };
    },
  },
};
