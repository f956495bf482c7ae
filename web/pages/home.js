// Home for caseworkers: the organisation's counts (GET /api/v1/inbox), the
// incoming referrals waiting for an answer (overdue first, then by deadline)
// and the organisation's cases (overdue first), with a search that sends
// names only in a request body (POST /api/v1/cases/search), never in a URL.
import { addStrings } from '../i18n.js';
import { el, fmtDate, fmtDateTime, message } from '../ui.js';
import { codeLabel, codes } from '../sop.js';

addStrings({
  fr: {
    home_title: 'Accueil', home_org: 'Organisation : {org}',
    count_pending_incoming_referrals: 'orientations reçues en attente',
    count_overdue_referrals: 'orientations en retard',
    count_overdue_cases: 'dossiers en retard',
    count_pending_outgoing_referrals: 'orientations envoyées en attente',
    waiting_title: 'Orientations reçues en attente de réponse',
    waiting_none: 'Aucune orientation en attente de réponse.',
    cases_title: 'Dossiers de mon organisation', cases_none: 'Aucun dossier ne correspond.',
    col_reference: 'Référence', col_name: 'Nom', col_stage: 'Étape', col_person: 'Sexe, âge',
    col_opened: 'Ouvert le', col_deadline: 'Prochaine échéance', col_from: 'De',
    col_service: 'Service', col_urgency: 'Urgence', col_respond_by: 'Répondre avant',
    col_lead: 'Organisation cheffe de file', col_action: 'Action',
    overdue: 'en retard', answer: 'Répondre', more: 'Afficher plus',
    search_title: 'Rechercher', search_name: 'Nom', search_dob: 'Date de naissance',
    search_reference: 'Référence (ML-AAAA-NNNNNN)', search_stage: 'Étape', any_stage: 'Toutes',
    search_overdue: 'En retard seulement', search_mine: 'Qui me sont attribués',
    search_go: 'Rechercher', search_reset: 'Effacer', new_case: 'Enregistrer une victime présumée',
    load_error: 'Les données n\'ont pas pu être chargées.',
  },
  en: {
    home_title: 'Home', home_org: 'Organisation: {org}',
    count_pending_incoming_referrals: 'incoming referrals waiting',
    count_overdue_referrals: 'overdue referrals',
    count_overdue_cases: 'overdue cases',
    count_pending_outgoing_referrals: 'outgoing referrals waiting',
    waiting_title: 'Incoming referrals waiting for an answer',
    waiting_none: 'No referral is waiting for an answer.',
    cases_title: 'My organisation\'s cases', cases_none: 'No case matches.',
    col_reference: 'Reference', col_name: 'Name', col_stage: 'Stage', col_person: 'Sex, age',
    col_opened: 'Opened', col_deadline: 'Next deadline', col_from: 'From',
    col_service: 'Service', col_urgency: 'Urgency', col_respond_by: 'Answer by',
    col_lead: 'Lead organisation', col_action: 'Action',
    overdue: 'overdue', answer: 'Answer', more: 'Show more',
    search_title: 'Search', search_name: 'Name', search_dob: 'Date of birth',
    search_reference: 'Reference (ML-YYYY-NNNNNN)', search_stage: 'Stage', any_stage: 'Any',
    search_overdue: 'Overdue only', search_mine: 'Assigned to me',
    search_go: 'Search', search_reset: 'Clear', new_case: 'Register a presumed victim',
    load_error: 'The data could not be loaded.',
  },
});

const COUNTS = ['pending_incoming_referrals', 'overdue_referrals', 'overdue_cases', 'pending_outgoing_referrals'];

function isLate(deadline) { return deadline && new Date(deadline).getTime() < Date.now(); }

function deadlineCell(ctx, deadline, overdue) {
  if (!deadline) return el('td', { text: '—' });
  const late = overdue ?? isLate(deadline);
  return el('td', null, fmtDateTime(deadline), late ? [' ', el('span', { class: 'badge badge-late', text: ctx.t('overdue') })] : null);
}

