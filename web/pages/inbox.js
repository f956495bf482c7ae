// The referral inbox: referrals sent to the caller's organisation. A pending
// one shows only the summary the SOP allows before acceptance (no identity):
// sex, age band, child or adult, urgent needs, service, urgency, deadline.
// Accept, or decline with a reason (the SOP's decline reasons).
import { addStrings } from '../i18n.js';
import { el, fmtDateTime, message } from '../ui.js';
import { pick, codes, codeLabel } from '../sop.js';

addStrings({
  fr: {
    inbox_title: 'Orientations reçues', inbox_none: 'Aucune orientation dans cette liste.',
    inbox_filter: 'Afficher', f_pending: 'En attente de réponse', f_accepted: 'Acceptées', f_declined: 'Refusées',
    f_withdrawn: 'Retirées', f_completed: 'Terminées',
    ib_reference: 'Dossier', ib_from: 'De', ib_service: 'Service', ib_urgency: 'Urgence', ib_person: 'Personne',
    ib_needs: 'Besoins urgents', ib_respond_by: 'Répondre avant', ib_status: 'État', ib_open: 'Examiner',
    ib_overdue: 'en retard', ib_child: 'enfant', ib_adult: 'adulte', ib_no_needs: 'aucun indiqué',
    rf_title: 'Orientation reçue — dossier {ref}', rf_missing: 'Cette orientation n\'existe pas ou ne vous est pas adressée.',
    rf_summary: 'Résumé sans identité : l\'identité de la personne ne vous sera visible qu\'après acceptation.',
    rf_accept: 'Accepter l\'orientation', rf_decline: 'Refuser l\'orientation', rf_reason: 'Motif du refus',
    rf_note: 'Précisions (facultatives)', rf_accepted: 'Orientation acceptée.', rf_open_case: 'Ouvrir le dossier {ref}',
    rf_declined: 'Orientation refusée.', rf_failed: 'L\'action a échoué : {msg}', rf_back: 'Retour aux orientations reçues',
    rf_answered: 'Cette orientation a déjà reçu une réponse ({status}).', rf_created: 'Envoyée le',
    st_pending: 'en attente', st_accepted: 'acceptée', st_declined: 'refusée', st_withdrawn: 'retirée', st_completed: 'terminée',
  },
  en: {
    inbox_title: 'Incoming referrals', inbox_none: 'No referral in this list.',
    inbox_filter: 'Show', f_pending: 'Waiting for an answer', f_accepted: 'Accepted', f_declined: 'Declined',
    f_withdrawn: 'Withdrawn', f_completed: 'Completed',
    ib_reference: 'Case', ib_from: 'From', ib_service: 'Service', ib_urgency: 'Urgency', ib_person: 'Person',
    ib_needs: 'Urgent needs', ib_respond_by: 'Answer by', ib_status: 'State', ib_open: 'Review',
    ib_overdue: 'overdue', ib_child: 'child', ib_adult: 'adult', ib_no_needs: 'none given',
    rf_title: 'Incoming referral — case {ref}', rf_missing: 'This referral does not exist or is not addressed to you.',
    rf_summary: 'Summary without identity: the person\'s identity becomes visible to you only after acceptance.',
    rf_accept: 'Accept the referral', rf_decline: 'Decline the referral', rf_reason: 'Reason for declining',
    rf_note: 'Details (optional)', rf_accepted: 'Referral accepted.', rf_open_case: 'Open case {ref}',
    rf_declined: 'Referral declined.', rf_failed: 'The action failed: {msg}', rf_back: 'Back to incoming referrals',
    rf_answered: 'This referral has already been answered ({status}).', rf_created: 'Sent on',
    st_pending: 'pending', st_accepted: 'accepted', st_declined: 'declined', st_withdrawn: 'withdrawn', st_completed: 'completed',
  },
});

const STATUSES = ['pending', 'accepted', 'declined', 'withdrawn', 'completed'];

function person(sop, t, s) {
  if (!s) return '—';
  return `${codeLabel(sop, 'sex', s.sex)}, ${codeLabel(sop, 'age_band', s.age_band)} (${t(s.child ? 'ib_child' : 'ib_adult')})`;
}

function needs(sop, t, s) {
  const n = s?.urgent_needs || [];
  return n.length ? n.map((x) => codeLabel(sop, 'urgent_need', x)).join(', ') : t('ib_no_needs');
}

let chosen = 'pending';	// the list shown, kept while the page lives

