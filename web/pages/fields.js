// Inputs built from the SOP's field catalogue (GET /api/v1/sop, "fields"):
// the right control for each type, client-side checks that mirror the
// server's (server/cases/validate.c), and errors shown at the field.
import { el, today } from '../ui.js';
import { pick, codes, codeLabel } from '../sop.js';
import { addStrings } from '../i18n.js';

addStrings({
  fr: {
    choose: '— choisir —', v_required: 'Ce champ est obligatoire.', v_too_long: 'Trop long ({max} caractères au plus).',
    v_integer: 'Un nombre entier entre {min} et {max} est attendu.', v_date: 'Date invalide.',
    v_future: 'La date ne peut pas être dans le futur.', v_one: 'Choisissez au moins une valeur.',
    v_too_many: 'Trop de valeurs ({max} au plus).', v_photo: 'Une photo PNG ou JPEG de 2 Mio au plus.',
    not_readable: 'Votre organisation ne pourra pas relire ce champ une fois enregistré.',
    encrypted_hint: 'Chiffré.',
  },
  en: {
    choose: '— choose —', v_required: 'This field is required.', v_too_long: 'Too long ({max} characters at most).',
    v_integer: 'A whole number from {min} to {max} is expected.', v_date: 'Invalid date.',
    v_future: 'The date cannot be in the future.', v_one: 'Choose at least one value.',
    v_too_many: 'Too many values ({max} at most).', v_photo: 'A PNG or JPEG photo of 2 MiB at most.',
    not_readable: 'Your organisation will not be able to read this field back once saved.',
    encrypted_hint: 'Encrypted.',
  },
});

// ISO 3166-1 alpha-2 codes, named in the chosen language by Intl.
const ISO = ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' ');

export function fieldId(f, code) {
  return `f-${f.section}-${f.name}${code ? `-${code}` : ''}`;
}

// Can the caller read this field back (visible rules without a consent)?
export function readable(f, me) {
  return (f.visible || []).some((v) => (v.kinds || []).includes(me.organisation.kind) &&
    (v.roles || []).includes(me.role) && !v.consent);
}

function countryOptions(lang) {
  let names;
  try { names = new Intl.DisplayNames([lang === 'en' ? 'en' : 'fr'], { type: 'region' }); } catch { names = null; }
  return ISO.map((c) => ({ code: c, name: names ? names.of(c) : c }))
    .sort((a, b) => a.name.localeCompare(b.name, lang));
}

// One field: a wrapper with its label, control, hint and error line.
export function buildField(sop, f, ctx, value) {
  const id = fieldId(f, null);
  const errId = `${id}-error`;
  const required = f.required_at === sop.initial_stage;
  const label = pick(f.label) + (required ? ' *' : '');
  const hints = [];
  if (ctx.me && !readable(f, ctx.me)) hints.push(ctx.t('not_readable'));
  let control;
  const common = { id, name: `${f.section}.${f.name}`, 'aria-describedby': errId, required };
  switch (f.type) {
    case 'text':
      control = f.max > 300
        ? el('textarea', { ...common, maxlength: f.max, rows: 5 })
        : el('input', { ...common, type: f.name === 'phone' ? 'tel' : 'text', maxlength: f.max, autocomplete: 'off' });
      break;
    case 'date':
      control = el('input', { ...common, type: 'date', max: today() });
      break;
    case 'integer':
      control = el('input', { ...common, type: 'number', inputmode: 'numeric', min: f.min ?? 0, max: f.max, step: 1 });
      break;
    case 'code':
      control = el('select', common, el('option', { value: '', text: ctx.t('choose') }),
        codes(sop, f.category).map((c) => el('option', { value: c.code, text: codeLabel(sop, f.category, c.code) })));
      break;
    case 'country':
      control = el('select', common, el('option', { value: '', text: ctx.t('choose') }),
        countryOptions(ctx.lang()).map((c) => el('option', { value: c.code, text: c.name })));
      break;
    case 'photo':
      control = el('input', { ...common, type: 'file', accept: 'image/png,image/jpeg' });
      break;
    case 'codes':
    case 'languages': { // languages are codes of the SOP's list too
      const box = el('fieldset', { id, class: 'wide', 'aria-describedby': errId },
        el('legend', { text: label }),
        el('div', { class: 'checks' }, codes(sop, f.category).map((c) => el('label', null,
          el('input', { type: 'checkbox', id: fieldId(f, c.code), name: `${f.section}.${f.name}`, value: c.code,
            checked: Array.isArray(value) && value.includes(c.code) }),
          codeLabel(sop, f.category, c.code)))),
        hints.map((h) => el('p', { class: 'hint', text: h })),
        el('p', { class: 'field-error', id: errId }));
      return box;
    }
    default:
      control = el('input', { ...common, type: 'text', autocomplete: 'off' });
  }
  if (value !== undefined && value !== null && f.type !== 'photo')
    control.value = Array.isArray(value) ? value.join(', ') : String(value);
  return el('div', { class: `field${f.max > 300 ? ' wide' : ''}` },
    el('label', { for: id, text: label }), control,
    hints.map((h) => el('p', { class: 'hint', text: h })),
    el('p', { class: 'field-error', id: errId }));
}

