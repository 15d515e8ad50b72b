/* The PC console shell (/console): login, the menu of the pages the caller's role may use (GET /api/screens),
 * the header (name, role, scope, notices bell, logout) and the hash router that loads each page module. */
import { ROLE_NAMES, scopeText, createRoute, go, viewOf, createHubState } from '../shell/kit.js';

const { createApp, ref, computed, watch, shallowRef, reactive } = Vue;

const route = createRoute();
const hubState = createHubState({ app: 'console', onLoggedOut: () => { if (route.path !== '/') go('/'); } });

function notify(kind, message) {
  if (typeof kind === 'string' && message === undefined) { message = kind; kind = 'success'; }
  ElementPlus.ElMessage({ type: kind === 'error' ? 'error' : kind === 'warning' ? 'warning' : 'success',
    message: String(message), grouping: true });
}
notify.success = (m) => notify('success', m);
notify.error = (m) => notify('error', m);
notify.warning = (m) => notify('warning', m);

const LoginForm = {
  template: `
<div class="login-wrap">
  <el-card class="login-card" shadow="always">
    <h2 class="login-title">家庭好医 · 管理平台</h2>
    <el-form @submit.prevent="submit" label-position="top">
      <el-form-item label="用户名">
        <el-input v-model="form.username" autocomplete="username" data-testid="login-username" placeholder="用户名" />
      </el-form-item>
      <el-form-item label="密码">
        <el-input v-model="form.password" type="password" show-password autocomplete="current-password"
                  data-testid="login-password" placeholder="密码" @keyup.enter="submit" />
      </el-form-item>
      <el-alert v-if="error" :title="error" type="error" :closable="false" show-icon data-testid="login-error" />
      <el-button type="primary" class="login-submit" :loading="busy" native-type="submit"
                 data-testid="login-submit" @click.prevent="submit">登录</el-button>
    </el-form>
  </el-card>
</div>`,
  setup() {
    const form = reactive({ username: '', password: '' });
    const error = ref('');
    const busy = ref(false);
    async function submit() {
      if (busy.value) return;
      if (!form.username || !form.password) { error.value = '请输入用户名和密码'; return; }
      busy.value = true; error.value = '';
      try {
        await hubState.login(form.username.trim(), form.password);
        form.password = '';
      } catch (err) {
        error.value = err.message || '登录失败';
      } finally {
        busy.value = false;
      }
    }
    return { form, error, busy, submit };
  },
};

const HomePage = {
  template: `
<div class="home" data-testid="page-home">
  <el-card shadow="never">
    <h2>欢迎，{{ user.name }}</h2>
    <p class="muted">{{ roleName }}<template v-if="scope"> · {{ scope }}</template></p>
    <p class="muted" v-if="!pages.length">当前角色暂无可用的功能页面。</p>
    <p class="muted" v-else>请从左侧菜单选择功能。</p>
  </el-card>
</div>`,
  setup() {
    return {
      user: computed(() => hubState.state.user || {}),
      roleName: computed(() => ROLE_NAMES[(hubState.state.user || {}).role] || ''),
      scope: computed(() => scopeText(hubState.state.user)),
      pages: computed(() => hubState.state.pages),
    };
  },
};

