// Change my password (POST /api/v1/me/password). Shown after sign-in when
// the account must change its password (a new account), and from the link
// in the header at any time. The server ends the user's other sessions.
import { addStrings } from '../i18n.js';
import { el, message } from '../ui.js';

addStrings({
  fr: {
    pw_title: 'Changer mon mot de passe', pw_must: 'Votre compte est nouveau ou son mot de passe a été réinitialisé : choisissez votre propre mot de passe pour continuer.',
    pw_current: 'Mot de passe actuel', pw_new: 'Nouveau mot de passe', pw_confirm: 'Nouveau mot de passe, encore une fois',
    pw_rule: 'De 12 à 256 caractères, sans votre identifiant. Une phrase de plusieurs mots est plus facile à retenir.',
    pw_save: 'Changer le mot de passe', pw_mismatch: 'Les deux nouveaux mots de passe diffèrent.',
    pw_short: 'Au moins 12 caractères.', pw_done: 'Mot de passe changé. Vos autres sessions ont pris fin.',
    pw_continue: 'Continuer',
  },
  en: {
    pw_title: 'Change my password', pw_must: 'Your account is new or its password was reset: choose your own password to continue.',
    pw_current: 'Current password', pw_new: 'New password', pw_confirm: 'New password, once more',
    pw_rule: '12 to 256 characters, without your user name. A phrase of several words is easier to remember.',
    pw_save: 'Change the password', pw_mismatch: 'The two new passwords differ.',
    pw_short: 'At least 12 characters.', pw_done: 'Password changed. Your other sessions have ended.',
    pw_continue: 'Continue',
  },
});

export async function render(root, ctx) {
  const { t } = ctx;
  root.append(el('h1', { text: t('pw_title') }));
  if (ctx.me.must_change_password) root.append(message(t('pw_must'), 'warn'));
  const out = el('div', { id: 'pw-msg', tabindex: '-1' });
  const input = (id, label, auto, hint) => el('div', { class: 'field' },
    el('label', { for: id, text: label }),
    el('input', { id, type: 'password', autocomplete: auto, required: true, maxlength: 256,
      'aria-describedby': `${id}-error${hint ? ` ${id}-hint` : ''}` }),
    hint ? el('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null,
    el('p', { class: 'field-error', id: `${id}-error` }));
  const form = el('form', { id: 'password-form', class: 'narrow', novalidate: true },
    input('pw-current', t('pw_current'), 'current-password'),
    input('pw-new', t('pw_new'), 'new-password', t('pw_rule')),
    input('pw-confirm', t('pw_confirm'), 'new-password'),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', text: t('pw_save') })));
  root.append(out, form);
  const $ = (id) => form.querySelector(`#${id}`);
  const bad = (id, text) => { $(`${id}-error`).textContent = text; $(id).setAttribute('aria-invalid', 'true'); $(id).focus(); };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
    for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
    out.replaceChildren();
    const cur = $('pw-current').value, next = $('pw-new').value;
    if (!cur) return bad('pw-current', t('required'));
    if ([...next].length < 12) return bad('pw-new', t('pw_short'));
    if (next !== $('pw-confirm').value) return bad('pw-confirm', t('pw_mismatch'));
    const r = await ctx.api('POST', '/api/v1/me/password', { current: cur, new: next });
    for (const id of ['pw-current', 'pw-new', 'pw-confirm']) $(id).value = '';
    if (r.status === 204) {
      ctx.me.must_change_password = false;
      form.remove();
      out.replaceChildren(message(t('pw_done'), 'ok'),
        el('p', null, el('a', { href: '#/', class: 'primary', id: 'pw-continue', text: t('pw_continue') })));
      out.querySelector('a').focus();
      return;
    }
    if (r.status === 401) return;
    const msg = r.data?.error?.message || t('error');
    if (r.status === 403) return bad('pw-current', msg);
    bad('pw-new', msg);
  });
}
