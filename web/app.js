// Passerelle in the browser: sign-in, the organisation's inbox counts and
// cases. Speaks only the JSON API; keeps no victim data in storage or URLs
// (only the chosen language is remembered).
import { t, lang, setLang, applyLabels } from './i18n.js';

let csrf = null;

async function api(method, path, body) {
  const headers = { 'Accept-Language': lang() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  return { status: res.status, data };
}

function show(view) {
  for (const id of ['login-view', 'home-view'])
    document.getElementById(id).hidden = id !== view;
  document.getElementById('logout').hidden = view === 'login-view';
}

function text(el, s) { el.textContent = s; return el; }

async function home(user) {
  text(document.getElementById('who'), `${user.username} · ${user.organisation.name}`);
  show('home-view');
  const inbox = document.getElementById('inbox');
  inbox.replaceChildren();
  const ib = await api('GET', '/api/v1/inbox');
  if (ib.status === 200) {
    for (const k of ['pending_incoming_referrals', 'overdue_referrals', 'overdue_cases']) {
      const li = document.createElement('li');
      text(li.appendChild(document.createElement('span')), String(ib.data[k])).className = 'n';
      li.appendChild(document.createTextNode(t(k)));
      inbox.appendChild(li);
    }
  }
  const tbody = document.querySelector('#cases tbody');
  tbody.replaceChildren();
  const list = await api('GET', '/api/v1/cases?limit=50');
  const items = list.status === 200 ? list.data.items : [];
  document.getElementById('cases').hidden = items.length === 0;
  document.getElementById('no-cases').hidden = items.length !== 0;
  for (const c of items) {
    const tr = tbody.insertRow();
    for (const v of [c.reference, c.display_name || '—', c.stage, c.age_band, c.opened_at.slice(0, 10)])
      text(tr.insertCell(), v);
  }
}

async function start() {
  applyLabels();
  document.getElementById('lang').addEventListener('click', () => {
    setLang(lang() === 'fr' ? 'en' : 'fr');
    applyLabels();
  });
  document.getElementById('logout').addEventListener('click', async () => {
    await api('DELETE', '/api/v1/session');
    csrf = null;
    text(document.getElementById('who'), '');
    show('login-view');
  });
  document.getElementById('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const err = document.getElementById('login-error');
    text(err, '');
    const r = await api('POST', '/api/v1/session',
      { username: f.username.value.trim().toLowerCase(), password: f.password.value });
    f.password.value = '';
    if (r.status !== 200) {
      text(err, r.data && r.data.error ? r.data.error.message : t('error'));
      return;
    }
    csrf = r.data.csrf_token;
    await home(r.data.user);
  });
  // A session cookie may still be alive, but the CSRF token lives only in
  // memory: a reload asks to sign in again, which also ends shared use.
  show('login-view');
}

start();