const Shell = {
  components: { LoginForm, HomePage },
  template: `
<login-form v-if="!state.user" />
<el-container v-else class="layout" data-testid="console-shell">
  <el-aside width="220px" class="aside">
    <div class="brand" data-testid="brand" @click="go('/')">家庭好医</div>
    <el-menu :default-active="route.path" :default-openeds="menuGroups.map(g => g.name)" class="menu"
             data-testid="menu" @select="p => go(p)">
      <el-menu-item index="/" data-testid="menu-home">首页</el-menu-item>
      <template v-for="group in menuGroups" :key="group.name">
        <el-sub-menu v-if="group.name" :index="group.name" :data-testid="'menu-group-' + group.name">
          <template #title>{{ group.name }}</template>
          <el-menu-item v-for="p in group.pages" :key="p.path" :index="p.path" :data-testid="'menu-' + p.path">
            {{ p.title }}</el-menu-item>
        </el-sub-menu>
        <template v-else>
          <el-menu-item v-for="p in group.pages" :key="p.path" :index="p.path" :data-testid="'menu-' + p.path">
            {{ p.title }}</el-menu-item>
        </template>
      </template>
    </el-menu>
  </el-aside>
  <el-container>
    <el-header class="header">
      <div class="title" data-testid="page-title">{{ title }}</div>
      <div class="who">
        <el-popover placement="bottom-end" :width="360" trigger="click" v-model:visible="bellOpen">
          <template #reference>
            <span class="bell" data-testid="bell" @click="state.unread = 0">
              <el-badge :value="state.unread" :hidden="!state.unread" :max="99" data-testid="bell-badge">
                <el-icon :size="20"><Bell /></el-icon>
              </el-badge>
            </span>
          </template>
          <div class="notices" data-testid="notices">
            <div v-if="!state.notices.length" class="muted" data-testid="notices-empty">暂无通知</div>
            <div v-for="n in state.notices" :key="n.inbox" class="notice"
                 :class="{ link: !!linkOf(n) }" data-testid="notice" @click="openNotice(n)">
              <div class="notice-title">{{ n.title }}</div>
              <div class="notice-body">{{ n.body }}</div>
              <div class="notice-time">{{ timeOf(n.ts) }}</div>
            </div>
          </div>
        </el-popover>
        <span class="user" data-testid="user-name">{{ state.user.name }}</span>
        <el-tag size="small" data-testid="user-role">{{ roleName }}</el-tag>
        <span class="scope muted" data-testid="user-scope" v-if="scope">{{ scope }}</span>
        <el-button link type="primary" data-testid="logout" @click="logout">退出</el-button>
      </div>
    </el-header>
    <el-main class="main">
      <home-page v-if="view.kind === 'home'" />
      <el-result v-else-if="view.kind === 'forbidden'" icon="warning" title="无权访问"
                 sub-title="当前角色不能使用该页面" data-testid="forbidden">
        <template #extra><el-button type="primary" @click="go('/')">返回首页</el-button></template>
      </el-result>
      <el-result v-else-if="view.kind === 'missing'" icon="info" title="页面不存在" data-testid="not-found">
        <template #extra><el-button type="primary" @click="go('/')">返回首页</el-button></template>
      </el-result>
      <el-result v-else-if="view.kind === 'error'" icon="error" title="页面加载失败" :sub-title="view.message"
                 data-testid="page-error" />
      <div v-else-if="view.kind === 'loading'" v-loading="true" class="page-loading" data-testid="page-loading"></div>
      <component v-else :is="view.component" :key="view.path" />
    </el-main>
  </el-container>
</el-container>`,
  setup() {
    const state = hubState.state;
    const view = shallowRef({ kind: 'home' });
    const bellOpen = ref(false);
    const menuGroups = computed(() => {
      const groups = new Map();
      for (const p of state.pages) {
        if (!groups.has(p.menu)) groups.set(p.menu, { name: p.menu, pages: [] });
        groups.get(p.menu).pages.push(p);
      }
      return [...groups.values()];
    });
    const title = computed(() => (view.value.kind === 'page' ? view.value.title : {
      home: '首页', forbidden: '无权访问', missing: '页面不存在', error: '页面加载失败', loading: '',
    }[view.value.kind]));
    // A path that some role's page has but not this one's: 无权访问 (the full list is not sent; known paths
    // of the other roles' pages are not either, so any unknown path of a known menu prefix counts as forbidden).
    let seq = 0;
    async function show() {
      const mine = ++seq;
      if (!state.user || !state.loaded) return;
      const path = route.path;
      if (path === '/' || path === '') { view.value = { kind: 'home' }; return; }
      if (state.pages.some((p) => p.path === path)) view.value = { kind: 'loading' };
      const next = await viewOf({ app: 'console', rest: hubState.rest, pages: state.pages, path });
      if (mine !== seq) return;
      view.value = next;
      if (next.kind === 'page') document.title = `${next.title} · 家庭好医`;
    }
    watch(() => [route.path, route.query, state.loaded], show, { immediate: true, deep: true });
    function linkOf(n) { return n && n.data && n.data.links && n.data.links.console; }
    function openNotice(n) {
      const link = linkOf(n);
      if (!link) return;
      bellOpen.value = false;
      const target = String(link).replace(/^#/, '');
      const [p, qs = ''] = target.split('?');
      go(p, Object.fromEntries(new URLSearchParams(qs)));
    }
    function timeOf(ts) { try { return new Date(ts).toLocaleString('zh-CN', { hour12: false }); } catch (_e) { return ts; } }
    return {
      state, route, view, title, menuGroups, bellOpen, go, linkOf, openNotice, timeOf,
      roleName: computed(() => ROLE_NAMES[(state.user || {}).role] || ''),
      scope: computed(() => scopeText(state.user)),
      logout: () => hubState.logout(true),
    };
  },
};

const app = createApp(Shell);
app.use(ElementPlus, { locale: ElementPlusLocaleZhCn });
for (const [name, comp] of Object.entries(ElementPlusIconsVue)) app.component(name, comp);
app.provide('hub', {
  rest: hubState.rest,
  get user() { return hubState.state.user; },
  socket: hubState.socket,
  route,
  go,
  notify,
  state: hubState.state,
});
app.config.errorHandler = (err, _vm, info) => { console.error('页面出错', info, err); };
hubState.resume().then((ok) => { if (!ok) hubState.logout(); }).catch((err) => console.error(err));
app.mount('#app');
