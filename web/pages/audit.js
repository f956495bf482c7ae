// The audit trail for auditors: its records, newest first, a page at a time,
// and its check (GET /api/v1/audit/verify recomputes every hash chain and
// names the first broken link). Auditors of the committee or the
// administration read every organisation's records; others their own.
// Records name users and resources by identifier only; nothing is stored.
import { addStrings, lang } from '../i18n.js';
import { h, relabel, ensureCss, fmtDateTime, fmtNum, apiError, labelCells } from './kit.js';

const STRINGS = {
  fr: {
    au_title: 'Journal d\'audit',
    au_intro: 'Chaque lecture de données d\'identité et chaque modification sont inscrites dans ce journal, en ajout seul, chaînées par empreintes : une modification ou une suppression après coup casse la chaîne.',
    au_verify: 'Vérifier l\'intégrité du journal', au_verifying: 'Vérification en cours…',
    au_ok: 'Le journal est intact : {n} enregistrements vérifiés, aucune chaîne rompue.',
    au_bad: 'Le journal a été altéré : dans la chaîne {chain}, le premier enregistrement en défaut est le n° {seq} ({n} enregistrements lus).',
    au_filters: 'Filtrer les enregistrements',
    au_from: 'Du (jour)', au_to: 'Au (jour)', au_user: 'Identifiant d\'utilisateur (UUID)', au_case: 'Identifiant de dossier (UUID)',
    au_apply: 'Afficher', au_reset: 'Effacer les filtres',
    au_bad_uuid: 'Un identifiant a la forme 8-4-4-4-12 caractères hexadécimaux.',
    au_bad_dates: 'Le premier jour doit précéder le second.',
    au_records: 'Enregistrements', au_none: 'Aucun enregistrement.',
    au_at: 'Quand', au_action: 'Action', au_who: 'Utilisateur', au_org: 'Organisation',
    au_resource: 'Ressource', au_fields: 'Champs lus ou modifiés', au_address: 'Adresse', au_chain: 'Chaîne · n°',
    au_detail: 'Détail',
    au_newer: '← Plus récents', au_older: 'Plus anciens →', au_page: 'Page {n}',
    au_failed: 'Échec : {msg}', au_network: 'le serveur ne répond pas',
    au_caption: 'Journal d\'audit, page {n}, du plus récent au plus ancien',
    au_system: 'système',
    au_filter_user: 'Afficher les enregistrements de l\'utilisateur {id}',
    au_filter_case: 'Afficher les enregistrements du dossier {id}',
  },
  en: {
    au_title: 'Audit trail',
    au_intro: 'Every read of identity data and every change is recorded in this trail, append-only, chained by hashes: a later change or deletion breaks the chain.',
    au_verify: 'Check the trail\'s integrity', au_verifying: 'Checking…',
    au_ok: 'The trail is intact: {n} records checked, no chain broken.',
    au_bad: 'The trail has been tampered with: in chain {chain}, the first bad record is number {seq} ({n} records read).',
    au_filters: 'Filter the records',
    au_from: 'From (day)', au_to: 'To (day)', au_user: 'User identifier (UUID)', au_case: 'Case identifier (UUID)',
    au_apply: 'Show', au_reset: 'Clear the filters',
    au_bad_uuid: 'An identifier looks like 8-4-4-4-12 hexadecimal characters.',
    au_bad_dates: 'The first day must come before the second.',
    au_records: 'Records', au_none: 'No record.',
    au_at: 'When', au_action: 'Action', au_who: 'User', au_org: 'Organisation',
    au_resource: 'Resource', au_fields: 'Fields read or changed', au_address: 'Address', au_chain: 'Chain · no.',
    au_detail: 'Detail',
    au_newer: '← Newer', au_older: 'Older →', au_page: 'Page {n}',
    au_failed: 'Failed: {msg}', au_network: 'the server does not answer',
    au_caption: 'Audit trail, page {n}, newest first',
    au_system: 'system',
    au_filter_user: 'Show the records of user {id}',
    au_filter_case: 'Show the records of case {id}',
  },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 50;
// Where the auditor was (filters, page, last check), in memory only, so that
// a language switch, which renders the page again, shows the same records.
let memo = null;

export async function render(root, ctx) {
  const { t, api } = ctx;
  addStrings(STRINGS);
  ensureCss('/pages/admin.css');
  const me = ctx.me || {};
  if (memo && memo.user !== me.id) memo = null;
  const state = memo || { user: me.id, cursors: [null], page: 0, items: [], next: null, verdict: null, filters: {} };
  memo = state;

  const result = h('div', { class: 'au-result', role: 'status', 'aria-live': 'polite', tabindex: '-1' });
  const verifyBtn = h('button', { type: 'button', class: 'ad-btn ad-primary', k: 'au_verify', id: 'au-verify' });
  const inputs = {
    from: h('input', { id: 'au-from', name: 'from', type: 'date' }),
    to: h('input', { id: 'au-to', name: 'to', type: 'date' }),
    user_id: h('input', { id: 'au-user', name: 'user_id', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'au-filter-err' }),
    case_id: h('input', { id: 'au-case', name: 'case_id', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'au-filter-err' }),
  };
  const filterErr = h('p', { id: 'au-filter-err', class: 'ad-error', role: 'alert' });
  const fld = (input, key) => h('div', { class: 'ad-field' }, h('label', { for: input.id, k: key }), input);
  const resetBtn = h('button', { type: 'button', class: 'ad-btn', k: 'au_reset' });
  const form = h('form', { class: 'ad-form', novalidate: true },
    h('div', { class: 'ad-row' }, fld(inputs.from, 'au_from'), fld(inputs.to, 'au_to')),
    h('div', { class: 'ad-row' }, fld(inputs.user_id, 'au_user'), fld(inputs.case_id, 'au_case')),
    filterErr,
    h('div', { class: 'ad-row' }, h('button', { type: 'submit', class: 'ad-btn ad-primary', k: 'au_apply' }), resetBtn));
  const listBox = h('div', { class: 'ad-list' });
  const status = h('p', { class: 'ad-live', role: 'status', 'aria-live': 'polite' });
  const newer = h('button', { type: 'button', class: 'ad-btn', k: 'au_newer', id: 'au-newer' });
  const older = h('button', { type: 'button', class: 'ad-btn', k: 'au_older', id: 'au-older' });
  const pageNo = h('span', {});

  const page = h('section', { class: 'ad-page au-page', 'aria-labelledby': 'au-h1' },
    h('h1', { id: 'au-h1', k: 'au_title' }),
    h('p', { k: 'au_intro' }),
    verifyBtn, result,
    h('section', { 'aria-labelledby': 'au-h-filters' }, h('h2', { id: 'au-h-filters', k: 'au_filters' }), form),
    h('section', { 'aria-labelledby': 'au-h-records' }, h('h2', { id: 'au-h-records', k: 'au_records' }),
      status, listBox, h('div', { class: 'au-pager' }, newer, pageNo, older)));
  root.replaceChildren(page);
  relabel(page, t);
  for (const [k, v] of Object.entries(state.filters)) if (v && inputs[k]) inputs[k].value = v;
  drawVerdict();

  // Data (identifiers, codes) is marked translate="no": it reads the same
  // in every language.
  const code = (text) => h('span', { class: 'au-code', translate: 'no' }, text);
  const short = (id) => h('span', { class: 'au-code', translate: 'no', title: id }, `${id.slice(0, 8)}…`);
  const idText = (id) => (id ? short(id) : h('span', { class: 'ad-note' }, t('au_system')));
  // A user's or a case's identifier: a button that filters the trail on it.
  const filterOn = (key, id, labelKey) => h('button', {
    type: 'button', class: 'au-id', translate: 'no', title: id,
    'aria-label': t(labelKey, { id }),
    on: { click: () => { inputs[key].value = id; form.requestSubmit(); } },
  }, `${id.slice(0, 8)}…`);

  function drawVerdict() {
    const v = state.verdict;
    result.className = 'au-result';
    if (!v) { result.textContent = ''; return; }
    if (v.error) { result.classList.add('au-bad'); result.textContent = v.error; return; }
    if (v.ok) {
      result.classList.add('au-ok');
      result.textContent = t('au_ok', { n: fmtNum(v.records, lang()) });
    } else {
      result.classList.add('au-bad');
      result.textContent = t('au_bad', { chain: v.chain || '?', seq: v.first_bad, n: fmtNum(v.records || 0, lang()) });
    }
  }

  function drawList() {
    const l = lang();
    pageNo.textContent = t('au_page', { n: state.page + 1 });
    newer.disabled = state.page === 0;
    older.disabled = !state.next;
    if (state.items.length === 0) { listBox.replaceChildren(h('p', {}, t('au_none'))); return; }
    listBox.replaceChildren(h('div', { class: 'ad-scroll' }, labelCells(h('table', { class: 'ad-table au-table ad-stack' },
      h('caption', { class: 'ad-sr' }, t('au_caption', { n: state.page + 1 })),
      h('thead', {}, h('tr', {}, ['au_at', 'au_action', 'au_who', 'au_org', 'au_resource', 'au_fields', 'au_address', 'au_chain', 'au_detail']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, state.items.map((e) => h('tr', {},
        h('th', { scope: 'row' }, fmtDateTime(e.at, l)),
        h('td', {}, code(e.action)),
        h('td', {}, e.user_id ? filterOn('user_id', e.user_id, 'au_filter_user') : idText(null)),
        h('td', {}, idText(e.organisation_id)),
        h('td', {}, e.resource_type ? [code(e.resource_type), ' ',
          e.resource_type === 'case' && e.resource_id ? filterOn('case_id', e.resource_id, 'au_filter_case')
            : e.resource_id ? short(e.resource_id) : ''] : '—'),
        h('td', {}, Array.isArray(e.fields) && e.fields.length ? code(e.fields.join(', ')) : '—'),
        h('td', {}, e.address ? code(e.address) : '—'),
        h('td', {}, code(`${String(e.chain).slice(0, 8)} · ${e.seq}`)),
        h('td', {}, e.detail ? code(JSON.stringify(e.detail).slice(0, 160)) : '—'))))))));
  }

  async function loadPage() {
    const p = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of Object.entries(state.filters)) if (v) p.set(k, v);
    const cursor = state.cursors[state.page];
    if (cursor) p.set('cursor', cursor);
    page.setAttribute('aria-busy', 'true');
    const r = await api('GET', `/api/v1/audit?${p.toString()}`);
    page.removeAttribute('aria-busy');
    if (r.status !== 200) {
      status.textContent = t('au_failed', { msg: apiError(r, r.status === 0 ? t('au_network') : `HTTP ${r.status}`) });
      return;
    }
    status.textContent = '';
    state.items = r.data.items || [];
    state.next = r.data.next_cursor || null;
    state.cursors[state.page + 1] = state.next;
    drawList();
  }

  verifyBtn.addEventListener('click', async () => {
    verifyBtn.disabled = true;
    result.className = 'au-result';
    result.textContent = t('au_verifying');
    const r = await api('GET', '/api/v1/audit/verify');
    verifyBtn.disabled = false;
    state.verdict = r.status === 200 ? r.data
      : { error: t('au_failed', { msg: apiError(r, r.status === 0 ? t('au_network') : `HTTP ${r.status}`) }) };
    drawVerdict();
    result.focus();
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    filterErr.textContent = '';
    for (const i of Object.values(inputs)) i.removeAttribute('aria-invalid');
    const f = {
      from: inputs.from.value, to: inputs.to.value,
      user_id: inputs.user_id.value.trim(), case_id: inputs.case_id.value.trim(),
    };
    for (const k of ['user_id', 'case_id']) {
      if (f[k] && !UUID.test(f[k])) {
        inputs[k].setAttribute('aria-invalid', 'true');
        filterErr.textContent = t('au_bad_uuid');
        inputs[k].focus();
        return;
      }
    }
    if (f.from && f.to && f.from > f.to) {
      inputs.to.setAttribute('aria-invalid', 'true');
      filterErr.textContent = t('au_bad_dates');
      inputs.to.focus();
      return;
    }
    state.filters = f;
    state.cursors = [null];
    state.page = 0;
    loadPage();
  });
  resetBtn.addEventListener('click', () => {
    for (const i of Object.values(inputs)) { i.value = ''; i.removeAttribute('aria-invalid'); }
    filterErr.textContent = '';
    state.filters = {};
    state.cursors = [null];
    state.page = 0;
    loadPage();
  });
  newer.addEventListener('click', () => { if (state.page > 0) { state.page -= 1; loadPage(); } });
  older.addEventListener('click', () => { if (state.next) { state.page += 1; loadPage(); } });

  await loadPage();
}
