// Passerelle in the browser: the shell. Signs in and out, routes on the hash
// (#/home, #/cases/new, #/cases/<id>, #/inbox, #/stats, #/admin, #/audit),
// shows the navigation the user's role allows, and loads each page module
// (web/pages/<name>.js) only when it is routed to.
//
// Page contract: a module exporting `async function render(root, ctx)`, with
// ctx = { me, t, lang, api, download, navigate, params, sop }:
//   me        the signed-in user as GET /api/v1/me returns it
//   t, lang   from i18n.js; api, download from api.js
//   navigate  navigate('#/cases/<id>') or navigate('/cases/<id>')
//   params    what the route captured, e.g. { id } for #/cases/<id>
//   sop       () => Promise of the loaded SOP (GET /api/v1/sop, cached)
// render() fills root (already in the document) and resolves once its forms
// are built. On a language switch, and after signing in again when the
// session expired, the shell renders the page again and puts back what was
// typed into its inputs (matched by id, else name): keep those stable.
//
// Nothing is stored but the language, and the CSRF token in this tab's
// sessionStorage (api.js): on load (a reload too) the shell asks
// GET /api/v1/session with it and continues signed in on the same route; a
// new tab, or a browser left open for the next person, has no token, and
// the server refuses the cookie alone: the sign-in page. Unsaved input survives a session that ended on
// inactivity in memory only, and only for the same user.
import { t, lang, setLang, applyLabels } from './i18n.js';
import { api, download, setCsrf, signedIn, onSessionExpired } from './api.js';
import { loadSop, forgetSop } from './sop.js';

const IDLE_MS = 29 * 60 * 1000;	// the server ends sessions after 30 min
const UUID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const ROUTES = [
  { re: /^home$/, page: 'home', area: 'cases' },
  { re: /^cases\/new$/, page: 'register', area: 'cases' },
  { re: new RegExp(`^cases/${UUID}$`), page: 'case', area: 'cases', keys: ['id'] },
  { re: /^inbox$/, page: 'inbox', area: 'cases' },
  { re: new RegExp(`^inbox/${UUID}$`), page: 'inbox', area: 'cases', keys: ['id'] },
  { re: /^stats$/, page: 'stats', area: 'stats' },
  { re: /^admin$/, page: 'admin', area: 'admin' },
  { re: /^audit$/, page: 'audit', area: 'audit' },
  { re: /^password$/, page: 'password', area: 'any' },
];
const NAV = [
  { hash: '#/home', key: 'nav_home', area: 'cases' },
  { hash: '#/cases/new', key: 'nav_new', area: 'cases' },
  { hash: '#/inbox', key: 'nav_inbox', area: 'cases' },
  { hash: '#/stats', key: 'nav_stats', area: 'stats' },
  { hash: '#/admin', key: 'nav_admin', area: 'admin' },
  { hash: '#/audit', key: 'nav_audit', area: 'audit' },
];

let me = null;
let kept = null;	// { user, hash, values } while signed out after expiry
let restore = null;	// values to put back after the next render
let renderSeq = 0;
let lastActivity = Date.now();
let noteKey = '';	// the sign-in page's notice, as a label key

const $ = (id) => document.getElementById(id);

// What the user's organisation kind and role open.
function areas(user) {
  const a = new Set();
  const kind = user.organisation.kind;
  if ((user.role === 'caseworker' || user.role === 'supervisor') &&
      kind !== 'committee' && kind !== 'administration') a.add('cases');
  if (user.role === 'analyst' || user.role === 'supervisor') a.add('stats');
  // Administrators; supervisors of field organisations approve their own
  // organisation's new accounts there (the two-person rule).
  if (user.role === 'admin' || (user.role === 'supervisor' && a.has('cases'))) a.add('admin');
  if (user.role === 'auditor') a.add('audit');
  a.add('any');
  return a;
}

function defaultHash(user) {
  const open = areas(user);
  const n = NAV.find((x) => open.has(x.area));
  return n ? n.hash : '#/home';
}

export function navigate(where) {
  const h = where.startsWith('#') ? where : `#${where.startsWith('/') ? '' : '/'}${where}`;
  if (location.hash === h) route();
  else location.hash = h;
}

function setStatus(text) { $('status').textContent = text || ''; }

// --- input kept across re-renders ------------------------------------------

function inputKey(e) {
  const k = e.id || e.name;
  if (!k) return null;
  return (e.type === 'checkbox' || e.type === 'radio') ? `${k}\u0000${e.value}` : k;
}

