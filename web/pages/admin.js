// Administration: organisations and accounts (role admin), and the approval
// of accounts by a supervisor of a field organisation (the two-person rule:
// an account that the administration opens, or whose password it resets, in
// an organisation that handles cases stays inactive until a supervisor of
// that organisation approves it). No victim data here; nothing stored.
import { addStrings, lang } from '../i18n.js';
import { h, relabel, ensureCss, loadSop, sopCodes, sopLabel, fmtDate, apiError, labelCells } from './kit.js';

const STRINGS = {
  fr: {
    ad_title: 'Administration',
    ad_title_sup: 'Comptes de mon organisation',
    ad_intro: 'Organisations et comptes de la plateforme. L\'administration n\'a aucun accès aux données des victimes.',
    ad_rule: 'Règle des deux personnes : un compte ouvert par l\'administration dans une organisation qui traite des dossiers (ou dont l\'administration réinitialise le mot de passe) reste inactif jusqu\'à ce qu\'un·e superviseur·e de cette organisation l\'approuve.',
    ad_rule_sup: 'Règle des deux personnes : les comptes que l\'administration ouvre dans votre organisation, ou dont elle réinitialise le mot de passe, attendent votre approbation. Approuvez seulement une personne que vous connaissez et qui en a besoin.',
    ad_pending: 'Comptes en attente d\'approbation',
    ad_pending_none: 'Aucun compte n\'attend d\'approbation.',
    ad_accounts: 'Comptes', ad_orgs: 'Organisations',
    ad_new_account: 'Ouvrir un compte', ad_new_org: 'Créer une organisation',
    ad_username: 'Identifiant', ad_username_hint: '3 à 64 caractères : lettres minuscules, chiffres, point, tiret.',
    ad_role: 'Rôle', ad_org: 'Organisation', ad_temp_password: 'Mot de passe provisoire',
    ad_password_hint: '12 caractères au moins, sans l\'identifiant. La personne devra le changer à sa première connexion. Transmettez-le par un autre canal.',
    ad_generate: 'Générer un mot de passe',
    ad_create_account: 'Ouvrir le compte', ad_create_org: 'Créer l\'organisation',
    ad_name: 'Nom', ad_kind: 'Type', ad_region: 'Région', ad_region_none: '— aucune —',
    ad_services: 'Services offerts (pour les orientations)',
    ad_status: 'État', ad_created: 'Ouvert le', ad_actions: 'Actions',
    ad_active: 'Actif', ad_inactive: 'Désactivé',
    ad_waiting: 'En attente d\'approbation par un·e superviseur·e de {org}',
    ad_waiting_you: 'En attente de votre approbation (ou d\'un·e autre superviseur·e)',
    ad_must_change: 'mot de passe provisoire',
    ad_deactivate: 'Désactiver', ad_reactivate: 'Réactiver', ad_reset: 'Réinitialiser le mot de passe',
    ad_approve: 'Approuver', ad_suspend: 'Suspendre',
    ad_reset_for: 'Nouveau mot de passe provisoire pour {user}',
    ad_reset_do: 'Enregistrer', ad_cancel: 'Annuler',
    ad_filter: 'Afficher les comptes de', ad_all_orgs: 'toutes les organisations',
    ad_created_pending: 'Compte {user} ouvert. Il reste inactif jusqu\'à ce qu\'un·e superviseur·e de {org} l\'approuve.',
    ad_created_active: 'Compte {user} ouvert et actif. Le mot de passe provisoire devra être changé à la première connexion.',
    ad_org_created: 'Organisation {name} créée.',
    ad_done_deactivate: 'Compte {user} désactivé : ses sessions sont terminées.',
    ad_done_reactivate: 'Compte {user} réactivé.',
    ad_done_reset: 'Mot de passe de {user} réinitialisé.',
    ad_done_reset_pending: 'Mot de passe de {user} réinitialisé : le compte attend l\'approbation d\'un·e superviseur·e de {org}.',
    ad_done_approve: 'Compte {user} approuvé : il peut se connecter.',
    ad_done_suspend: 'Compte {user} suspendu.',
    ad_failed: 'Échec : {msg}', ad_network: 'le serveur ne répond pas',
    ad_required: 'Ce champ est obligatoire.',
    ad_you: '(vous)', ad_no_accounts: 'Aucun compte.',
    ad_load_failed: 'La liste n\'a pas pu être chargée : {msg}',
  },
  en: {
    ad_title: 'Administration',
    ad_title_sup: 'Accounts of my organisation',
    ad_intro: 'Organisations and accounts of the platform. The administration has no access to victims\' data.',
    ad_rule: 'Two-person rule: an account the administration opens in an organisation that handles cases (or whose password it resets) stays inactive until a supervisor of that organisation approves it.',
    ad_rule_sup: 'Two-person rule: accounts the administration opens in your organisation, or whose password it resets, wait for your approval. Approve only someone you know who needs it.',
    ad_pending: 'Accounts waiting for approval',
    ad_pending_none: 'No account is waiting for approval.',
    ad_accounts: 'Accounts', ad_orgs: 'Organisations',
    ad_new_account: 'Open an account', ad_new_org: 'Create an organisation',
    ad_username: 'User name', ad_username_hint: '3 to 64 characters: lower-case letters, digits, dot, hyphen.',
    ad_role: 'Role', ad_org: 'Organisation', ad_temp_password: 'Temporary password',
    ad_password_hint: 'At least 12 characters, without the user name. The person must change it at first sign-in. Pass it on through another channel.',
    ad_generate: 'Generate a password',
    ad_create_account: 'Open the account', ad_create_org: 'Create the organisation',
    ad_name: 'Name', ad_kind: 'Kind', ad_region: 'Region', ad_region_none: '— none —',
    ad_services: 'Services offered (for referrals)',
    ad_status: 'Status', ad_created: 'Opened', ad_actions: 'Actions',
    ad_active: 'Active', ad_inactive: 'Deactivated',
    ad_waiting: 'Waiting for approval by a supervisor of {org}',
    ad_waiting_you: 'Waiting for your approval (or another supervisor\'s)',
    ad_must_change: 'temporary password',
    ad_deactivate: 'Deactivate', ad_reactivate: 'Reactivate', ad_reset: 'Reset the password',
    ad_approve: 'Approve', ad_suspend: 'Suspend',
    ad_reset_for: 'New temporary password for {user}',
    ad_reset_do: 'Save', ad_cancel: 'Cancel',
    ad_filter: 'Show the accounts of', ad_all_orgs: 'every organisation',
    ad_created_pending: 'Account {user} opened. It stays inactive until a supervisor of {org} approves it.',
    ad_created_active: 'Account {user} opened and active. The temporary password must be changed at first sign-in.',
    ad_org_created: 'Organisation {name} created.',
    ad_done_deactivate: 'Account {user} deactivated: its sessions are ended.',
    ad_done_reactivate: 'Account {user} reactivated.',
    ad_done_reset: 'Password of {user} reset.',
    ad_done_reset_pending: 'Password of {user} reset: the account waits for approval by a supervisor of {org}.',
    ad_done_approve: 'Account {user} approved: it can sign in.',
    ad_done_suspend: 'Account {user} suspended.',
    ad_failed: 'Failed: {msg}', ad_network: 'the server does not answer',
    ad_required: 'This field is required.',
    ad_you: '(you)', ad_no_accounts: 'No account.',
    ad_load_failed: 'The list could not be loaded: {msg}',
  },
};

