// The case page (GET /api/v1/cases/{id}): what the caller may see of the
// victim and the identification, the stage with the transitions allowed now
// (and the others with the reason they are not), consents, referrals, notes
// with their visibility, services, the justice track and the timeline; who
// follows the case in the caller's organisation (a supervisor gives it to an
// account of the organisation, a caseworker takes it); and, for a supervisor
// of the lead organisation only, erasing the person's identity after a
// confirmation step that says what it does and asks for the case number.
// Each action posts to the API and the page is built again from the answer.
// The print stylesheet turns the page into a clean case file.
import { addStrings } from '../i18n.js';
import { el, fmtDate, fmtDateTime, countryName, today, message } from '../ui.js';
import { pick, codes, codeLabel, fieldLabel } from '../sop.js';
import { buildField, readSection, readable, clearErrors, showError, serverFieldId } from './fields.js';

addStrings({
  fr: {
    case_title: 'Dossier {ref}', case_missing: 'Ce dossier n\'existe pas ou votre organisation n\'y a pas accès.',
    print: 'Imprimer le dossier', print_head: 'Dossier confidentiel {ref} — imprimé le {date} par {user} ({org}).',
    lead: 'Organisation cheffe de file', opened: 'Ouvert le', child_case: 'Enfant', adult_case: 'Adulte',
    erased_case: 'L\'identité de cette personne a été effacée.',
    person: 'La personne', identification: 'L\'identification', nothing_visible: 'Aucun détail visible pour votre organisation.',
    stage_title: 'Étape de la prise en charge', stage_now: 'Étape actuelle : {stage}',
    allowed_title: 'Actions possibles', none_allowed: 'Aucune action de changement d\'étape n\'est ouverte à votre compte maintenant.',
    blocked_title: 'Actions bloquées, et pourquoi', transition_note: 'Note pour le changement d\'étape (facultative)',
    transition_done: 'Étape changée : {stage}.',
    consents_title: 'Consentements', no_consents: 'Aucun consentement enregistré.',
    c_scope: 'Portée', c_given_by: 'Donné par', c_date: 'Date', c_note: 'Note (facultative)', c_state: 'État',
    c_in_force: 'en vigueur', c_withdrawn: 'retiré le {date}', c_withdraw: 'Retirer',
    c_withdraw_label: 'Retirer le consentement « {scope} » du {date}',
    c_record: 'Enregistrer le consentement', c_recorded: 'Consentement enregistré.', c_withdrawn_ok: 'Consentement retiré.',
    given_by_victim: 'la victime', given_by_guardian: 'le tuteur ou la tutrice',
    refs_title: 'Orientations', no_refs: 'Aucune orientation.',
    r_to: 'Vers', r_from: 'De', r_service: 'Service', r_urgency: 'Urgence', r_status: 'État', r_respond_by: 'Réponse attendue avant',
    r_actions: 'Actions', r_org: 'Organisation', r_consent: 'Consentement', r_note: 'Note (facultative)',
    r_no_consent: '— aucun —', r_consent_needed: 'Le SOP exige le consentement « {scope} » en vigueur.',
    r_send: 'Orienter', r_sent: 'Orientation envoyée : réponse attendue avant le {date}.',
    r_new: 'Nouvelle orientation', r_none_possible: 'Le SOP ne permet à votre organisation aucune orientation.',
    r_withdraw: 'Retirer', r_complete: 'Terminer', r_answer: 'Répondre', r_withdrawn_ok: 'Orientation retirée.',
    r_completed_ok: 'Orientation terminée.', r_within: '{label} (réponse sous {h} h)',
    status_pending: 'en attente', status_accepted: 'acceptée', status_declined: 'refusée',
    status_withdrawn: 'retirée', status_completed: 'terminée',
    notes_title: 'Notes', no_notes: 'Aucune note visible.', n_body: 'Texte de la note', n_visibility: 'Visibilité',
    n_category: 'Catégorie', n_add: 'Ajouter la note', n_added: 'Note ajoutée.',
    vis_organisation: 'Mon organisation seulement', vis_case: 'Toutes les organisations du dossier (selon le SOP)',
    services_title: 'Services fournis', no_services: 'Aucun service enregistré.', s_service: 'Service', s_date: 'Date',
    s_note: 'Note (facultative)', s_add: 'Enregistrer le service', s_added: 'Service enregistré.', s_by: 'Par',
    justice_title: 'Volet judiciaire', justice_now: 'Statut : {status}', j_status: 'Nouveau statut', j_note: 'Note (facultative)',
    j_save: 'Mettre à jour le volet judiciaire', j_saved: 'Volet judiciaire mis à jour.',
    timeline_title: 'Chronologie', no_timeline: 'Rien encore.',
    tl_case_created: 'Dossier ouvert', tl_case_updated: 'Dossier modifié', tl_case_erased: 'Identité effacée',
    tl_consent_given: 'Consentement enregistré', tl_consent_withdrawn: 'Consentement retiré',
    tl_note: 'Note', tl_service_delivered: 'Service fourni', tl_justice_updated: 'Volet judiciaire',
    tl_referral_created: 'Orientation envoyée', tl_referral_accepted: 'Orientation acceptée',
    tl_referral_declined: 'Orientation refusée', tl_referral_withdrawn: 'Orientation retirée',
    tl_referral_completed: 'Orientation terminée', tl_stage_changed: 'Changement d\'étape',
    others_title: 'Autres actions de cette étape', tr_kinds: 'réservé à : {list}.', tr_roles: 'réservé aux rôles : {list}.',
    tr_lead: 'réservé à l\'organisation cheffe de file.', tr_not_now: 'pas possible maintenant.',
    edit_open: 'Compléter ou corriger', edit_title: 'Compléter ou corriger les informations',
    edit_save: 'Enregistrer les modifications', edit_cancel: 'Annuler', edit_none: 'Rien n\'a changé.',
    edit_saved: 'Informations enregistrées.', edit_stale: 'Le dossier a été modifié entre-temps : voici sa version actuelle, reprenez la modification.',
    edit_errors: 'Le formulaire contient {n} erreur(s).',
    action_failed: 'L\'action a échoué : {msg}', yes: 'oui', no: 'non', by_org: '{org}',
    as_title: 'Suivi du dossier', as_now: 'Suivi dans votre organisation par : {who}', as_nobody: 'personne pour l\'instant',
    as_you: 'vous ({user})', as_colleague: 'un autre compte de votre organisation',
    as_user: 'Confier le dossier à', as_give: 'Confier le dossier', as_take: 'Prendre ce dossier en charge',
    as_same: 'Le dossier est déjà suivi par ce compte.', as_done: 'Dossier confié à {user}.', as_taken: 'Vous suivez maintenant ce dossier.',
    as_none_eligible: 'Aucun compte actif de votre organisation ne peut suivre ce dossier.',
    er_title: 'Effacer l\'identité de la personne',
    er_intro: 'Réservé aux superviseurs de l\'organisation cheffe de file, par exemple à la demande de la personne. Effacer :',
    er_gone: 'détruit son identité (noms, date de naissance, contacts, pièce d\'identité, photo…) et les textes libres du dossier (récit, notes, notes des consentements et des orientations) : plus personne ne pourra les lire, dans aucune organisation ;',
    er_kept: 'garde les statistiques : sexe, tranche d\'âge, région, types d\'exploitation, étapes et dates restent, sans rien qui identifie ;',
    er_refs: 'retire les orientations encore en attente ;',
    er_final: 'ne peut pas être annulé.',
    er_start: 'Effacer l\'identité…',
    er_confirm: 'Pour confirmer, saisissez le numéro du dossier : {ref}',
    er_submit: 'Effacer définitivement', er_mismatch: 'Ce n\'est pas le numéro de ce dossier : rien n\'a été effacé.',
    er_done: 'L\'identité de la personne du dossier {ref} est effacée ; ses statistiques restent.',
  },
  en: {
    case_title: 'Case {ref}', case_missing: 'This case does not exist or your organisation has no access to it.',
    print: 'Print the case file', print_head: 'Confidential case file {ref} — printed on {date} by {user} ({org}).',
    lead: 'Lead organisation', opened: 'Opened', child_case: 'Child', adult_case: 'Adult',
    erased_case: 'This person\'s identity has been erased.',
    person: 'The person', identification: 'The identification', nothing_visible: 'No detail visible to your organisation.',
    stage_title: 'Stage of the protection track', stage_now: 'Current stage: {stage}',
    allowed_title: 'Possible actions', none_allowed: 'No stage change is open to your account now.',
    blocked_title: 'Blocked actions, and why', transition_note: 'Note for the stage change (optional)',
    transition_done: 'Stage changed: {stage}.',
    consents_title: 'Consents', no_consents: 'No consent recorded.',
    c_scope: 'Scope', c_given_by: 'Given by', c_date: 'Date', c_note: 'Note (optional)', c_state: 'State',
    c_in_force: 'in force', c_withdrawn: 'withdrawn on {date}', c_withdraw: 'Withdraw',
    c_withdraw_label: 'Withdraw the consent "{scope}" of {date}',
    c_record: 'Record the consent', c_recorded: 'Consent recorded.', c_withdrawn_ok: 'Consent withdrawn.',
    given_by_victim: 'the victim', given_by_guardian: 'the guardian',
    refs_title: 'Referrals', no_refs: 'No referral.',
    r_to: 'To', r_from: 'From', r_service: 'Service', r_urgency: 'Urgency', r_status: 'State', r_respond_by: 'Answer expected by',
    r_actions: 'Actions', r_org: 'Organisation', r_consent: 'Consent', r_note: 'Note (optional)',
    r_no_consent: '— none —', r_consent_needed: 'The SOP requires the consent "{scope}" in force.',
    r_send: 'Refer', r_sent: 'Referral sent: answer expected by {date}.',
    r_new: 'New referral', r_none_possible: 'The SOP allows your organisation no referral.',
    r_withdraw: 'Withdraw', r_complete: 'Complete', r_answer: 'Answer', r_withdrawn_ok: 'Referral withdrawn.',
    r_completed_ok: 'Referral completed.', r_within: '{label} (answer within {h} h)',
    status_pending: 'pending', status_accepted: 'accepted', status_declined: 'declined',
    status_withdrawn: 'withdrawn', status_completed: 'completed',
    notes_title: 'Notes', no_notes: 'No visible note.', n_body: 'Text of the note', n_visibility: 'Visibility',
    n_category: 'Category', n_add: 'Add the note', n_added: 'Note added.',
    vis_organisation: 'My organisation only', vis_case: 'Every organisation on the case (as the SOP allows)',
    services_title: 'Services delivered', no_services: 'No service recorded.', s_service: 'Service', s_date: 'Date',
    s_note: 'Note (optional)', s_add: 'Record the service', s_added: 'Service recorded.', s_by: 'By',
    justice_title: 'Justice track', justice_now: 'Status: {status}', j_status: 'New status', j_note: 'Note (optional)',
    j_save: 'Update the justice track', j_saved: 'Justice track updated.',
    timeline_title: 'Timeline', no_timeline: 'Nothing yet.',
    tl_case_created: 'Case opened', tl_case_updated: 'Case changed', tl_case_erased: 'Identity erased',
    tl_consent_given: 'Consent recorded', tl_consent_withdrawn: 'Consent withdrawn',
    tl_note: 'Note', tl_service_delivered: 'Service delivered', tl_justice_updated: 'Justice track',
    tl_referral_created: 'Referral sent', tl_referral_accepted: 'Referral accepted',
    tl_referral_declined: 'Referral declined', tl_referral_withdrawn: 'Referral withdrawn',
    tl_referral_completed: 'Referral completed', tl_stage_changed: 'Stage change',
    others_title: 'Other actions at this stage', tr_kinds: 'only for: {list}.', tr_roles: 'only for the roles: {list}.',
    tr_lead: 'only for the lead organisation.', tr_not_now: 'not possible now.',
    edit_open: 'Complete or correct', edit_title: 'Complete or correct the information',
    edit_save: 'Save the changes', edit_cancel: 'Cancel', edit_none: 'Nothing changed.',
    edit_saved: 'Information saved.', edit_stale: 'The case was changed meanwhile: here is its current version, make the change again.',
    edit_errors: 'The form has {n} error(s).',
    action_failed: 'The action failed: {msg}', yes: 'yes', no: 'no', by_org: '{org}',
    as_title: 'Who follows the case', as_now: 'Followed in your organisation by: {who}', as_nobody: 'nobody yet',
    as_you: 'you ({user})', as_colleague: 'another account of your organisation',
    as_user: 'Give the case to', as_give: 'Give the case', as_take: 'Take this case',
    as_same: 'This account already follows the case.', as_done: 'Case given to {user}.', as_taken: 'You now follow this case.',
    as_none_eligible: 'No active account of your organisation can follow this case.',
    er_title: 'Erase the person\'s identity',
    er_intro: 'Only for supervisors of the lead organisation, for instance at the person\'s request. Erasing:',
    er_gone: 'destroys her or his identity (names, date of birth, contacts, identity document, photo…) and the case\'s free texts (narrative, notes, notes of consents and referrals): nobody will be able to read them again, in any organisation;',
    er_kept: 'keeps the statistics: sex, age band, region, exploitation types, stages and dates remain, with nothing that identifies;',
    er_refs: 'withdraws the referrals still pending;',
    er_final: 'cannot be undone.',
    er_start: 'Erase the identity…',
    er_confirm: 'To confirm, type the case number: {ref}',
    er_submit: 'Erase for good', er_mismatch: 'This is not this case\'s number: nothing was erased.',
    er_done: 'The identity of the person of case {ref} is erased; its statistics remain.',
  },
});