function snapshot() {
  const values = new Map();
  for (const e of $('page').querySelectorAll('input, select, textarea')) {
    if (e.type === 'password' || e.type === 'file' || e.type === 'hidden') continue;
    const k = inputKey(e);
    if (!k) continue;
    if (e.type === 'checkbox' || e.type === 'radio') { if (e.checked !== e.defaultChecked) values.set(k, e.checked); }
    else if (e.tagName === 'SELECT') { if (!e.options[e.selectedIndex]?.defaultSelected && e.value !== '') values.set(k, e.value); }
    else if (e.value !== e.defaultValue) values.set(k, e.value);
  }
  return values;
}

function putBack(values) {
  if (!values || values.size === 0) return;
  for (const e of $('page').querySelectorAll('input, select, textarea')) {
    const k = inputKey(e);
    if (!k || !values.has(k)) continue;
    const v = values.get(k);
    if (e.type === 'checkbox' || e.type === 'radio') e.checked = v;
    else e.value = v;
    // A <details> holding restored input opens so that it is seen.
    const d = e.closest('details');
    if (d) d.open = true;
  }
}

// --- views --------------------------------------------------------------------

function renderNav() {
  const list = $('nav-list');
  list.replaceChildren();
  $('nav').setAttribute('aria-label', t('nav'));
  if (!me) { $('nav').hidden = true; return; }
  const open = areas(me);
  const here = location.hash.split('/').slice(0, 2).join('/');
  for (const n of NAV) {
    if (!open.has(n.area)) continue;
    const a = document.createElement('a');
    a.href = n.hash;
    a.textContent = t(n.key === 'nav_admin' && me.role !== 'admin' ? 'nav_accounts' : n.key);
    const cur = n.hash === location.hash || (n.hash === '#/home' && here === '#/cases' && location.hash !== '#/cases/new');
    if (cur) a.setAttribute('aria-current', 'page');
    const li = document.createElement('li');
    li.appendChild(a);
    list.appendChild(li);
  }
  $('nav').hidden = false;
}

function renderChrome() {
  applyLabels();
  document.title = 'Passerelle';
  $('lang').textContent = t('other_lang');
  $('lang').lang = lang() === 'fr' ? 'en' : 'fr';
  $('who').textContent = me ? t('signed_in_as', { user: me.username, org: me.organisation.name }) : '';
  $('who').title = $('who').textContent;
  $('logout').hidden = !me;
  $('pwlink').hidden = !me;
  renderNav();
}

function showLogin(key) {
  if (key !== undefined) noteKey = key;
  const note = noteKey ? t(noteKey) : '';
  renderSeq += 1;
  $('page').replaceChildren();
  $('page').hidden = true;
  $('login-view').hidden = false;
  const n = $('login-note');
  n.textContent = note || '';
  n.hidden = !note;
  $('login-error').textContent = '';
  renderChrome();
  $('username').focus();
}

function pageMessage(text) {
  const p = document.createElement('p');
  p.className = 'msg msg-info';
  p.textContent = text;
  return p;
}

