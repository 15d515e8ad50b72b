// 问候 (/greeter/send): the example plugin's console page. It uses only the `hub` object the shell injects:
// hub.rest for its API (POST /api/greeter/greetings), hub.user, hub.notify for the toast.
const { inject, reactive, ref } = Vue;

export default {
  title: '问候',
  component: {
    template: `
<el-card shadow="never" data-testid="page-greet">
  <el-form label-width="80px" @submit.prevent="send" style="max-width: 520px">
    <el-form-item label="接收人">
      <el-input v-model="form.to" placeholder="用户 ID（默认发给自己）" data-testid="greet-to" />
    </el-form-item>
    <el-form-item label="问候语">
      <el-input v-model="form.text" type="textarea" :rows="3" maxlength="200" show-word-limit
                data-testid="greet-text" />
    </el-form-item>
    <el-form-item>
      <el-button type="primary" :loading="busy" data-testid="greet-send" @click="send">发送</el-button>
    </el-form-item>
  </el-form>
  <el-table :data="sent" empty-text="尚未发送" data-testid="greet-sent">
    <el-table-column prop="text" label="已发送的问候" />
    <el-table-column label="时间" width="200">
      <template #default="{ row }">{{ new Date(row.at).toLocaleString('zh-CN', { hour12: false }) }}</template>
    </el-table-column>
  </el-table>
</el-card>`,
    setup() {
      const hub = inject('hub');
      const form = reactive({ to: hub.user.id, text: '' });
      const busy = ref(false);
      const sent = ref([]);
      async function send() {
        busy.value = true;
        try {
          const greeting = await hub.rest.post('/api/greeter/greetings', { to: form.to, text: form.text });
          sent.value = [greeting, ...sent.value];
          form.text = '';
          hub.notify.success('问候已发送');
        } catch (err) {
          hub.notify.error(err.message);
        } finally {
          busy.value = false;
        }
      }
      return { form, busy, sent, send };
    },
  },
};
