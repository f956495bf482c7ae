// Small DOM helpers shared by the pages. Everything is built with DOM APIs
// and textContent: no HTML is ever parsed from data.
import { lang } from './i18n.js';

// el('p', {class: 'x', text: 'hello', on: {click: fn}, for: 'id'}, child...)
// Props other than class/text/on/dataset/hidden/value/checked/disabled/
// selected become attributes. Children: nodes, strings (as text), arrays,
// null/false (skipped).
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'hidden' || k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected' || k === 'required' || k === 'multiple')
        e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(e, children);
  return e;
}

function append(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

let uid = 0;
export function newId(prefix = 'f') { uid += 1; return `${prefix}-${uid}`; }

function locale() { return lang() === 'en' ? 'en-GB' : 'fr-FR'; }

// 'YYYY-MM-DD' or an RFC 3339 time, as a date in the chosen language.
export function fmtDate(s) {
  if (!s) return '—';
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

export function fmtDateTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function fmtNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

export function countryName(code) {
  if (!code) return '—';
  try {
    return new Intl.DisplayNames([locale()], { type: 'region' }).of(code) || code;
  } catch { return code; }
}

export function today() { return new Date().toISOString().slice(0, 10); }

// A message line (role=alert for errors) placed at the top of a page area.
export function message(text, kind = 'info') {
  return el('p', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
}
