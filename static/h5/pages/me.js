// 我的 (/me): the user, their scope, the notices (live over the socket) and logout.
import { ROLE_NAMES, scopeText } from '../../shell/kit.js';

const { inject, computed } = Vue;

export default {
  title: '我的',
  component: {
    template: `
<div class="page-me" data-testid="page-me">
  <van-cell-group inset style="margin-top: 12px">
    <van-cell :title="user.name" :label="scope" :value="roleName" data-testid="me-user" />
  </van-cell-group>
  <van-cell-group inset title="通知" style="margin-top: 12px" data-testid="notices">
    <van-cell v-if="!notices.length" title="暂无通知" data-testid="notices-empty" />
    <van-cell v-for="n in notices" :key="n.inbox" :title="n.title" :label="n.body" :is-link="!!linkOf(n)"
              data-testid="notice" @click="open(n)" />
  </van-cell-group>
  <div style="margin: 24px 16px">
    <van-button block round data-testid="logout" @click="hub.logout()">退出登录</van-button>
  </div>
</div>`,
    setup() {
      const hub = inject('hub');
      hub.state.unread = 0;
      const linkOf = (n) => n && n.data && n.data.links && n.data.links.h5;
      function open(n) {
        const link = linkOf(n);
        if (!link) return;
        const [p, qs = ''] = String(link).replace(/^#/, '').split('?');
        hub.go(p, Object.fromEntries(new URLSearchParams(qs)));
      }
      return {
        hub, linkOf, open,
        user: computed(() => hub.user || {}),
        roleName: computed(() => ROLE_NAMES[(hub.user || {}).role] || ''),
        scope: computed(() => scopeText(hub.user)),
        notices: computed(() => hub.state.notices),
      };
    },
  },
};
