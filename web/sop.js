// The loaded SOP (GET /api/v1/sop), fetched once per sign-in, and its labels
// in the chosen language.
import { api } from './api.js';
import { lang } from './i18n.js';

let cached = null;

export function loadSop() {
  if (!cached) {
    cached = api('GET', '/api/v1/sop').then((r) => {
      if (r.status !== 200) { cached = null; throw new Error(`sop ${r.status}`); }
      return r.data;
    });
  }
  return cached;
}

export function forgetSop() { cached = null; }

export function pick(label) {
  if (!label) return '';
  return label[lang()] || label.fr || label.en || '';
}

// codes(sop, 'region') -> [{code, label}]
export function codes(sop, category) {
  const c = sop.categories[category];
  return c ? c.codes : [];
}

export function codeLabel(sop, category, code) {
  if (code === null || code === undefined) return '—';
  const c = codes(sop, category).find((x) => x.code === code);
  return c ? pick(c.label) : code;
}

export function categoryLabel(sop, category) {
  const c = sop.categories[category];
  return c ? pick(c.label) : category;
}

export function field(sop, section, name) {
  return sop.fields.find((f) => f.section === section && f.name === name);
}

export function fieldLabel(sop, section, name) {
  const f = field(sop, section, name);
  return f ? pick(f.label) : name;
}