const DETAIL_CATEGORY = { stage: 'stage', from: 'stage', to: 'stage', service: 'service', scope: 'consent_scope',
  status: 'justice_status', urgency: 'urgency', reason: 'decline_reason' };

function photoSrc(b64) {
  const type = b64.startsWith('/9j/') ? 'image/jpeg' : 'image/png';
  return `data:${type};base64,${b64}`;
}

function field(id, label, control, hint) {
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), control,
    hint ? el('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null);
}

function select(id, name, options, value) {
  return el('select', { id, name }, options.map((o) => el('option', { value: o.value, text: o.text, selected: o.value === value })));
}

export async function render(root, ctx) {
  const { t, me } = ctx;
  const sop = await ctx.sop();
  const id = ctx.params.id;
  let flash = null;	// { text, kind } shown after the page is built again

  // Inputs typed elsewhere on the page survive a rebuild after an action.
  function keep(except) {
    const m = new Map();
    for (const e of root.querySelectorAll('input, select, textarea')) {
      if (!e.id || (except && except.contains(e)) || e.type === 'file') continue;
      m.set(e.id, e.type === 'checkbox' ? e.checked : e.value);
    }
    return m;
  }
  function putBack(m) {
    for (const [k, v] of m) {
      const e = root.querySelector(`#${CSS.escape(k)}`);
      if (!e) continue;
      if (e.type === 'checkbox') e.checked = v; else e.value = v;
      e.dispatchEvent(new Event('change'));
    }
  }

  async function act(form, method, path, body, okText) {
    const buttons = form ? form.querySelectorAll('button') : [];
    for (const b of buttons) b.disabled = true;
    const r = await ctx.api(method, path, body);
    for (const b of buttons) b.disabled = false;
    if (r.status === 401) return null;
    if (r.status >= 200 && r.status < 300) {
      flash = { text: typeof okText === 'function' ? okText(r.data) : okText, kind: 'ok' };
      const m = keep(form);
      await build();
      putBack(m);
      return r;
    }
    const msg = r.data?.error?.message || t('error');
    const out = form?.querySelector('.form-msg') || root.querySelector('#case-msg');
    out.replaceChildren(message(t('action_failed', { msg }), 'error'));
    return r;
  }

  async function build() {
    // Supervisors choose among their organisation's accounts (GET
    // /api/v1/users is theirs, not caseworkers').
    const [r, orgs, users] = await Promise.all([
      ctx.api('GET', `/api/v1/cases/${id}`),
      ctx.api('GET', '/api/v1/organisations?limit=500'),
      me.role === 'supervisor' ? ctx.api('GET', '/api/v1/users') : null,
    ]);
    root.replaceChildren();
    if (r.status !== 200) {
      root.append(el('h1', { text: t('case_title', { ref: '' }) }), message(t('case_missing'), 'error'));
      return;
    }
    const c = r.data;
    const organisations = orgs.status === 200 ? orgs.data.items : [];
    const name = c.victim ? [c.victim.given_name, c.victim.family_name].filter(Boolean).join(' ') : '';

    root.append(el('p', { class: 'print-only print-head', text: t('print_head', { ref: c.reference, date: fmtDateTime(new Date().toISOString()), user: me.username, org: me.organisation.name }) }));
    root.append(el('div', { class: 'page-head' },
      el('h1', { text: t('case_title', { ref: c.reference }) + (name ? ` — ${name}` : '') }),
      el('button', { type: 'button', class: 'secondary no-print', id: 'print', text: t('print'), on: { click: () => window.print() } })));
    const msgBox = el('div', { id: 'case-msg', role: 'status' });
    if (flash) { msgBox.append(message(flash.text, flash.kind)); flash = null; }
    root.append(msgBox);
    root.append(el('dl', { class: 'facts card' },
      el('dt', { text: t('stage_title') }), el('dd', { id: 'stage', text: codeLabel(sop, 'stage', c.stage) }),
      el('dt', { text: t('lead') }), el('dd', { text: c.lead_organisation?.name || '—' }),
      el('dt', { text: t('opened') }), el('dd', { text: fmtDate(c.opened_at) }),
      el('dt', { text: pick(sop.categories.sex.label) }), el('dd', { text: codeLabel(sop, 'sex', c.sex) }),
      el('dt', { text: pick(sop.categories.age_band.label) }),
      el('dd', { text: `${codeLabel(sop, 'age_band', c.age_band)} — ${t(c.child ? 'child_case' : 'adult_case')}` })));
    if (c.erased) root.append(message(t('erased_case'), 'warn'));

    root.append(details(c));
    const assigned = assignment(c, users && users.status === 200 ? users.data.items : []);
    if (assigned) root.append(assigned);
    root.append(stage(c));
    root.append(consents(c));
    root.append(referrals(c, organisations));
    root.append(notes(c));
    root.append(services(c));
    if (c.justice) root.append(justice(c));
    root.append(timeline(c));
    const erase = erasure(c);
    if (erase) root.append(erase);
  }

  // Who follows the case in the caller's organisation: a supervisor gives it
  // to an active caseworker or supervisor of the organisation (PUT
  // .../assignee), a caseworker takes it for herself; the server checks both.
  function assignment(c, users) {
    if (c.erased) return null;
    const sec = el('section', { class: 'card', id: 'assignment', 'aria-labelledby': 'assign-title' });
    sec.append(el('h2', { id: 'assign-title', text: t('as_title') }));
    const cur = c.assigned_to?.user_id || null;
    const known = users.find((u) => u.id === cur);
    const who = !cur ? t('as_nobody') : cur === me.id ? t('as_you', { user: me.username })
      : known ? known.username : t('as_colleague');
    sec.append(el('p', { id: 'assignee', dataset: { userId: cur || '' }, text: t('as_now', { who }) }));
    if (me.role === 'supervisor') {
      const eligible = users.filter((u) => u.active && (u.role === 'caseworker' || u.role === 'supervisor'));
      if (eligible.length === 0) { sec.append(el('p', { class: 'muted', text: t('as_none_eligible') })); return sec; }
      const pickSel = el('select', { id: 'assign-user', name: 'user_id' }, eligible.map((u) => el('option', {
        value: u.id, selected: u.id === cur, text: `${u.username} — ${codeLabel(sop, 'role', u.role)}` })));
      const form = el('form', { id: 'assign-form', class: 'no-print', novalidate: true },
        el('div', { class: 'grid2' }, field('assign-user', t('as_user'), pickSel),
          el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', id: 'assign-submit', text: t('as_give') }))),
        el('div', { class: 'form-msg' }));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const u = eligible.find((x) => x.id === pickSel.value);
        if (!u) return;
        if (u.id === cur) { form.querySelector('.form-msg').replaceChildren(message(t('as_same'), 'info')); return; }
        act(form, 'PUT', `/api/v1/cases/${id}/assignee`, { user_id: u.id }, t('as_done', { user: u.username }));
      });
      sec.append(form);
    } else if (cur !== me.id) {
      sec.append(el('div', { class: 'actions no-print' }, el('button', { type: 'button', class: 'secondary', id: 'assign-take',
        text: t('as_take'), on: { click: () => act(null, 'PUT', `/api/v1/cases/${id}/assignee`, { user_id: me.id }, t('as_taken')) } })));
    }
    return sec;
  }

  // Erasure (POST .../erase): a supervisor of the lead organisation only.
  // The step says what it destroys and what it keeps, and asks for the case
  // number typed out, so that no slip of a click erases a person.
  function erasure(c) {
    if (c.erased || me.role !== 'supervisor' || c.lead_organisation?.id !== me.organisation.id) return null;
    const sec = el('section', { class: 'card danger-zone no-print', id: 'erase', 'aria-labelledby': 'erase-title' });
    sec.append(el('h2', { id: 'erase-title', text: t('er_title') }),
      el('p', { text: t('er_intro') }),
      el('ul', { id: 'erase-what' }, ['er_gone', 'er_kept', 'er_refs', 'er_final'].map((k) => el('li', { text: t(k) }))));
    const input = el('input', { id: 'erase-confirm', name: 'reference', autocomplete: 'off', spellcheck: 'false',
      autocapitalize: 'characters', 'aria-describedby': 'erase-confirm-error', required: true });
    const err = el('p', { class: 'field-error', id: 'erase-confirm-error' });
    const form = el('form', { id: 'erase-form', novalidate: true },
      el('div', { class: 'field' }, el('label', { for: 'erase-confirm', text: t('er_confirm', { ref: c.reference }) }), input, err),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'danger', id: 'erase-submit', text: t('er_submit') })),
      el('div', { class: 'form-msg' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      err.textContent = '';
      input.removeAttribute('aria-invalid');
      if (input.value.trim().toUpperCase() !== c.reference.toUpperCase()) {
        err.textContent = t('er_mismatch');
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      act(form, 'POST', `/api/v1/cases/${id}/erase`, {}, t('er_done', { ref: c.reference }));
    });
    const step = el('details', { id: 'erase-step' }, el('summary', { text: t('er_start') }), form);
    step.addEventListener('toggle', () => { if (step.open) input.focus(); });
    sec.append(step);
    return sec;
  }

  function valueText(f, v) {
    if (v === null || v === undefined) return '—';
    switch (f.type) {
      case 'code': return codeLabel(sop, f.category, v);
      case 'codes': return v.map((x) => codeLabel(sop, f.category, x)).join(', ');
      case 'country': return countryName(v);
      case 'date': return fmtDate(v);
      case 'languages': return v.map((x) => codeLabel(sop, f.category, x)).join(', ');
      default: return String(v);
    }
  }

  function details(c) {
    const sec = el('section', { class: 'card', id: 'details', 'aria-labelledby': 'details-title' });
    sec.append(el('h2', { id: 'details-title', text: t('person') }));
    for (const section of ['victim', 'identification']) {
      const data = c[section] || {};
      const dl = el('dl', { class: 'facts', id: `facts-${section}` });
      for (const f of sop.fields.filter((x) => x.section === section)) {
        if (!(f.name in data)) continue;	// absent: not visible to the caller
        dl.append(el('dt', { text: pick(f.label) }));
        if (f.type === 'photo') dl.append(el('dd', null, el('img', { class: 'photo', src: photoSrc(data[f.name]), alt: pick(f.label) })));
        else dl.append(el('dd', { class: f.type === 'text' && f.max > 300 ? 'pre' : null, text: valueText(f, data[f.name]) }));
      }
      if (section === 'identification') sec.append(el('h3', { text: t('identification') }));
      sec.append(dl.childElementCount ? dl : el('p', { class: 'muted', text: t('nothing_visible') }));
    }
    if (!c.erased) sec.append(editor(c));
    return sec;
  }

  // Complete or correct what the caller may read (PATCH with the version).
  function editor(c) {
    const editable = sop.fields.filter((f) => (f.section === 'victim' || f.section === 'identification') && readable(f, me));
    if (editable.length === 0) return null;
    const wrap = el('div', { class: 'no-print' });
    const toggle = el('button', { type: 'button', class: 'secondary', id: 'edit-toggle', 'aria-expanded': 'false',
      'aria-controls': 'edit-form', text: t('edit_open') });
    const form = el('form', { id: 'edit-form', novalidate: true, hidden: true },
      el('h3', { text: t('edit_title') }),
      ['victim', 'identification'].map((section) => el('div', { class: 'grid2' },
        editable.filter((f) => f.section === section).map((f) => buildField(sop, f, ctx, (c[section] || {})[f.name])))),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', text: t('edit_save') }),
        el('button', { type: 'button', class: 'secondary', text: t('edit_cancel'),
          on: { click: () => { form.hidden = true; toggle.hidden = false; toggle.setAttribute('aria-expanded', 'false'); toggle.focus(); } } })),
      el('div', { class: 'form-msg' }));
    toggle.addEventListener('click', () => {
      form.hidden = false; toggle.hidden = true; toggle.setAttribute('aria-expanded', 'true');
      form.querySelector('input, select, textarea').focus();
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const out = form.querySelector('.form-msg');
      out.replaceChildren();
      const body = { version: c.version };
      const errors = [];
      for (const section of ['victim', 'identification']) {
        const r = await readSection(sop, section, form, t);
        errors.push(...r.errors.filter((e) => form.querySelector(`#${e.id}`)));
        const now = c[section] || {};
        const diff = {};
        for (const f of editable.filter((x) => x.section === section)) {
          const before = now[f.name];
          const after = r.values[f.name];
          if (after === undefined) {
            if (before !== undefined && f.type !== 'photo') diff[f.name] = null;	// cleared
          } else if (JSON.stringify(after) !== JSON.stringify(before)) diff[f.name] = after;
        }
        if (Object.keys(diff).length) body[section] = diff;
      }
      if (errors.length) {
        for (const e of errors) showError(form, e.id, e.text);
        out.replaceChildren(message(t('edit_errors', { n: errors.length }), 'error'));
        form.querySelector('[aria-invalid="true"]')?.focus();
        return;
      }
      if (!body.victim && !body.identification) { out.replaceChildren(message(t('edit_none'), 'info')); return; }
      const r = await ctx.api('PATCH', `/api/v1/cases/${id}`, body);
      if (r.status === 401) return;
      if (r.status === 200) { flash = { text: t('edit_saved'), kind: 'ok' }; await build(); return; }
      if (r.status === 409) { flash = { text: t('edit_stale'), kind: 'warn' }; await build(); return; }
      const err = r.data?.error;
      const fid = serverFieldId(err?.field);
      const target = fid ? showError(form, fid, err.message) : null;
      out.replaceChildren(message(t('action_failed', { msg: err?.message || t('error') }), 'error'));
      target?.focus();
    });
    wrap.append(toggle, form);
    return wrap;
  }

  function transitionLabel(tid) {
    const tr = sop.transitions.find((x) => x.id === tid);
    return tr ? pick(tr.label) : tid;
  }

  function stage(c) {
    const sec = el('section', { class: 'card', id: 'transitions', 'aria-labelledby': 'stage-title' });
    sec.append(el('h2', { id: 'stage-title', text: t('stage_title') }),
      el('p', { text: t('stage_now', { stage: codeLabel(sop, 'stage', c.stage) }) }));
    const allowed = c.allowed_transitions || [];
    const form = el('form', { id: 'transition-form', novalidate: true });
    sec.append(el('h3', { class: 'no-print', text: t('allowed_title') }));
    if (allowed.length === 0) sec.append(el('p', { class: 'muted no-print', id: 'none-allowed', text: t('none_allowed') }));
    else {
      form.append(field('transition-note', t('transition_note'), el('textarea', { id: 'transition-note', name: 'note', maxlength: 4000, rows: 2 })),
        el('div', { class: 'actions' }, allowed.map((tr) => el('button', { type: 'button', class: 'primary', dataset: { transition: tr.id },
          text: pick(tr.label),
          on: { click: () => {
            const note = form.elements.note.value.trim();
            act(form, 'POST', `/api/v1/cases/${id}/transitions`, { transition: tr.id, note: note || null, version: c.version },
              (d) => t('transition_done', { stage: codeLabel(sop, 'stage', d?.stage || tr.to) }));
          } } }))),
        el('div', { class: 'form-msg' }));
      sec.append(form);
    }
    const blocked = c.blocked_transitions || [];
    if (blocked.length) {
      sec.append(el('h3', { text: t('blocked_title') }),
        el('ul', { id: 'blocked' }, blocked.map((b) => el('li', { dataset: { transition: b.id } },
          el('strong', { text: transitionLabel(b.id) }), ` — ${b.reason?.message || ''}`))));
    }
    // The SOP's other transitions from this stage, and who may make them.
    const known = new Set([...allowed.map((x) => x.id), ...blocked.map((x) => x.id)]);
    const others = (sop.transitions || []).filter((x) => x.from === c.stage && !known.has(x.id));
    if (others.length) {
      const kind = me.organisation.kind;
      const why = (x) => {
        if (!(x.kinds || []).includes(kind))
          return t('tr_kinds', { list: x.kinds.map((k) => codeLabel(sop, 'kind', k)).join(', ') });
        if (!(x.roles || []).includes(me.role))
          return t('tr_roles', { list: x.roles.map((r) => codeLabel(sop, 'role', r)).join(', ') });
        if (x.lead_only && c.lead_organisation?.id !== me.organisation.id) return t('tr_lead');
        return t('tr_not_now');
      };
      sec.append(el('h3', { text: t('others_title') }),
        el('ul', { id: 'others' }, others.map((x) => el('li', { dataset: { transition: x.id } },
          el('strong', { text: pick(x.label) }), ` — ${why(x)}`))));
    }
    return sec;
  }

  function consents(c) {
    const sec = el('section', { class: 'card', id: 'consents', 'aria-labelledby': 'consents-title' });
    sec.append(el('h2', { id: 'consents-title', text: t('consents_title') }));
    const list = c.consents || [];
    if (list.length === 0) sec.append(el('p', { class: 'muted', text: t('no_consents') }));
    else {
      sec.append(el('div', { class: 'table-wrap' }, el('table', null,
        el('thead', null, el('tr', null, ['c_scope', 'c_given_by', 'c_date', 'c_state', 'r_actions'].map((k) => el('th', { scope: 'col', class: k === 'r_actions' ? 'no-print' : null, text: t(k) })))),
        el('tbody', null, list.map((x) => el('tr', null,
          el('td', { text: codeLabel(sop, 'consent_scope', x.scope) }),
          el('td', { text: t(`given_by_${x.given_by}`) }),
          el('td', { text: fmtDate(x.date) }),
          el('td', null, x.in_force ? el('span', { class: 'badge badge-ok', text: t('c_in_force') })
            : el('span', { class: 'badge badge-muted', text: t('c_withdrawn', { date: fmtDate(x.withdrawn_at) }) })),
          el('td', { class: 'no-print' }, x.in_force ? el('button', { type: 'button', class: 'danger no-print',
            'aria-label': t('c_withdraw_label', { scope: codeLabel(sop, 'consent_scope', x.scope), date: fmtDate(x.date) }),
            text: t('c_withdraw'),
            on: { click: () => act(null, 'DELETE', `/api/v1/cases/${id}/consents/${x.id}`, undefined, t('c_withdrawn_ok')) } }) : null)))))));
    }
    const form = el('form', { id: 'consent-form', novalidate: true },
      el('h3', { text: t('c_record') }),
      el('div', { class: 'grid2' },
        field('consent-scope', t('c_scope'), select('consent-scope', 'scope', codes(sop, 'consent_scope').map((x) => ({ value: x.code, text: pick(x.label) })))),
        field('consent-given-by', t('c_given_by'), select('consent-given-by', 'given_by',
          ['victim', 'guardian'].map((v) => ({ value: v, text: t(`given_by_${v}`) })), c.child ? 'guardian' : 'victim')),
        field('consent-date', t('c_date'), el('input', { id: 'consent-date', name: 'date', type: 'date', max: today(), value: today(), required: true })),
        field('consent-note', t('c_note'), el('input', { id: 'consent-note', name: 'note', maxlength: 4000, autocomplete: 'off' }))),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', text: t('c_record') })),
      el('div', { class: 'form-msg' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = form.elements;
      if (!f.date.value) { f.date.setAttribute('aria-invalid', 'true'); f.date.focus(); return; }
      act(form, 'POST', `/api/v1/cases/${id}/consents`, { scope: f.scope.value, given_by: f.given_by.value,
        date: f.date.value, note: f.note.value.trim() || null }, t('c_recorded'));
    });
    sec.append(form);
    return sec;
  }

  function referrals(c, organisations) {
    const sec = el('section', { class: 'card', id: 'referrals', 'aria-labelledby': 'refs-title' });
    sec.append(el('h2', { id: 'refs-title', text: t('refs_title') }));
    const list = c.referrals || [];
    const mine = me.organisation.id;
    if (list.length === 0) sec.append(el('p', { class: 'muted', text: t('no_refs') }));
    else {
      sec.append(el('div', { class: 'table-wrap' }, el('table', { id: 'referral-list' },
        el('thead', null, el('tr', null, ['r_from', 'r_to', 'r_service', 'r_urgency', 'r_status', 'r_respond_by', 'r_actions']
          .map((k) => el('th', { scope: 'col', class: k === 'r_actions' ? 'no-print' : null, text: t(k) })))),
        el('tbody', null, list.map((x) => {
          const acts = [];
          if (x.status === 'pending' && x.from_organisation?.id === mine)
            acts.push(el('button', { type: 'button', class: 'danger no-print', text: t('r_withdraw'),
              on: { click: () => act(null, 'POST', `/api/v1/referrals/${x.id}/withdraw`, { reason: null }, t('r_withdrawn_ok')) } }));
          if (x.status === 'pending' && x.to_organisation?.id === mine)
            acts.push(el('a', { href: `#/inbox/${x.id}`, class: 'no-print', text: t('r_answer') }));
          if (x.status === 'accepted' && x.to_organisation?.id === mine)
            acts.push(el('button', { type: 'button', class: 'secondary no-print', text: t('r_complete'),
              on: { click: () => act(null, 'POST', `/api/v1/referrals/${x.id}/complete`, { note: null }, t('r_completed_ok')) } }));
          return el('tr', { class: x.overdue ? 'overdue' : null, dataset: { status: x.status } },
            el('td', { text: x.from_organisation?.name || '—' }),
            el('td', { text: x.to_organisation?.name || '—' }),
            el('td', { text: codeLabel(sop, 'service', x.service) }),
            el('td', { text: codeLabel(sop, 'urgency', x.urgency) }),
            el('td', { text: t(`status_${x.status}`) }),
            el('td', { text: x.status === 'pending' ? fmtDateTime(x.respond_by) : '—' }),
            el('td', { class: 'no-print' }, el('div', { class: 'actions' }, acts)));
        })))));
    }
    // A new referral: the SOP's rules for the caller's organisation kind.
    const rules = (sop.referral_rules || []).filter((r) => r.from.includes(me.organisation.kind));
    if (rules.length === 0 || c.erased) { sec.append(el('p', { class: 'muted', text: t('r_none_possible') })); return sec; }
    const services = [...new Set(rules.flatMap((r) => r.services))];
    const kindsFor = (svc) => new Set(rules.filter((r) => r.services.includes(svc)).flatMap((r) => r.to));
    const consentFor = (svc, kind) => {
      const r = rules.find((x) => x.services.includes(svc) && x.to.includes(kind));
      return r ? r.consent || null : null;
    };
    const allKinds = new Set(rules.flatMap((r) => r.to));
    const eligible = organisations.filter((o) => o.id !== mine && allKinds.has(o.kind));
    const inForce = (c.consents || []).filter((x) => x.in_force);
    // A child must be referred to child protection first: offered by default.
    const svcSel = select('referral-service', 'service', services.map((s) => ({ value: s, text: codeLabel(sop, 'service', s) })),
      c.child && services.includes('child_protection') ? 'child_protection' : undefined);
    const orgSel = el('select', { id: 'referral-org', name: 'to_organisation_id' },
      eligible.map((o) => el('option', { value: o.id, dataset: { kind: o.kind },
        text: `${o.name} (${codeLabel(sop, 'kind', o.kind)})` })));
    const urgSel = select('referral-urgency', 'urgency', (sop.urgencies || []).map((u) => ({ value: u.code,
      text: t('r_within', { label: codeLabel(sop, 'urgency', u.code), h: u.respond_within_hours }) })), 'normal');
    const conSel = el('select', { id: 'referral-consent', name: 'consent_id', 'aria-describedby': 'referral-consent-hint' },
      el('option', { value: '', text: t('r_no_consent') }),
      inForce.map((x) => el('option', { value: x.id, dataset: { scope: x.scope },
        text: `${codeLabel(sop, 'consent_scope', x.scope)} — ${fmtDate(x.date)}` })));
    const hint = el('p', { class: 'hint', id: 'referral-consent-hint' });
    function sync() {
      const kinds = kindsFor(svcSel.value);
      let firstOk = null;
      for (const o of orgSel.options) {
        const ok = kinds.has(o.dataset.kind);
        o.hidden = !ok; o.disabled = !ok;
        if (ok && !firstOk) firstOk = o;
      }
      if (orgSel.selectedOptions[0]?.disabled && firstOk) orgSel.value = firstOk.value;
      const kind = orgSel.selectedOptions[0]?.dataset.kind;
      const need = kind ? consentFor(svcSel.value, kind) : null;
      hint.textContent = need ? t('r_consent_needed', { scope: codeLabel(sop, 'consent_scope', need) }) : '';
      if (need && !conSel.value) {
        const match = [...conSel.options].find((o) => o.dataset.scope === need);
        if (match) conSel.value = match.value;
      }
    }
    svcSel.addEventListener('change', sync);
    orgSel.addEventListener('change', sync);
    const form = el('form', { id: 'referral-form', novalidate: true },
      el('h3', { text: t('r_new') }),
      el('div', { class: 'grid2' },
        field('referral-service', t('r_service'), svcSel),
        field('referral-org', t('r_org'), orgSel),
        field('referral-urgency', t('r_urgency'), urgSel),
        el('div', { class: 'field' }, el('label', { for: 'referral-consent', text: t('r_consent') }), conSel, hint),
        el('div', { class: 'field wide' }, el('label', { for: 'referral-note', text: t('r_note') }),
          el('textarea', { id: 'referral-note', name: 'note', maxlength: 4000, rows: 2 }))),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', text: t('r_send') })),
      el('div', { class: 'form-msg' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = form.elements;
      act(form, 'POST', `/api/v1/cases/${id}/referrals`, { to_organisation_id: f.to_organisation_id.value,
        service: f.service.value, urgency: f.urgency.value, note: f.note.value.trim() || null,
        consent_id: f.consent_id.value || null }, (d) => t('r_sent', { date: fmtDateTime(d?.respond_by) }));
    });
    sec.append(form);
    sync();
    return sec;
  }

  function notes(c) {
    const sec = el('section', { class: 'card', id: 'notes', 'aria-labelledby': 'notes-title' });
    sec.append(el('h2', { id: 'notes-title', text: t('notes_title') }));
    const list = c.notes || [];
    if (list.length === 0) sec.append(el('p', { class: 'muted', text: t('no_notes') }));
    else sec.append(el('ul', { class: 'plain', id: 'note-list' }, list.map((n) => el('li', { class: 'card' },
      el('p', { class: 'muted' }, `${fmtDateTime(n.at)} — ${n.organisation?.name || ''} — ${fieldLabel(sop, 'notes', n.category)} — ${t(`vis_${n.visibility}`)}`),
      el('p', { class: 'pre', text: n.body ?? '' })))));
    const cats = sop.fields.filter((f) => f.section === 'notes');
    const form = el('form', { id: 'note-form', novalidate: true },
      el('h3', { text: t('n_add') }),
      el('div', { class: 'grid2' },
        field('note-category', t('n_category'), select('note-category', 'category', cats.map((f) => ({ value: f.name, text: pick(f.label) })), 'general')),
        field('note-visibility', t('n_visibility'), select('note-visibility', 'visibility',
          ['organisation', 'case'].map((v) => ({ value: v, text: t(`vis_${v}`) })), 'organisation')),
        el('div', { class: 'field wide' }, el('label', { for: 'note-body', text: t('n_body') }),
          el('textarea', { id: 'note-body', name: 'body', maxlength: 20000, rows: 4, required: true }))),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', text: t('n_add') })),
      el('div', { class: 'form-msg' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = form.elements;
      if (!f.body.value.trim()) {
        f.body.setAttribute('aria-invalid', 'true');
        form.querySelector('.form-msg').replaceChildren(message(t('required'), 'error'));
        f.body.focus();
        return;
      }
      act(form, 'POST', `/api/v1/cases/${id}/notes`, { body: f.body.value, visibility: f.visibility.value, category: f.category.value }, t('n_added'));
    });
    sec.append(form);
    return sec;
  }

  function services(c) {
    const sec = el('section', { class: 'card', id: 'services', 'aria-labelledby': 'services-title' });
    sec.append(el('h2', { id: 'services-title', text: t('services_title') }));
    const list = c.services || [];
    if (list.length === 0) sec.append(el('p', { class: 'muted', text: t('no_services') }));
    else sec.append(el('div', { class: 'table-wrap' }, el('table', null,
      el('thead', null, el('tr', null, ['s_service', 's_date', 's_by'].map((k) => el('th', { scope: 'col', text: t(k) })))),
      el('tbody', null, list.map((s) => el('tr', null, el('td', { text: codeLabel(sop, 'service', s.service) }),
        el('td', { text: fmtDate(s.date) }), el('td', { text: s.organisation?.name || '—' })))))));
    const svc = codes(sop, 'service').filter((x) => x.code !== 'lead_transfer' && x.code !== 'investigation');
    const form = el('form', { id: 'service-form', novalidate: true },
      el('h3', { text: t('s_add') }),
      el('div', { class: 'grid2' },
        field('service-service', t('s_service'), select('service-service', 'service', svc.map((x) => ({ value: x.code, text: pick(x.label) })))),
        field('service-date', t('s_date'), el('input', { id: 'service-date', name: 'date', type: 'date', max: today(), value: today() })),
        field('service-note', t('s_note'), el('input', { id: 'service-note', name: 'note', maxlength: 4000, autocomplete: 'off' }))),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', text: t('s_add') })),
      el('div', { class: 'form-msg' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = form.elements;
      if (!f.date.value) { f.date.setAttribute('aria-invalid', 'true'); f.date.focus(); return; }
      act(form, 'POST', `/api/v1/cases/${id}/services`, { service: f.service.value, date: f.date.value, note: f.note.value.trim() || null }, t('s_added'));
    });
    sec.append(form);
    return sec;
  }

  function justice(c) {
    const sec = el('section', { class: 'card', id: 'justice', 'aria-labelledby': 'justice-title' });
    sec.append(el('h2', { id: 'justice-title', text: t('justice_title') }),
      el('p', { id: 'justice-status', text: t('justice_now', { status: codeLabel(sop, 'justice_status', c.justice.status) }) }));
    if (c.justice.note) sec.append(el('p', { class: 'pre', text: c.justice.note }));
    if (!['police', 'judiciary'].includes(me.organisation.kind)) return sec;
    const form = el('form', { id: 'justice-form', novalidate: true },
      el('div', { class: 'grid2' },
        field('justice-new', t('j_status'), select('justice-new', 'status', codes(sop, 'justice_status').map((x) => ({ value: x.code, text: pick(x.label) })), c.justice.status)),
        field('justice-note', t('j_note'), el('input', { id: 'justice-note', name: 'note', maxlength: 4000, autocomplete: 'off' }))),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', text: t('j_save') })),
      el('div', { class: 'form-msg' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = form.elements;
      act(form, 'PUT', `/api/v1/cases/${id}/justice`, { status: f.status.value, note: f.note.value.trim() || null }, t('j_saved'));
    });
    sec.append(form);
    return sec;
  }

  function detailText(kind, d) {
    if (!d) return '';
    const parts = [];
    for (const [k, v] of Object.entries(d)) {
      if (typeof v !== 'string' || k.endsWith('_id') || k === 'category') continue;
      if (kind.startsWith('justice') && (k === 'from' || k === 'status')) parts.push(codeLabel(sop, 'justice_status', v));
      else if (DETAIL_CATEGORY[k]) parts.push(codeLabel(sop, DETAIL_CATEGORY[k], v));
      else if (k === 'date') parts.push(fmtDate(v));
      else if (k === 'given_by') parts.push(t(`given_by_${v}`));
      else if (k === 'transition') parts.push(transitionLabel(v));
    }
    if (d.from && d.to && !kind.startsWith('justice'))
      return [`${codeLabel(sop, 'stage', d.from)} → ${codeLabel(sop, 'stage', d.to)}`,
        ...parts.filter((p) => p !== codeLabel(sop, 'stage', d.from) && p !== codeLabel(sop, 'stage', d.to))].join(' · ');
    if (kind.startsWith('justice') && d.from && d.status)
      return `${codeLabel(sop, 'justice_status', d.from)} → ${codeLabel(sop, 'justice_status', d.status)}`;
    return parts.join(' · ');
  }

  function timeline(c) {
    const sec = el('section', { class: 'card', id: 'timeline', 'aria-labelledby': 'timeline-title' });
    sec.append(el('h2', { id: 'timeline-title', text: t('timeline_title') }));
    const list = c.timeline || [];
    if (list.length === 0) { sec.append(el('p', { class: 'muted', text: t('no_timeline') })); return sec; }
    sec.append(el('ol', { class: 'plain timeline' }, list.map((e) => {
      const key = `tl_${e.kind.replace('.', '_')}`;
      const label = t(key) === key ? e.kind : t(key);
      const d = detailText(e.kind, e.detail);
      return el('li', null,
        el('strong', { text: label }), d ? ` — ${d}` : '',
        el('br'), el('span', { class: 'muted', text: `${fmtDateTime(e.at)} · ${e.organisation?.name || ''}` }),
        e.kind !== 'note' && e.body ? el('p', { class: 'pre', text: e.body }) : null);
    })));
    return sec;
  }

  await build();
}
