/* The H5 app shell (/h5, 375 px): login, the tab bar by role (pages with menu "tab" fill the tabs by path),
 * the hash router that loads each page module, and the `hub` object injected into pages. 咨询 is the chat page
 * at `/` (same tab; the session in sessionStorage is shared). */
import { ROLE_NAMES, scopeText, createRoute, go, viewOf, createHubState } from '../shell/kit.js';

const { createApp, ref, computed, watch, shallowRef, reactive } = Vue;

const route = createRoute();
const hubState = createHubState({ app: 'h5', onLoggedOut: () => { if (route.path !== '/') go('/'); } });

function notify(kind, message) {
  if (typeof kind === 'string' && message === undefined) { message = kind; kind = 'success'; }
  const type = kind === 'error' ? 'fail' : kind === 'warning' ? 'text' : 'success';
  vant.showToast({ type, message: String(message) });
}
notify.success = (m) => notify('success', m);
notify.error = (m) => notify('error', m);
notify.warning = (m) => notify('warning', m);

/** The four tabs of a role: [name, title, path, icon]. 首页 / 咨询 / 我的 always show (the shell has a home of its
 * own); 家庭 / 居民 when a page declares that path. */
function tabsFor(role) {
  const third = role === 'resident' ? ['family', '家庭', '/family', 'friends-o']
    : ['residents', '居民', '/residents', 'contact-o'];
  return [['home', '首页', '/home', 'home-o'], ['consult', '咨询', '/consult', 'chat-o'], third,
    ['me', '我的', '/me', 'user-o']];
}

const Login = {
  template: `
<div class="h5-login" data-testid="h5-login">
  <h2>家庭好医</h2>
  <van-form @submit="submit">
    <van-cell-group inset>
      <van-field v-model="form.username" name="username" label="账号" placeholder="用户名或手机号"
                 autocomplete="username" data-testid="login-username" />
      <van-field v-model="form.password" type="password" name="password" label="密码" placeholder="密码"
                 autocomplete="current-password" data-testid="login-password" />
    </van-cell-group>
    <div v-if="error" class="h5-result muted" style="padding: 12px 16px; color: #ee0a24" data-testid="login-error">
      {{ error }}</div>
    <div class="submit">
      <van-button round block type="primary" native-type="submit" :loading="busy" data-testid="login-submit">
        登录</van-button>
    </div>
  </van-form>
</div>`,
  setup() {
    const form = reactive({ username: '', password: '' });
    const error = ref('');
    const busy = ref(false);
    async function submit() {
      if (!form.username || !form.password) { error.value = '请输入账号和密码'; return; }
      busy.value = true; error.value = '';
      try {
        await hubState.login(form.username.trim(), form.password);
      } catch (err) {
        error.value = err.message || '登录失败';
      } finally {
        busy.value = false;
      }
    }
    return { form, error, busy, submit };
  },
};

const Home = {
  template: `
<div class="h5-home" data-testid="page-home">
  <h3>欢迎，{{ user.name }}</h3>
  <p class="muted">{{ roleName }}<template v-if="scope"> · {{ scope }}</template></p>
</div>`,
  setup() {
    return {
      user: computed(() => hubState.state.user || {}),
      roleName: computed(() => ROLE_NAMES[(hubState.state.user || {}).role] || ''),
      scope: computed(() => scopeText(hubState.state.user)),
    };
  },
};

const Shell = {
  components: { Login, Home },
  template: `
<login v-if="!state.user" />
<div v-else class="h5-shell" data-testid="h5-shell">
  <van-nav-bar :title="title" :left-arrow="!isTab" @click-left="back" data-testid="nav-bar" />
  <div class="h5-main">
    <home v-if="view.kind === 'home'" />
    <div v-else-if="view.kind === 'forbidden'" class="h5-result" data-testid="forbidden">
      <van-empty image="error" description="无权访问" /></div>
    <div v-else-if="view.kind === 'missing'" class="h5-result" data-testid="not-found">
      <van-empty description="页面不存在" /></div>
    <div v-else-if="view.kind === 'error'" class="h5-result" data-testid="page-error">
      <van-empty image="error" :description="'页面加载失败：' + view.message" /></div>
    <div v-else-if="view.kind === 'loading'" class="h5-result" data-testid="page-loading"><van-loading /></div>
    <component v-else :is="view.component" :key="view.path" />
  </div>
  <van-tabbar :model-value="activeTab" route-less data-testid="tabbar" @change="onTab">
    <van-tabbar-item v-for="t in tabs" :key="t.name" :name="t.name" :icon="t.icon"
                     :badge="t.name === 'me' && state.unread ? state.unread : undefined"
                     :data-testid="'tab-' + t.name">{{ t.title }}</van-tabbar-item>
  </van-tabbar>
</div>`,
  setup() {
    const state = hubState.state;
    const view = shallowRef({ kind: 'home' });
    const tabs = computed(() => {
      if (!state.user) return [];
      return tabsFor(state.user.role)
        .filter(([name, , path]) => name !== 'family' && name !== 'residents' || state.pages.some((p) => p.path === path))
        .map(([name, title, path, icon]) => ({ name, title, path, icon }));
    });
    const activeTab = computed(() => {
      const t = tabs.value.find((x) => x.path === route.path);
      return t ? t.name : (route.path === '/' || route.path === '/home' ? 'home' : '');
    });
    const isTab = computed(() => route.path === '/' || tabs.value.some((t) => t.path === route.path));
    const title = computed(() => (view.value.kind === 'page' ? view.value.title : {
      home: '家庭好医', forbidden: '无权访问', missing: '页面不存在', error: '页面加载失败', loading: '',
    }[view.value.kind]));
    let seq = 0;
    async function show() {
      const mine = ++seq;
      if (!state.user || !state.loaded) return;
      let path = route.path;
      if (path === '/' && state.pages.some((p) => p.path === '/home')) path = '/home';
      if (path === '/' || path === '' || (path === '/home' && !state.pages.some((p) => p.path === '/home'))) {
        view.value = { kind: 'home' }; return;
      }
      if (path === '/consult') { location.href = '/'; return; }
      if (state.pages.some((p) => p.path === path)) view.value = { kind: 'loading' };
      const next = await viewOf({ app: 'h5', rest: hubState.rest, pages: state.pages, path });
      if (mine !== seq) return;
      view.value = next;
      if (next.kind === 'page') document.title = `${next.title} · 家庭好医`;
    }
    watch(() => [route.path, route.query, state.loaded], show, { immediate: true, deep: true });
    function onTab(name) {
      const t = tabs.value.find((x) => x.name === name);
      if (!t) return;
      if (t.name === 'consult') { location.href = '/'; return; }
      go(t.path);
    }
    function back() { if (history.length > 1) history.back(); else go('/'); }
    return { state, view, tabs, activeTab, isTab, title, onTab, back };
  },
};

const app = createApp(Shell);
app.use(vant);
app.provide('hub', {
  rest: hubState.rest,
  get user() { return hubState.state.user; },
  socket: hubState.socket,
  route,
  go,
  notify,
  state: hubState.state,
  logout: () => hubState.logout(true),
});
app.config.errorHandler = (err, _vm, info) => { console.error('页面出错', info, err); };
hubState.resume().then((ok) => { if (!ok) hubState.logout(); }).catch((err) => console.error(err));
app.mount('#app');