// Organisation kinds whose accounts reach victims' files (server/auth).
const FIELD = new Set(['police', 'ngo', 'shelter', 'one_stop_center', 'child_protection',
  'labour_inspection', 'judiciary']);
// Services an organisation may offer (API.md's fixed codes).
const SERVICES = ['shelter', 'medical', 'psychosocial', 'legal_aid', 'family_tracing', 'return',
  'reintegration', 'child_protection', 'interpretation'];
const ROLES = ['caseworker', 'supervisor', 'analyst', 'auditor', 'admin'];
const KINDS = ['police', 'ngo', 'shelter', 'one_stop_center', 'child_protection',
  'labour_inspection', 'judiciary', 'committee', 'administration'];

// A temporary password: 16 letters and digits from the browser's CSPRNG,
// without look-alikes, in groups of four to be read out.
function generatePassword() {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out = [];
  const buf = new Uint8Array(32);
  while (out.length < 16) {
    crypto.getRandomValues(buf);
    for (const b of buf) {
      if (b < 220 && out.length < 16) out.push(alphabet[b % 55]);
    }
  }
  return [0, 4, 8, 12].map((i) => out.slice(i, i + 4).join('')).join('-');
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  addStrings(STRINGS);
  ensureCss('/pages/admin.css');
  const me = ctx.me || {};
  const isAdmin = me.role === 'admin';
  const sop = await (ctx.sop ? ctx.sop().catch(() => null) : loadSop(api));
  const label = (cat, code) => (code ? sopLabel(sop, cat, code, lang()) || code : '—');
  const state = { orgs: [], users: [], filter: '' };

  const live = h('p', { class: 'ad-live', role: 'status', 'aria-live': 'polite', tabindex: '-1' });
  const orgName = (id) => {
    const o = state.orgs.find((x) => x.id === id);
    return o ? o.name : (id === me.organisation?.id ? me.organisation.name : id);
  };
  const orgKind = (id) => {
    const o = state.orgs.find((x) => x.id === id);
    return o ? o.kind : (id === me.organisation?.id ? me.organisation.kind : '');
  };
  const waiting = (u) => !u.active && FIELD.has(orgKind(u.organisation_id));
  const say = (text) => { live.textContent = text; };
  const fail = (r) => say(t('ad_failed', { msg: apiError(r, r.status === 0 ? t('ad_network') : `HTTP ${r.status}`) }));

  async function load() {
    const [ro, ru] = await Promise.all([
      api('GET', '/api/v1/organisations'),
      api('GET', '/api/v1/users'),
    ]);
    if (ro.status === 200) state.orgs = ro.data.items || [];
    if (ru.status !== 200) { fail(ru); state.users = []; return; }
    state.users = ru.data.items || [];
  }

  async function patchUser(u, body, doneKey) {
    const r = await api('PATCH', `/api/v1/users/${encodeURIComponent(u.id)}`, body);
    if (r.status !== 200) { fail(r); return false; }
    await load();
    drawLists();
    const pending = r.data && !r.data.active && FIELD.has(orgKind(u.organisation_id));
    const key = doneKey === 'ad_done_reset' && pending ? 'ad_done_reset_pending' : doneKey;
    say(t(key, { user: u.username, org: orgName(u.organisation_id) }));
    return true;
  }

  // --- the lists ------------------------------------------------------------
  const pendingBox = h('div', { class: 'ad-list' });
  const usersBox = h('div', { class: 'ad-list' });
  const orgsBox = h('div', { class: 'ad-list' });

  function statusOf(u) {
    if (u.active) return h('span', { class: 'ad-badge ad-ok' }, t('ad_active'));
    if (waiting(u)) return h('span', { class: 'ad-badge ad-wait' }, isAdmin ? t('ad_waiting', { org: orgName(u.organisation_id) }) : t('ad_waiting_you'));
    return h('span', { class: 'ad-badge ad-off' }, t('ad_inactive'));
  }

  function resetForm(u, cell) {
    const pid = `ad-reset-${u.id}`;
    const input = h('input', { id: pid, type: 'text', autocomplete: 'off', spellcheck: 'false', required: true, minlength: '12', value: generatePassword() });
    const err = h('p', { class: 'ad-error', role: 'alert' });
    const f = h('form', { class: 'ad-inline', novalidate: true },
      h('label', { for: pid }, t('ad_reset_for', { user: u.username })),
      h('div', { class: 'ad-row' }, input,
        h('button', { type: 'button', class: 'ad-btn', on: { click: () => { input.value = generatePassword(); input.focus(); } } }, t('ad_generate'))),
      err,
      h('div', { class: 'ad-row' },
        h('button', { type: 'submit', class: 'ad-btn ad-primary' }, t('ad_reset_do')),
        h('button', { type: 'button', class: 'ad-btn', on: { click: () => { drawLists(); } } }, t('ad_cancel'))));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (input.value.length < 12) { err.textContent = t('ad_password_hint'); input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
      const ok = await patchUser(u, { password: input.value }, 'ad_done_reset');
      if (ok) live.focus();
    });
    cell.replaceChildren(f);
    input.select();
    input.focus();
  }

  function actionsFor(u) {
    const self = u.id === me.id;
    const box = h('div', { class: 'ad-actions' });
    const cell = h('td', {}, box);
    const btn = (key, fn, cls) => h('button', { type: 'button', class: `ad-btn ${cls || ''}`, 'data-user': u.username, 'data-action': key, on: { click: fn } }, t(key));
    if (!isAdmin) {
      if (!u.active) box.append(btn('ad_approve', () => patchUser(u, { active: true }, 'ad_done_approve'), 'ad-primary'));
      else if (!self) box.append(btn('ad_suspend', () => patchUser(u, { active: false }, 'ad_done_suspend')));
      return cell;
    }
    if (u.active && !self) box.append(btn('ad_deactivate', () => patchUser(u, { active: false }, 'ad_done_deactivate')));
    if (!u.active && !FIELD.has(orgKind(u.organisation_id))) box.append(btn('ad_reactivate', () => patchUser(u, { active: true }, 'ad_done_reactivate')));
    if (!self) box.append(btn('ad_reset', () => resetForm(u, cell)));
    return cell;
  }

  function usersTable(users, caption) {
    if (users.length === 0) return h('p', {}, t('ad_no_accounts'));
    return h('div', { class: 'ad-scroll' }, labelCells(h('table', { class: 'ad-table ad-stack' },
      h('caption', { class: 'ad-sr' }, caption),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('ad_username')),
        h('th', { scope: 'col' }, t('ad_role')),
        isAdmin ? h('th', { scope: 'col' }, t('ad_org')) : null,
        h('th', { scope: 'col' }, t('ad_status')),
        h('th', { scope: 'col' }, t('ad_created')),
        h('th', { scope: 'col' }, t('ad_actions')))),
      h('tbody', {}, users.map((u) => h('tr', { 'data-user': u.username },
        h('th', { scope: 'row' }, h('span', { translate: 'no' }, u.username), u.id === me.id ? ` ${t('ad_you')}` : ''),
        h('td', {}, label('role', u.role)),
        isAdmin ? h('td', {}, orgName(u.organisation_id)) : null,
        h('td', {}, statusOf(u), u.must_change_password ? h('span', { class: 'ad-note' }, ` · ${t('ad_must_change')}`) : null),
        h('td', { class: 'ad-nowrap' }, fmtDate(u.created_at, lang())),
        actionsFor(u)))))));
  }

  function drawLists() {
    const pend = state.users.filter(waiting);
    pendingBox.replaceChildren(pend.length ? usersTable(pend, t('ad_pending')) : h('p', {}, t('ad_pending_none')));
    const shown = state.filter ? state.users.filter((u) => u.organisation_id === state.filter) : state.users;
    usersBox.replaceChildren(usersTable(shown, t('ad_accounts')));
    if (isAdmin) {
      orgsBox.replaceChildren(h('div', { class: 'ad-scroll' }, labelCells(h('table', { class: 'ad-table ad-stack' },
        h('caption', { class: 'ad-sr' }, t('ad_orgs')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('ad_name')), h('th', { scope: 'col' }, t('ad_kind')),
          h('th', { scope: 'col' }, t('ad_region')), h('th', { scope: 'col' }, t('ad_services')))),
        h('tbody', {}, state.orgs.map((o) => h('tr', {},
          h('th', { scope: 'row' }, o.name), h('td', {}, label('kind', o.kind)),
          h('td', {}, label('region', o.region)),
          h('td', {}, (o.services || []).map((s) => label('service', s)).join(', ') || '—'))))))));
      fillOrgSelects();
    }
  }

  // --- forms (administration only) -----------------------------------------
  const field = (id, key, input, hint) => h('div', { class: 'ad-field' },
    h('label', { for: id, k: key }), input,
    hint ? h('p', { id: `${id}-hint`, class: 'ad-hint', k: hint }) : null,
    h('p', { id: `${id}-err`, class: 'ad-error', role: 'alert' }));
  const option = (value, text) => h('option', { value, text });

  const uName = h('input', { id: 'ad-u-name', name: 'username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true, maxlength: '64', 'aria-describedby': 'ad-u-name-hint ad-u-name-err' });
  const uRole = h('select', { id: 'ad-u-role', name: 'role', required: true, 'aria-describedby': 'ad-u-role-err' },
    ROLES.map((r) => option(r, label('role', r))));
  const uOrg = h('select', { id: 'ad-u-org', name: 'organisation_id', required: true, 'aria-describedby': 'ad-u-org-err' });
  const uPass = h('input', { id: 'ad-u-pass', name: 'temp_password', type: 'text', autocomplete: 'off', spellcheck: 'false', required: true, minlength: '12', 'aria-describedby': 'ad-u-pass-hint ad-u-pass-err' });
  const genBtn = h('button', { type: 'button', class: 'ad-btn', k: 'ad_generate' });
  genBtn.addEventListener('click', () => { uPass.value = generatePassword(); uPass.focus(); });
  const userForm = h('form', { class: 'ad-form', novalidate: true, id: 'ad-user-form' },
    field('ad-u-name', 'ad_username', uName, 'ad_username_hint'),
    h('div', { class: 'ad-row' },
      field('ad-u-role', 'ad_role', uRole),
      field('ad-u-org', 'ad_org', uOrg)),
    field('ad-u-pass', 'ad_temp_password', h('div', { class: 'ad-row' }, uPass, genBtn), 'ad_password_hint'),
    h('button', { type: 'submit', class: 'ad-btn ad-primary', k: 'ad_create_account' }));

  const oName = h('input', { id: 'ad-o-name', name: 'org_name', autocomplete: 'off', required: true, maxlength: '200', 'aria-describedby': 'ad-o-name-err' });
  const oKind = h('select', { id: 'ad-o-kind', name: 'kind', required: true, 'aria-describedby': 'ad-o-kind-err' }, KINDS.map((k) => option(k, label('kind', k))));
  const oRegion = h('select', { id: 'ad-o-region', name: 'region', 'aria-describedby': 'ad-o-region-err' },
    option('', t('ad_region_none')), sopCodes(sop, 'region').map((c) => option(c.code, label('region', c.code))));
  const oServices = h('fieldset', { class: 'ad-checks' }, h('legend', { k: 'ad_services' }),
    SERVICES.map((s) => h('label', { class: 'ad-check' },
      h('input', { type: 'checkbox', name: 'services', value: s }), ` ${label('service', s)}`)));
  const orgForm = h('form', { class: 'ad-form', novalidate: true, id: 'ad-org-form' },
    field('ad-o-name', 'ad_name', oName),
    h('div', { class: 'ad-row' }, field('ad-o-kind', 'ad_kind', oKind), field('ad-o-region', 'ad_region', oRegion)),
    oServices,
    h('button', { type: 'submit', class: 'ad-btn ad-primary', k: 'ad_create_org' }));

  const filterSel = h('select', { id: 'ad-filter', name: 'filter' });
  filterSel.addEventListener('change', () => { state.filter = filterSel.value; drawLists(); });

  function fillOrgSelects() {
    const keepU = uOrg.value;
    const keepF = filterSel.value;
    const opts = state.orgs.map((o) => option(o.id, `${o.name} (${label('kind', o.kind)})`));
    uOrg.replaceChildren(...opts.map((o) => o.cloneNode(true)));
    filterSel.replaceChildren(option('', t('ad_all_orgs')), ...opts);
    if (keepU) uOrg.value = keepU;
    filterSel.value = keepF;
  }

  function clearErrors(form) {
    for (const e of form.querySelectorAll('.ad-error')) e.textContent = '';
    for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  }
  function fieldError(map, field, text) {
    const input = map[field];
    if (!input) return false;
    input.setAttribute('aria-invalid', 'true');
    const e = document.getElementById(`${input.id}-err`);
    if (e) e.textContent = text;
    input.focus();
    return true;
  }

  userForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(userForm);
    live.textContent = '';
    const map = { username: uName, role: uRole, organisation_id: uOrg, password: uPass };
    const username = uName.value.trim().toLowerCase();
    for (const [k, v] of [['username', username], ['organisation_id', uOrg.value], ['password', uPass.value]])
      if (!v) { fieldError(map, k, t('ad_required')); return; }
    if (uPass.value.length < 12) { fieldError(map, 'password', t('ad_password_hint')); return; }
    const r = await api('POST', '/api/v1/users', { username, password: uPass.value, role: uRole.value, organisation_id: uOrg.value });
    if (r.status !== 201) {
      const f = r.data && r.data.error && r.data.error.field;
      if (!f || !fieldError(map, f, apiError(r, t('ad_failed', { msg: r.status })))) fail(r);
      return;
    }
    const org = orgName(uOrg.value);
    uName.value = '';
    uPass.value = '';
    await load();
    drawLists();
    say(t(r.data.pending_approval ? 'ad_created_pending' : 'ad_created_active', { user: username, org }));
    live.focus();
  });

  orgForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(orgForm);
    live.textContent = '';
    const map = { name: oName, kind: oKind, region: oRegion, services: oServices.querySelector('input') };
    const name = oName.value.trim();
    if (!name) { fieldError(map, 'name', t('ad_required')); return; }
    const services = [...oServices.querySelectorAll('input:checked')].map((x) => x.value);
    const body = { name, kind: oKind.value, region: oRegion.value || null };
    if (services.length) body.services = services;
    const r = await api('POST', '/api/v1/organisations', body);
    if (r.status !== 201) {
      const f = r.data && r.data.error && r.data.error.field;
      if (!f || !fieldError(map, f, apiError(r, ''))) fail(r);
      return;
    }
    oName.value = '';
    for (const c of oServices.querySelectorAll('input:checked')) c.checked = false;
    await load();
    drawLists();
    say(t('ad_org_created', { name }));
    live.focus();
  });

  // --- the page --------------------------------------------------------------
  const page = isAdmin
    ? h('section', { class: 'ad-page', 'aria-labelledby': 'ad-h1' },
      h('h1', { id: 'ad-h1', k: 'ad_title' }),
      h('p', { k: 'ad_intro' }),
      h('p', { class: 'ad-rule', k: 'ad_rule' }),
      live,
      h('section', { 'aria-labelledby': 'ad-h-pending' }, h('h2', { id: 'ad-h-pending', k: 'ad_pending' }), pendingBox),
      h('section', { 'aria-labelledby': 'ad-h-new' }, h('h2', { id: 'ad-h-new', k: 'ad_new_account' }), userForm),
      h('section', { 'aria-labelledby': 'ad-h-accounts' }, h('h2', { id: 'ad-h-accounts', k: 'ad_accounts' }),
        h('div', { class: 'ad-field ad-filter' }, h('label', { for: 'ad-filter', k: 'ad_filter' }), filterSel),
        usersBox),
      h('section', { 'aria-labelledby': 'ad-h-orgs' }, h('h2', { id: 'ad-h-orgs', k: 'ad_orgs' }), orgsBox),
      h('section', { 'aria-labelledby': 'ad-h-new-org' }, h('h2', { id: 'ad-h-new-org', k: 'ad_new_org' }), orgForm))
    : h('section', { class: 'ad-page', 'aria-labelledby': 'ad-h1' },
      h('h1', { id: 'ad-h1', k: 'ad_title_sup' }),
      h('p', { class: 'ad-rule', k: 'ad_rule_sup' }),
      live,
      h('section', { 'aria-labelledby': 'ad-h-pending' }, h('h2', { id: 'ad-h-pending', k: 'ad_pending' }), pendingBox),
      h('section', { 'aria-labelledby': 'ad-h-accounts' }, h('h2', { id: 'ad-h-accounts', k: 'ad_accounts' }), usersBox));

  root.replaceChildren(page);
  relabel(page, t);
  await load();
  drawLists();
}