export async function render(root, ctx) {
  const sop = await ctx.sop();
  if (ctx.params.id) return one(root, ctx, sop, ctx.params.id);
  const { t } = ctx;
  root.append(el('h1', { text: t('inbox_title') }));
  const sel = el('select', { id: 'inbox-status', name: 'status' },
    STATUSES.map((s) => el('option', { value: s, text: t(`f_${s}`), selected: s === chosen })));
  root.append(el('div', { class: 'field no-print inline' }, el('label', { for: 'inbox-status', text: t('inbox_filter') }), sel));
  const out = el('div', { id: 'inbox-out', 'aria-live': 'polite' });
  root.append(out);

  async function load() {
    chosen = sel.value;
    const r = await ctx.api('GET', `/api/v1/referrals?direction=incoming&status=${encodeURIComponent(chosen)}&limit=500`);
    if (r.status !== 200) { out.replaceChildren(message(r.data?.error?.message || t('error'), 'error')); return; }
    const items = r.data.items.slice();
    items.sort((a, b) => (b.overdue - a.overdue) || String(a.respond_by).localeCompare(String(b.respond_by)));
    if (items.length === 0) { out.replaceChildren(el('p', { class: 'muted', text: t('inbox_none') })); return; }
    out.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { id: 'inbox-list' },
      el('thead', null, el('tr', null, ['ib_reference', 'ib_from', 'ib_service', 'ib_urgency', 'ib_person', 'ib_needs', 'ib_respond_by', 'ib_status']
        .map((k) => el('th', { scope: 'col', text: t(k) })))),
      el('tbody', null, items.map((x) => el('tr', { class: x.overdue && x.status === 'pending' ? 'overdue' : null },
        el('td', null, x.status === 'pending'
          ? el('a', { href: `#/inbox/${x.id}`, 'aria-label': `${t('ib_open')} ${x.case_reference}`, text: x.case_reference })
          : x.case_id ? el('a', { href: `#/cases/${x.case_id}`, text: x.case_reference }) : x.case_reference),
        el('td', { text: x.from_organisation?.name || '—' }),
        el('td', { text: codeLabel(sop, 'service', x.service) }),
        el('td', { text: codeLabel(sop, 'urgency', x.urgency) }),
        el('td', { text: person(sop, t, x.summary) }),
        el('td', { text: needs(sop, t, x.summary) }),
        el('td', null, fmtDateTime(x.respond_by), x.overdue && x.status === 'pending'
          ? [' ', el('span', { class: 'badge badge-late', text: t('ib_overdue') })] : null),
        el('td', { text: t(`st_${x.status}`) })))))));
  }
  sel.addEventListener('change', load);
  await load();
}

async function one(root, ctx, sop, id) {
  const { t } = ctx;
  const r = await ctx.api('GET', `/api/v1/referrals/${id}`);
  root.append(el('p', { class: 'no-print' }, el('a', { href: '#/inbox', text: t('rf_back') })));
  if (r.status !== 200) { root.append(el('h1', { text: t('inbox_title') }), message(t('rf_missing'), 'error')); return; }
  const x = r.data;
  root.append(el('h1', { text: t('rf_title', { ref: x.case_reference }) }));
  const msg = el('div', { id: 'referral-msg', tabindex: '-1' });
  root.append(msg);
  root.append(el('section', { class: 'card', id: 'referral-summary' },
    el('p', { class: 'muted', text: t('rf_summary') }),
    el('dl', { class: 'facts' },
      el('dt', { text: t('ib_from') }), el('dd', { text: x.from_organisation?.name || '—' }),
      el('dt', { text: t('ib_service') }), el('dd', { text: codeLabel(sop, 'service', x.service) }),
      el('dt', { text: t('ib_urgency') }), el('dd', { text: codeLabel(sop, 'urgency', x.urgency) }),
      el('dt', { text: t('ib_person') }), el('dd', { text: person(sop, t, x.summary) }),
      el('dt', { text: t('ib_needs') }), el('dd', { text: needs(sop, t, x.summary) }),
      el('dt', { text: t('rf_created') }), el('dd', { text: fmtDateTime(x.created_at) }),
      el('dt', { text: t('ib_respond_by') }), el('dd', null, fmtDateTime(x.respond_by),
        x.overdue ? [' ', el('span', { class: 'badge badge-late', text: t('ib_overdue') })] : null),
      el('dt', { text: t('ib_status') }), el('dd', { id: 'referral-status', text: t(`st_${x.status}`) }))));
  if (x.status !== 'pending') {
    root.append(message(t('rf_answered', { status: t(`st_${x.status}`) }), 'info'));
    if (x.case_id && x.status === 'accepted')
      root.append(el('p', null, el('a', { href: `#/cases/${x.case_id}`, class: 'primary', text: t('rf_open_case', { ref: x.case_reference }) })));
    return;
  }
  const acceptBtn = el('button', { type: 'button', class: 'primary', id: 'accept', text: t('rf_accept') });
  const declineForm = el('form', { id: 'decline-form', class: 'card', novalidate: true },
    el('h2', { text: t('rf_decline') }),
    el('div', { class: 'grid2' },
      el('div', { class: 'field' }, el('label', { for: 'decline-reason', text: t('rf_reason') }),
        el('select', { id: 'decline-reason', name: 'reason' },
          codes(sop, 'decline_reason').map((c) => el('option', { value: c.code, text: pick(c.label) })))),
      el('div', { class: 'field' }, el('label', { for: 'decline-note', text: t('rf_note') }),
        el('input', { id: 'decline-note', name: 'note', maxlength: 4000, autocomplete: 'off' }))),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'danger', id: 'decline', text: t('rf_decline') })));
  root.append(el('div', { class: 'actions no-print' }, acceptBtn), declineForm);

  function done(text, kind, caseLink) {
    acceptBtn.remove();
    declineForm.remove();
    msg.replaceChildren(message(text, kind),
      caseLink ? el('p', null, el('a', { href: `#/cases/${caseLink}`, class: 'primary', id: 'open-case',
        text: t('rf_open_case', { ref: x.case_reference }) })) : null);
    (msg.querySelector('a') || msg).focus();
  }
  function failed(res) {
    if (res.status === 401) return;
    msg.replaceChildren(message(t('rf_failed', { msg: res.data?.error?.message || t('error') }), 'error'));
    msg.focus();
  }
  acceptBtn.addEventListener('click', async () => {
    acceptBtn.disabled = true;
    const res = await ctx.api('POST', `/api/v1/referrals/${id}/accept`, {});
    acceptBtn.disabled = false;
    if (res.status === 200) done(t('rf_accepted'), 'ok', res.data.case_id);
    else failed(res);
  });
  declineForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = declineForm.elements;
    const res = await ctx.api('POST', `/api/v1/referrals/${id}/decline`, { reason: f.reason.value, note: f.note.value.trim() || null });
    if (res.status === 200) done(t('rf_declined'), 'ok', null);
    else failed(res);
  });
}