async function route() {
  if (!me) { showLogin(); return; }
  const path = location.hash.replace(/^#\/?/, '');
  if (path === '') { location.replace(defaultHash(me)); return; }
  if (me.must_change_password && path !== 'password') { location.replace('#/password'); return; }
  renderChrome();
  $('login-view').hidden = true;
  const page = $('page');
  page.hidden = false;
  delete page.dataset.route;	// set again once the page is shown (tests wait on it)
  const seq = ++renderSeq;
  const root = document.createElement('div');
  root.className = 'page';
  root.setAttribute('aria-busy', 'true');
  root.appendChild(pageMessage(t('loading')));
  page.replaceChildren(root);
  let r = null, m = null;
  for (const x of ROUTES) if ((m = x.re.exec(path))) { r = x; break; }
  const shown = (msgKey) => {
    if (msgKey) root.replaceChildren(pageMessage(t(msgKey)));
    root.removeAttribute('aria-busy');
    page.dataset.route = path;
  };
  if (!r) { shown('not_found_page'); return; }
  if (!areas(me).has(r.area)) { shown('forbidden_page'); return; }
  const params = {};
  (r.keys || []).forEach((k, i) => { params[k] = m[i + 1]; });
  let mod;
  try {
    mod = await import(`./pages/${r.page}.js`);
  } catch {
    if (seq === renderSeq) shown('not_available');
    return;
  }
  if (seq !== renderSeq) return;
  const ctx = { me, t, lang, api, download, navigate, params, sop: loadSop };
  root.replaceChildren();
  try {
    await mod.render(root, ctx);
  } catch (e) {
    if (seq !== renderSeq || !me) return;
    console.warn('page', r.page, e);
    root.replaceChildren(pageMessage(t('page_error')));
  }
  if (seq !== renderSeq) return;
  if (restore) { putBack(restore); restore = null; }
  shown(null);
  const h1 = root.querySelector('h1');
  if (h1 && document.activeElement === document.body) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
}

// --- session ------------------------------------------------------------------

function endSession(note, keep) {
  if (me && keep) kept = { user: me.username, hash: location.hash, values: snapshot() };
  me = null;
  setCsrf(null);
  forgetSop();
  showLogin(note);
}

onSessionExpired(() => endSession('expired', true));

async function signIn(ev) {
  ev.preventDefault();
  const f = ev.target;
  const err = $('login-error');
  err.textContent = '';
  const username = f.username.value.trim().toLowerCase();
  if (!username || !f.password.value) { err.textContent = t('required'); return; }
  const r = await api('POST', '/api/v1/session', { username, password: f.password.value });
  f.password.value = '';
  if (r.status !== 200) {
    err.textContent = r.status === 401 ? t('bad_login') : r.status === 429 ? t('throttled')
      : r.status === 0 ? t('network') : t('error');
    return;
  }
  enter(r.data);
  f.username.value = '';
  let hash = location.hash;
  if (kept) {
    if (kept.user === me.username) { restore = kept.values; hash = kept.hash; }
    else { setStatus(t('other_user')); hash = ''; }
    kept = null;
  }
  if (!hash || hash === '#' || hash === '#/') hash = defaultHash(me);
  if (me.must_change_password) hash = '#/password';
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function signOut() {
  const r = await api('DELETE', '/api/v1/session');
  kept = null;
  restore = null;
  // 204, or 401 when the session had already ended: signed out. Else the
  // server may still hold it: the token is forgotten here all the same
  // (the cookie alone reaches nothing), and the person is told.
  endSession(r.status === 204 || r.status === 401 ? 'signed_out' : 'signed_out_unsure', false);
  history.replaceState(null, '', location.pathname);
}

// Signed in: the shell opens the route asked (or the default one).
function enter(data) {
  setCsrf(data.csrf_token);
  me = data.user;
  lastActivity = Date.now();
  noteKey = '';
  $('login-note').textContent = '';
  $('login-note').hidden = true;
}

// On load: a session that is still alive (the page was reloaded, or opened
// again in this browser) carries on where it is; else the sign-in page.
async function resume() {
  const page = $('page');
  page.hidden = false;
  if (!signedIn()) { showLogin(''); return; }	// no token in this tab
  page.replaceChildren(pageMessage(t('loading')));
  const r = await api('GET', '/api/v1/session');
  if (me) return;	// signed in meanwhile
  if (r.status !== 200 || !r.data || !r.data.user) {
    if (r.status !== 0) setCsrf(null);
    showLogin(r.status === 0 ? 'network' : '');
    return;
  }
  enter(r.data);
  route();	// sends a pending password change to #/password
}

function idleCheck() {
  if (me && Date.now() - lastActivity > IDLE_MS) {
    // End it on the server too (a shared computer), then as if it expired.
    api('DELETE', '/api/v1/session').finally(() => {
      if (me) endSession('expired', true);
    });
  }
}

function start() {
  renderChrome();
  $('lang').addEventListener('click', () => {
    if (me) restore = snapshot();
    setLang(lang() === 'fr' ? 'en' : 'fr');
    if (me) route();
    else {
      const n = $('login-note');
      n.textContent = noteKey ? t(noteKey) : '';
      renderChrome();
    }
  });
  $('logout').addEventListener('click', signOut);
  // A click on the link of the page already shown loads it again.
  $('nav').addEventListener('click', (ev) => {
    const a = ev.target.closest('a');
    if (a && a.getAttribute('href') === location.hash) { ev.preventDefault(); route(); }
  });
  $('login-form').addEventListener('submit', signIn);
  window.addEventListener('hashchange', () => { setStatus(''); route(); });
  for (const ev of ['keydown', 'pointerdown', 'input', 'wheel'])
    document.addEventListener(ev, () => { lastActivity = Date.now(); }, { passive: true, capture: true });
  setInterval(idleCheck, 15000);
  resume();
}

start();
