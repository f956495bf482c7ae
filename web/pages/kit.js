// Small helpers shared by the committee and administration pages (stats,
// admin, audit). DOM built with createElement and textContent only: no HTML
// is ever parsed from data, no inline style (the CSP forbids it).

// h('p', {class: 'x', k: 'label_key', on: {click: fn}}, child...)
// k: the element's text is the label of that key, set again by relabel() on
// a language switch; kAria / kPh / kTitle do the same for aria-label,
// placeholder and title. Other props: class, text, on, hidden, value,
// checked, disabled, selected, required; the rest become attributes.
export function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k === 'k') e.dataset.k = v;
    else if (k === 'kAria') e.dataset.kAria = v;
    else if (k === 'kPh') e.dataset.kPh = v;
    else if (k === 'kTitle') e.dataset.kTitle = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (['hidden', 'value', 'checked', 'disabled', 'selected', 'required'].includes(k)) e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  add(e, children);
  return e;
}

function add(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) add(parent, c);
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Puts every data-k label of root in the current language.
export function relabel(root, t) {
  for (const e of root.querySelectorAll('[data-k]')) e.textContent = t(e.dataset.k);
  for (const e of root.querySelectorAll('[data-k-aria]')) e.setAttribute('aria-label', t(e.dataset.kAria));
  for (const e of root.querySelectorAll('[data-k-ph]')) e.setAttribute('placeholder', t(e.dataset.kPh));
  for (const e of root.querySelectorAll('[data-k-title]')) e.setAttribute('title', t(e.dataset.kTitle));
}

// Gives each body cell of table the text of its column's header as
// data-label, for narrow screens where the CSS shows rows as cards.
export function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((c, i) => { if (heads[i]) c.setAttribute('data-label', heads[i]); });
  }
  return table;
}

// Adds a stylesheet of this site once (a <link>, never a <style>).
export function ensureCss(href) {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return;
  document.head.appendChild(h('link', { rel: 'stylesheet', href }));
}

let uid = 0;
export function newId(prefix) { uid += 1; return `${prefix}-${uid}`; }

// The SOP (labels of codes in both languages), once per page load.
let sopPromise = null;
export function loadSop(api) {
  if (!sopPromise) {
    sopPromise = api('GET', '/api/v1/sop').then((r) => {
      if (r.status !== 200) { sopPromise = null; return null; }
      return r.data;
    });
  }
  return sopPromise;
}

export function pick(label, l) {
  if (!label) return '';
  return label[l] || label.fr || label.en || '';
}

export function sopCodes(sop, category) {
  const c = sop && sop.categories && sop.categories[category];
  return c && Array.isArray(c.codes) ? c.codes : [];
}

// The label of a code of an SOP category, or null when the SOP has none.
export function sopLabel(sop, category, code, l) {
  const c = sopCodes(sop, category).find((x) => x.code === code);
  return c ? pick(c.label, l) : null;
}

export function locale(l) { return l === 'en' ? 'en-GB' : 'fr-FR'; }

export function fmtNum(n, l, opts) {
  return new Intl.NumberFormat(locale(l), opts).format(n);
}

export function fmtDateTime(s, l) {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s || '';
  return new Intl.DateTimeFormat(locale(l), {
    dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC',
  }).format(d) + ' UTC';
}

// The day of an RFC 3339 time (UTC), in the language.
export function fmtDate(s, l) {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s || '';
  return new Intl.DateTimeFormat(locale(l), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

export function fmtDay(s, l) {
  const d = new Date(`${s}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return s || '';
  return new Intl.DateTimeFormat(locale(l), { dateStyle: 'long', timeZone: 'UTC' }).format(d);
}

// The message of an API error in the language asked, or the fallback.
export function apiError(r, fallback) {
  return r && r.data && r.data.error && r.data.error.message ? r.data.error.message : fallback;
}
