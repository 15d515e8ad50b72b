// 敏感词 (/supervision/words): the sensitive-word list — search, add, edit, enable / disable, delete, and the
// text / xlsx import with its per-row report.
import {
  WORD_ACTIONS, errorDetails, errorText, formatTime, postRaw, queryString, wordActionLabel, wordActionTag,
} from './admin-common.js';

const { inject, reactive, ref, onMounted } = Vue;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
// The import's per-row problem codes (the column a bad row is wrong in).
const IMPORT_CODES = {
  word: '词语', action: '处理方式', category: '分类', pinyin: '拼音列', formula: '公式', invalid: '格式错误',
};

export default {
  title: '敏感词',
  component: {
    template: `
<div class="page-words" data-testid="page-words">
  <el-card shadow="never">
    <el-form :inline="true" @submit.prevent="search">
      <el-form-item label="关键词">
        <el-input v-model="filters.q" placeholder="词语" clearable data-testid="words-filter-q" style="width: 180px" />
      </el-form-item>
      <el-form-item label="分类">
        <el-input v-model="filters.category" placeholder="分类" clearable data-testid="words-filter-category"
                  style="width: 140px" />
      </el-form-item>
      <el-form-item label="处理方式">
        <el-select v-model="filters.action" clearable placeholder="全部" data-testid="words-filter-action"
                   style="width: 120px">
          <el-option label="全部" value="" />
          <el-option v-for="a in actions" :key="a.value" :label="a.label" :value="a.value" />
        </el-select>
      </el-form-item>
      <el-form-item>
        <el-button type="primary" @click="search" data-testid="words-search">查询</el-button>
        <el-button @click="openAdd" data-testid="words-add">新增敏感词</el-button>
        <el-button @click="openImport" data-testid="words-import">批量导入</el-button>
      </el-form-item>
    </el-form>
    <div class="words-status" v-if="status" data-testid="words-status">
      <span>生效词数 {{ status.words }}</span>
      <el-tag size="small" disable-transitions :type="status.version >= status.latest ? 'success' : 'warning'">
        {{ status.version >= status.latest ? '过滤规则已生效' : '过滤规则更新中' }}</el-tag>
      <span class="muted">规则版本 {{ status.version }}</span>
    </div>
    <el-table :data="items" v-loading="loading" data-testid="words-table" empty-text="暂无敏感词" stripe>
      <el-table-column prop="word" label="词语" min-width="160">
        <template #default="{ row }"><span :data-testid="'word-row-' + row.word">{{ row.word }}</span></template>
      </el-table-column>
      <el-table-column label="处理方式" width="110">
        <template #default="{ row }"><el-tag :type="actionTag(row.action)" disable-transitions>{{ actionLabel(row.action) }}</el-tag></template>
      </el-table-column>
      <el-table-column label="分类" width="140">
        <template #default="{ row }">{{ row.category || '—' }}</template>
      </el-table-column>
      <el-table-column label="拼音匹配" width="100">
        <template #default="{ row }">{{ row.pinyin ? '是' : '否' }}</template>
      </el-table-column>
      <el-table-column label="启用" width="90">
        <template #default="{ row }">
          <el-switch :model-value="row.enabled" @change="(v) => toggle(row, v)"
                     :data-testid="'word-enabled-' + row.word" />
        </template>
      </el-table-column>
      <el-table-column label="创建时间" width="180">
        <template #default="{ row }">{{ time(row.created_at) }}</template>
      </el-table-column>
      <el-table-column label="操作" width="150" fixed="right">
        <template #default="{ row }">
          <el-button link type="primary" @click="openEdit(row)" :data-testid="'word-edit-' + row.word">编辑</el-button>
          <el-popconfirm title="确定删除该词？" @confirm="remove(row)" confirm-button-text="删除" cancel-button-text="取消">
            <template #reference>
              <el-button link type="danger" :data-testid="'word-delete-' + row.word">删除</el-button>
            </template>
          </el-popconfirm>
        </template>
      </el-table-column>
    </el-table>
    <div class="pager">
      <el-button :disabled="!cursors.length" @click="prev" data-testid="words-prev">上一页</el-button>
      <el-button :disabled="!next" @click="more" data-testid="words-next">下一页</el-button>
    </div>
  </el-card>

  <el-dialog v-model="editing.open" :title="editing.id ? '编辑敏感词' : '新增敏感词'" width="480px" data-testid="word-dialog">
    <el-form label-width="90px">
      <el-form-item label="词语" required>
        <el-input v-model="editing.word" :disabled="!!editing.id" maxlength="50" data-testid="word-input" />
      </el-form-item>
      <el-form-item label="处理方式">
        <el-radio-group v-model="editing.action" data-testid="word-action">
          <el-radio v-for="a in actions" :key="a.value" :value="a.value" :data-testid="'word-action-' + a.value">{{ a.label }}</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-form-item label="分类">
        <el-input v-model="editing.category" maxlength="30" data-testid="word-category" />
      </el-form-item>
      <el-form-item label="拼音匹配">
        <el-switch v-model="editing.pinyin" data-testid="word-pinyin" />
      </el-form-item>
    </el-form>
    <template #footer>
      <el-button @click="editing.open = false">取消</el-button>
      <el-button type="primary" :loading="saving" @click="save" data-testid="word-save">保存</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="importing.open" title="批量导入敏感词" width="640px" data-testid="import-dialog">
    <el-form label-width="100px">
      <el-form-item label="导入方式">
        <el-radio-group v-model="importing.mode">
          <el-radio value="text" data-testid="import-mode-text">粘贴文本</el-radio>
          <el-radio value="file" data-testid="import-mode-file">上传文件（.txt / .xlsx）</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-form-item label="内容" v-if="importing.mode === 'text'">
        <el-input type="textarea" :rows="6" v-model="importing.text" data-testid="import-text"
                  placeholder="每行一个词，可写作：词语,分类,处理方式（block / mask / alert / allow）" />
      </el-form-item>
      <el-form-item label="文件" v-else>
        <div class="import-file-row">
          <input ref="fileInput" type="file" accept=".txt,.csv,.xlsx" @change="pickFile" data-testid="import-file" />
          <el-button @click="fileInput.click()" data-testid="import-pick">选择文件</el-button>
          <span :class="importing.file ? '' : 'muted'" data-testid="import-file-name">{{ importing.file ? importing.file.name : '未选择文件' }}</span>
        </div>
        <div class="hint">xlsx：第一张表，列依次为 词语、分类、处理方式（block 拦截 / mask 打码 / alert 预警 / allow 白名单），首行可为表头</div>
      </el-form-item>
      <el-form-item label="默认处理">
        <el-select v-model="importing.action" style="width: 140px" data-testid="import-action">
          <el-option v-for="a in actions" :key="a.value" :label="a.label" :value="a.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="默认分类">
        <el-input v-model="importing.category" maxlength="30" style="width: 200px" data-testid="import-category" />
      </el-form-item>
    </el-form>
    <el-alert v-if="importing.summary" type="success" :closable="false" data-testid="import-summary"
              :title="'导入完成：共 ' + importing.summary.rows + ' 行，新增 ' + importing.summary.created + '，更新 ' + importing.summary.updated + '，未变 ' + importing.summary.unchanged" />
    <div v-if="importing.errors.length" class="import-report" data-testid="import-report">
      <el-alert type="error" :closable="false" :title="importing.errorTitle" />
      <el-table :data="importing.errors" max-height="240" size="small">
        <el-table-column prop="line" label="行号" width="80" />
        <el-table-column label="问题" width="120">
          <template #default="{ row }">{{ codeLabel(row.code) }}</template>
        </el-table-column>
        <el-table-column prop="message" label="原因" />
      </el-table>
    </div>
    <template #footer>
      <el-button @click="importing.open = false" data-testid="import-close">关闭</el-button>
      <el-button type="primary" :loading="importing.busy" @click="runImport" data-testid="import-submit">导入</el-button>
    </template>
  </el-dialog>
</div>`,
    setup() {
      const hub = inject('hub');
      const filters = reactive({ q: '', category: '', action: '' });
      const items = ref([]);
      const loading = ref(false);
      const saving = ref(false);
      const next = ref(null);
      const cursors = ref([]);
      const current = ref(null);
      const status = ref(null);
      const fileInput = ref(null);
      const editing = reactive({ open: false, id: null, word: '', action: 'block', category: '', pinyin: false });
      const importing = reactive({
        open: false, mode: 'text', text: '', file: null, action: 'block', category: '', busy: false,
        summary: null, errors: [], errorTitle: '',
      });

      async function load(cursor) {
        loading.value = true;
        try {
          const page = await hub.rest.get('/api/sensitive-words'
            + queryString({ ...filters, limit: 20, cursor }));
          items.value = page.items;
          next.value = page.next_cursor;
          current.value = cursor || null;
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          loading.value = false;
        }
      }

      async function loadStatus() {
        try {
          status.value = await hub.rest.get('/api/sensitive-words/status');
        } catch (err) {
          status.value = null;
        }
      }

      function search() {
        cursors.value = [];
        load(null);
      }
      function more() {
        cursors.value.push(current.value);
        load(next.value);
      }
      function prev() {
        load(cursors.value.pop());
      }
      function refresh() {
        load(current.value);
        loadStatus();
      }

      function openAdd() {
        Object.assign(editing, { open: true, id: null, word: '', action: 'block', category: '', pinyin: false });
      }
      function openEdit(row) {
        Object.assign(editing, {
          open: true, id: row.id, word: row.word, action: row.action, category: row.category, pinyin: row.pinyin,
        });
      }
      async function save() {
        if (!editing.word.trim()) {
          hub.notify.error('请输入词语');
          return;
        }
        saving.value = true;
        try {
          if (editing.id) {
            await hub.rest.patch(`/api/sensitive-words/${editing.id}`,
              { action: editing.action, category: editing.category, pinyin: editing.pinyin });
            hub.notify.success('已保存');
          } else {
            await hub.rest.post('/api/sensitive-words', {
              word: editing.word.trim(), action: editing.action, category: editing.category, pinyin: editing.pinyin,
            });
            hub.notify.success('已新增');
          }
          editing.open = false;
          refresh();
        } catch (err) {
          hub.notify.error(errorText(err));
        } finally {
          saving.value = false;
        }
      }
      async function toggle(row, enabled) {
        try {
          const updated = await hub.rest.patch(`/api/sensitive-words/${row.id}`, { enabled });
          row.enabled = updated.enabled;
          hub.notify.success(enabled ? '已启用' : '已停用');
          loadStatus();
        } catch (err) {
          hub.notify.error(errorText(err));
        }
      }
      async function remove(row) {
        try {
          await hub.rest.delete(`/api/sensitive-words/${row.id}`);
          hub.notify.success('已删除');
          refresh();
        } catch (err) {
          hub.notify.error(errorText(err));
        }
      }

      function openImport() {
        Object.assign(importing, { open: true, summary: null, errors: [], errorTitle: '' });
      }
      function pickFile(event) {
        importing.file = event.target.files[0] || null;
      }
      async function runImport() {
        importing.summary = null;
        importing.errors = [];
        let body;
        let type;
        if (importing.mode === 'text') {
          if (!importing.text.trim()) {
            hub.notify.error('请输入要导入的词');
            return;
          }
          body = importing.text;
          type = 'text/plain; charset=utf-8';
        } else {
          if (!importing.file) {
            hub.notify.error('请选择文件');
            return;
          }
          body = importing.file;
          type = /\.xlsx$/i.test(importing.file.name) ? XLSX : 'text/plain; charset=utf-8';
        }
        importing.busy = true;
        try {
          const path = '/api/sensitive-words/import'
            + queryString({ action: importing.action, category: importing.category });
          importing.summary = await postRaw(hub, path, body, type);
          hub.notify.success('导入完成');
          search();
          loadStatus();
        } catch (err) {
          const details = errorDetails(err);
          importing.errors = details.errors || [];
          importing.errorTitle = errorText(err);
          if (!importing.errors.length) hub.notify.error(errorText(err));
        } finally {
          importing.busy = false;
        }
      }

      onMounted(() => {
        load(null);
        loadStatus();
      });

      return {
        filters, items, loading, saving, next, cursors, status, editing, importing, actions: WORD_ACTIONS, fileInput,
        codeLabel: (code) => IMPORT_CODES[code] || code,
        search, more, prev, openAdd, openEdit, save, toggle, remove, openImport, pickFile, runImport,
        actionLabel: wordActionLabel, actionTag: wordActionTag, time: formatTime,
      };
    },
  },
};
