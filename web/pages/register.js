// Register a presumed victim (POST /api/v1/cases): a form built from the
// SOP's field catalogue, checked before sending; the server's 422 is shown
// at its field; possible duplicates are listed after saving.
import { addStrings } from '../i18n.js';
import { el, message, today } from '../ui.js';
import { buildField, readSection, clearErrors, showError, serverFieldId } from './fields.js';

addStrings({
  fr: {
    reg_title: 'Enregistrer une victime présumée',
    reg_intro: 'Les champs marqués * sont obligatoires. Les données qui identifient la personne sont chiffrées.',
    sec_victim: 'La personne', sec_identification: 'L\'identification',
    reg_save: 'Enregistrer le dossier', reg_saving: 'Enregistrement…',
    reg_errors: 'Le formulaire contient {n} erreur(s) : corrigez les champs signalés.',
    reg_saved: 'Dossier {ref} enregistré.', reg_open: 'Ouvrir le dossier {ref}',
    reg_another: 'Enregistrer une autre victime',
    dup_title: 'Doublons possibles', dup_intro: 'Ces dossiers visibles par votre organisation concernent peut-être la même personne :',
    dup_none: 'Aucun doublon possible trouvé.',
    match_name_and_date_of_birth: 'même nom et même date de naissance', match_name: 'même nom',
    match_date_of_birth: 'même date de naissance',
    reg_failed: 'Le dossier n\'a pas été enregistré : {msg}',
  },
  en: {
    reg_title: 'Register a presumed victim',
    reg_intro: 'Fields marked * are required. Data that identifies the person is encrypted.',
    sec_victim: 'The person', sec_identification: 'The identification',
    reg_save: 'Save the case', reg_saving: 'Saving…',
    reg_errors: 'The form has {n} error(s): correct the fields marked.',
    reg_saved: 'Case {ref} saved.', reg_open: 'Open case {ref}',
    reg_another: 'Register another victim',
    dup_title: 'Possible duplicates', dup_intro: 'These cases visible to your organisation may concern the same person:',
    dup_none: 'No possible duplicate found.',
    match_name_and_date_of_birth: 'same name and date of birth', match_name: 'same name',
    match_date_of_birth: 'same date of birth',
    reg_failed: 'The case was not saved: {msg}',
  },
});

export async function render(root, ctx) {
  const { t } = ctx;
  const sop = await ctx.sop();
  root.append(el('h1', { text: t('reg_title') }));
  root.append(el('p', { class: 'muted', text: t('reg_intro') }));
  const summary = el('div', { id: 'reg-summary', tabindex: '-1' });
  root.append(summary);
  const form = el('form', { id: 'register-form', novalidate: true });
  for (const section of ['victim', 'identification']) {
    const fields = sop.fields.filter((f) => f.section === section);
    const defaults = {};
    if (section === 'identification') {
      defaults.date = today();
      if (ctx.me.organisation.region) defaults.region = ctx.me.organisation.region;
    }
    form.append(el('section', { class: 'card', 'aria-labelledby': `sec-${section}` },
      el('h2', { id: `sec-${section}`, text: t(`sec_${section}`) }),
      el('div', { class: 'grid2' }, fields.map((f) => buildField(sop, f, ctx, defaults[f.name])))));
  }
  const save = el('button', { type: 'submit', class: 'primary', id: 'register-save', text: t('reg_save') });
  form.append(el('div', { class: 'actions' }, save));
  root.append(form);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    summary.replaceChildren();
    const victim = await readSection(sop, 'victim', form, t);
    const ident = await readSection(sop, 'identification', form, t);
    const errors = [...victim.errors, ...ident.errors];
    if (errors.length) {
      for (const e of errors) showError(form, e.id, e.text);
      summary.replaceChildren(message(t('reg_errors', { n: errors.length }), 'error'));
      const target = form.querySelector('[aria-invalid="true"]');
      (target?.tagName === 'FIELDSET' ? target.querySelector('input') : target)?.focus();
      return;
    }
    save.disabled = true;
    save.textContent = t('reg_saving');
    const r = await ctx.api('POST', '/api/v1/cases', { victim: victim.values, identification: ident.values });
    save.disabled = false;
    save.textContent = t('reg_save');
    if (r.status === 401) return;	// the shell asks to sign in again
    if (r.status !== 201) {
      const err = r.data?.error;
      const id = serverFieldId(err?.field);
      const target = id ? showError(form, id, err.message) : null;
      summary.replaceChildren(message(t('reg_failed', { msg: err?.message || t('error') }), 'error'));
      if (target) target.focus(); else summary.focus();
      return;
    }
    form.reset();
    saved(root, ctx, r.data);
  });
}

function saved(root, ctx, c) {
  const { t } = ctx;
  const dups = c.possible_duplicates || [];
  root.replaceChildren(
    el('h1', { text: t('reg_title') }),
    message(t('reg_saved', { ref: c.reference }), 'ok'),
    el('section', { class: 'card', id: 'duplicates', 'aria-labelledby': 'dup-title' },
      el('h2', { id: 'dup-title', text: t('dup_title') }),
      dups.length === 0 ? el('p', { text: t('dup_none') }) : [
        el('p', { text: t('dup_intro') }),
        el('ul', null, dups.map((d) => el('li', null,
          el('a', { href: `#/cases/${d.id}`, text: d.reference }), ` — ${t(`match_${d.match}`)}`))),
      ]),
    el('div', { class: 'actions' },
      el('a', { href: `#/cases/${c.id}`, class: 'primary', id: 'open-case', text: t('reg_open', { ref: c.reference }) }),
      el('button', { type: 'button', class: 'secondary', text: t('reg_another'),
        on: { click: () => ctx.navigate('#/cases/new') } })));
  root.querySelector('#open-case').focus();
}