function readPhoto(file) {
  return new Promise((res, rej) => {
    const r = new FileReader();
    r.onload = () => res(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => rej(r.error);
    r.readAsDataURL(file);
  });
}

// Reads the fields of a section from the form, checks them, returns
// { values, errors: [{id, text}] }. Empty fields are left out.
export async function readSection(sop, section, form, t) {
  const values = {};
  const errors = [];
  for (const f of sop.fields.filter((x) => x.section === section)) {
    const id = fieldId(f, null);
    const required = f.required_at === sop.initial_stage;
    const bad = (text) => errors.push({ id, text });
    if (f.type === 'codes' || f.type === 'languages') {
      const picked = [...form.querySelectorAll(`input[type=checkbox][name="${section}.${f.name}"]:checked`)].map((e) => e.value);
      if (required && picked.length === 0) bad(t('v_one'));
      else if (f.max && picked.length > f.max) bad(t('v_too_many', { max: f.max }));
      else if (picked.length) values[f.name] = picked;
      continue;
    }
    const e = form.querySelector(`#${id}`);
    if (!e) continue;
    if (f.type === 'photo') {
      const file = e.files && e.files[0];
      if (!file) { if (required) bad(t('v_required')); continue; }
      if (!/^image\/(png|jpeg)$/.test(file.type) || file.size > (f.max || 2097152) * 3 / 4) { bad(t('v_photo')); continue; }
      values[f.name] = await readPhoto(file);
      continue;
    }
    const raw = e.value.trim();
    if (raw === '') { if (required) bad(t('v_required')); continue; }
    switch (f.type) {
      case 'integer': {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < (f.min ?? 0) || n > f.max) bad(t('v_integer', { min: f.min ?? 0, max: f.max }));
        else values[f.name] = n;
        break;
      }
      case 'date':
        if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(raw))) bad(t('v_date'));
        else if (raw > today()) bad(t('v_future'));
        else values[f.name] = raw;
        break;
      default:
        if (f.max && [...raw].length > f.max) bad(t('v_too_long', { max: f.max }));
        else values[f.name] = raw;
    }
  }
  return { values, errors };
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}

// Shows an error at a field (id of the control or fieldset); returns the
// element to focus.
export function showError(form, id, text) {
  const e = form.querySelector(`#${CSS.escape(id)}`);
  if (!e) return null;
  const p = form.querySelector(`#${CSS.escape(id)}-error`);
  if (p) p.textContent = text;
  e.setAttribute('aria-invalid', 'true');
  return e.tagName === 'FIELDSET' ? e.querySelector('input') : e;
}

// The server's field name ("victim.sex") as a control id.
export function serverFieldId(field) {
  if (!field) return null;
  const [section, name] = field.split('.');
  return name ? `f-${section}-${name.replace(/\[.*$/, '')}` : null;
}
