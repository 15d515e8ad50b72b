// 标签 (/signing/tags): the resident tags — list with how many residents in your scope carry each, create,
// rename, delete (team leaders, institution admins, sysadmins; GET/POST /api/signing/tags, PATCH/DELETE
// /api/signing/tags/{id}). Population tags (重点人群) come from signing and can be renamed but not created here.

const { inject, reactive, ref, computed, onMounted } = Vue;

function messageOf(err) {
  return (err && (err.message || err.code)) || "操作失败，请重试";
}

export default {
  title: "标签",
  component: {
    template: `
<div class="signing-tags" data-testid="tags-page">
  <el-card shadow="never">
    <template #header>
      <div style="display: flex; align-items: center; gap: 12px">
        <span>居民标签</span>
        <el-input v-model="keyword" clearable placeholder="按名称筛选" size="small" style="width: 200px"
                  data-testid="tags-filter" />
        <el-button v-if="canEdit" type="primary" size="small" style="margin-left: auto" data-testid="tags-create"
                   @click="openCreate">新建标签</el-button>
      </div>
    </template>
    <el-table :data="shown" v-loading="loading" data-testid="tags-table" empty-text="暂无标签" stripe>
      <el-table-column label="名称" min-width="200">
        <template #default="{ row }"><span :data-testid="'tag-row-' + row.name">{{ row.name }}</span></template>
      </el-table-column>
      <el-table-column label="类型" width="140">
        <template #default="{ row }">
          <el-tag disable-transitions :type="row.kind === 'population' ? 'warning' : 'info'">{{ row.kind === 'population' ? '重点人群' : '自定义' }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="居民数" width="120">
        <template #default="{ row }"><span :data-testid="'tag-count-' + row.name">{{ row.residents || 0 }}</span></template>
      </el-table-column>
      <el-table-column v-if="canEdit" label="操作" width="160">
        <template #default="{ row }">
          <el-button link type="primary" :data-testid="'tag-edit-' + row.name" @click="openEdit(row)">重命名</el-button>
          <el-popconfirm :title="'删除后将从 ' + (row.residents || 0) + ' 位居民身上移除，确定？'" confirm-button-text="删除"
                         cancel-button-text="取消" @confirm="remove(row)">
            <template #reference>
              <el-button link type="danger" :data-testid="'tag-delete-' + row.name">删除</el-button>
            </template>
          </el-popconfirm>
        </template>
      </el-table-column>
    </el-table>
  </el-card>

  <el-dialog v-model="editing.open" :title="editing.id ? '重命名标签' : '新建标签'" width="420px" data-testid="tag-dialog">
    <el-input v-model="editing.name" maxlength="20" show-word-limit placeholder="标签名称" data-testid="tag-name" />
    <template #footer>
      <el-button @click="editing.open = false">取消</el-button>
      <el-button type="primary" :loading="editing.busy" data-testid="tag-save" @click="save">保存</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject("hub");
      const tags = ref([]);
      const loading = ref(false);
      const keyword = ref("");
      const editing = reactive({ open: false, id: null, name: "", busy: false });
      const canEdit = computed(() => hub.user && ["team_leader", "admin", "sysadmin"].includes(hub.user.role));
      const shown = computed(() => tags.value.filter((t) => !keyword.value || t.name.includes(keyword.value.trim())));

      async function load() {
        loading.value = true;
        try {
          tags.value = (await hub.rest.get("/api/signing/tags")).items;
        } catch (err) {
          hub.notify.error(messageOf(err));
        } finally {
          loading.value = false;
        }
      }
      function openCreate() {
        Object.assign(editing, { open: true, id: null, name: "", busy: false });
      }
      function openEdit(row) {
        Object.assign(editing, { open: true, id: row.id, name: row.name, busy: false });
      }
      async function save() {
        const name = editing.name.trim();
        if (!name) {
          hub.notify.error("请输入标签名称");
          return;
        }
        editing.busy = true;
        try {
          if (editing.id) await hub.rest.patch(`/api/signing/tags/${editing.id}`, { name });
          else await hub.rest.post("/api/signing/tags", { name });
          editing.open = false;
          hub.notify.success(editing.id ? "已重命名" : "已新建");
          load();
        } catch (err) {
          hub.notify.error(messageOf(err));
        } finally {
          editing.busy = false;
        }
      }
      async function remove(row) {
        try {
          const done = await hub.rest.delete(`/api/signing/tags/${row.id}`);
          hub.notify.success(`已删除，已从 ${done.removed_from} 位居民身上移除`);
          load();
        } catch (err) {
          hub.notify.error(messageOf(err));
        }
      }

      onMounted(load);
      return { tags, shown, loading, keyword, editing, canEdit, openCreate, openEdit, save, remove };
    },
  },
};
