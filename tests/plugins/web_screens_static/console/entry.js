// A test page: shows its route, and the user the shell injected.
const { inject } = Vue;

export default {
  title: '测试页',
  component: {
    template: '<div data-testid="webtest-page">{{ hub.route.path }} {{ hub.user.name }}</div>',
    setup() { return { hub: inject('hub') }; },
  },
};