export async function render(root, ctx) {
  const { t } = ctx;
  const sop = await ctx.sop();
  const [inbox, waiting] = await Promise.all([
    ctx.api('GET', '/api/v1/inbox'),
    ctx.api('GET', '/api/v1/referrals?direction=incoming&status=pending&limit=500'),
  ]);

  root.append(el('div', { class: 'page-head' },
    el('h1', { text: t('home_title') }),
    el('a', { href: '#/cases/new', class: 'primary', text: t('new_case') })));
  root.append(el('p', { class: 'muted', text: t('home_org', { org: ctx.me.organisation.name }) }));

  if (inbox.status === 200) {
    const ul = el('ul', { class: 'counts', id: 'counts' });
    for (const k of COUNTS) {
      if (!(k in inbox.data)) continue;
      const n = inbox.data[k];
      const alert = n > 0 && k.startsWith('overdue');
      const li = el('li', { class: alert ? 'alert' : null, dataset: { count: k } },
        el('span', { class: 'n', text: String(n) }), t(`count_${k}`));
      ul.append(li);
    }
    root.append(ul);
  } else root.append(message(t('load_error'), 'error'));

  // Incoming referrals waiting for an answer.
  root.append(el('h2', { id: 'waiting-title', text: t('waiting_title') }));
  const items = waiting.status === 200 ? waiting.data.items.slice() : [];
  items.sort((a, b) => (b.overdue - a.overdue) || String(a.respond_by).localeCompare(String(b.respond_by)));
  if (items.length === 0) root.append(el('p', { class: 'muted', text: t('waiting_none') }));
  else {
    const tbody = el('tbody');
    for (const r of items) {
      tbody.append(el('tr', { class: r.overdue ? 'overdue' : null },
        el('td', { text: r.case_reference }),
        el('td', { text: r.from_organisation.name }),
        el('td', { text: codeLabel(sop, 'service', r.service) }),
        el('td', { text: codeLabel(sop, 'urgency', r.urgency) }),
        deadlineCell(ctx, r.respond_by, r.overdue),
        el('td', null, el('a', { href: `#/inbox/${r.id}`, 'aria-label': `${t('answer')} — ${r.case_reference}`, text: t('answer') }))));
    }
    root.append(el('div', { class: 'table-wrap' }, el('table', { id: 'waiting', 'aria-labelledby': 'waiting-title' },
      el('thead', null, el('tr', null, ['col_reference', 'col_from', 'col_service', 'col_urgency', 'col_respond_by', 'col_action']
        .map((k) => el('th', { scope: 'col', text: t(k) })))),
      tbody)));
  }

  // The organisation's cases, with a search.
  root.append(el('h2', { id: 'cases-title', text: t('cases_title') }));
  const form = el('form', { class: 'card no-print', id: 'case-search', role: 'search', 'aria-label': t('search_title') });
  const stageSel = el('select', { id: 'search-stage', name: 'stage' },
    el('option', { value: '', text: t('any_stage') }),
    codes(sop, 'stage').map((c) => el('option', { value: c.code, text: codeLabel(sop, 'stage', c.code) })));
  form.append(el('div', { class: 'grid2' },
    el('div', { class: 'field' }, el('label', { for: 'search-name', text: t('search_name') }),
      el('input', { id: 'search-name', name: 'name', autocomplete: 'off', maxlength: 200 })),
    el('div', { class: 'field' }, el('label', { for: 'search-dob', text: t('search_dob') }),
      el('input', { id: 'search-dob', name: 'date_of_birth', type: 'date' })),
    el('div', { class: 'field' }, el('label', { for: 'search-ref', text: t('search_reference') }),
      el('input', { id: 'search-ref', name: 'reference', autocomplete: 'off', maxlength: 32 })),
    el('div', { class: 'field' }, el('label', { for: 'search-stage', text: t('search_stage') }), stageSel)),
  el('div', { class: 'actions' },
    el('label', null, el('input', { type: 'checkbox', id: 'search-overdue', name: 'overdue' }), t('search_overdue')),
    el('label', null, el('input', { type: 'checkbox', id: 'search-mine', name: 'assigned' }), t('search_mine')),
    el('button', { type: 'submit', class: 'primary', text: t('search_go') }),
    el('button', { type: 'reset', class: 'secondary', text: t('search_reset') })));
  root.append(form);
  const out = el('div', { id: 'cases-out', 'aria-live': 'polite' });
  root.append(out);

  const headers = ['col_reference', 'col_name', 'col_stage', 'col_person', 'col_lead', 'col_opened', 'col_deadline'];
  let tbody = null, moreBtn = null;

  function row(c) {
    const late = isLate(c.next_deadline);
    return el('tr', { class: late ? 'overdue' : null },
      el('td', null, el('a', { href: `#/cases/${c.id}`, text: c.reference })),
      el('td', { text: c.display_name || '—' }),
      el('td', { text: codeLabel(sop, 'stage', c.stage) }),
      el('td', { text: `${codeLabel(sop, 'sex', c.sex)}, ${codeLabel(sop, 'age_band', c.age_band)}` }),
      el('td', { class: 'hide-narrow', text: c.lead_organisation ? c.lead_organisation.name : '—' }),
      el('td', { class: 'hide-narrow', text: fmtDate(c.opened_at) }),
      deadlineCell(ctx, c.next_deadline, late));
  }

  function query(cursor) {
    const q = { limit: 50 };
    const f = form.elements;
    if (f.name.value.trim()) q.name = f.name.value.trim();
    if (f.date_of_birth.value) q.date_of_birth = f.date_of_birth.value;
    if (f.reference.value.trim()) q.reference = f.reference.value.trim().toUpperCase();
    if (f.stage.value) q.stage = f.stage.value;
    if (f.overdue.checked) q.overdue = true;
    if (f.assigned.checked) q.assigned = 'me';
    if (cursor) q.cursor = cursor;
    return q;
  }

  async function load(cursor) {
    const r = await ctx.api('POST', '/api/v1/cases/search', query(cursor));
    if (r.status !== 200) {
      out.replaceChildren(message(r.data?.error?.message || t('load_error'), 'error'));
      return;
    }
    let list = r.data.items;
    if (!cursor) {
      // Overdue first, newest first otherwise (the API's order).
      list = list.map((c, i) => ({ c, i, late: isLate(c.next_deadline) ? 1 : 0 }))
        .sort((a, b) => (b.late - a.late) || (a.i - b.i)).map((x) => x.c);
      if (list.length === 0) { out.replaceChildren(el('p', { class: 'muted', text: t('cases_none') })); return; }
      tbody = el('tbody');
      out.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { id: 'cases', 'aria-labelledby': 'cases-title' },
        el('thead', null, el('tr', null, headers.map((k, i) => el('th', { scope: 'col', class: i >= 4 && i <= 5 ? 'hide-narrow' : null, text: t(k) })))),
        tbody)));
    }
    for (const c of list) tbody.append(row(c));
    if (moreBtn) moreBtn.remove();
    moreBtn = null;
    if (r.data.next_cursor) {
      moreBtn = el('button', { type: 'button', class: 'secondary', text: t('more'),
        on: { click: () => load(r.data.next_cursor) } });
      out.append(moreBtn);
    }
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(null); });
  form.addEventListener('reset', () => setTimeout(() => load(null), 0));
  await load(null);
}
