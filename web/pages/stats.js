// Statistics for the committee (analysts: the whole country; supervisors:
// the cases their organisation leads). Anonymised aggregates only: the page
// asks GET /api/v1/stats and /api/v1/indicators, shows suppressed cells as
// such (never as zero, in the table or the chart), and downloads the exports.
// Nothing of the query goes to storage; exports go through download(), which
// keeps nothing in a URL.
import { addStrings, lang } from '../i18n.js';
import {
  h, relabel, ensureCss, loadSop, pick, sopCodes, sopLabel, locale, fmtNum,
  fmtDay, apiError,
} from './kit.js';

const STRINGS = {
  fr: {
    st_title: 'Statistiques anonymisées',
    st_intro: 'Effectifs de victimes présumées par catégorie, sans aucune donnée d\'identité. Les petits effectifs sont masqués.',
    st_scope_country: 'Portée : tout le pays (dossiers de toutes les organisations).',
    st_scope_organisation: 'Portée : les dossiers dont votre organisation est chef de file.',
    st_choices: 'Période et ventilation',
    st_year: 'Année', st_from: 'Du mois', st_to: 'Au mois (inclus)',
    st_month_hint: 'Une année civile, entière ou de tel mois à tel mois. Pour le détail dans l\'année, ventilez par mois ou par trimestre.',
    st_dim1: 'Ventiler par', st_dim2: 'Puis par (facultatif)', st_none: '— aucune —',
    st_show: 'Afficher', st_loading: 'Calcul en cours…',
    st_bad_month: 'Le premier mois doit venir avant le second, ou être le même.',
    st_same_dim: 'Choisissez deux ventilations différentes.',
    st_updated: 'Résultats mis à jour : du {from} au {to}.',
    st_period: 'Période : du {from} au {to}.',
    st_widened: 'La période demandée a été étendue aux mois entiers.',
    st_k: 'Les effectifs de 1 à {km1} sont masqués (k = {k}), ainsi que d\'autres cases choisies pour qu\'aucun effectif masqué ne puisse être retrouvé par soustraction des totaux.',
    st_suppressed: 'masqué',
    st_suppressed_title: 'Masqué : petit effectif, ou masqué pour protéger un petit effectif',
    st_legend_suppressed: 'Case masquée',
    st_table: 'Tableau', st_caption: 'Victimes présumées par {dims}, du {from} au {to}',
    st_caption0: 'Victimes présumées, du {from} au {to}',
    st_total: 'Total', st_count: 'Victimes présumées',
    st_empty: 'Aucune victime présumée dans la période.',
    st_chart: 'Graphique', st_chart_y: 'Victimes présumées',
    st_chart_gaps: 'Les cases masquées ne sont pas dessinées, pas même comme zéro : elles apparaissent en pointillés sur l\'axe.',
    st_chart_margins: 'Trop de valeurs pour « {dim2} » : le graphique montre les totaux par « {dim1} » ; le tableau donne le détail.',
    st_chart_withheld: 'Toutes les cases croisées sont masquées : le graphique montre les totaux par « {dim1} ».',
    st_chart_alt: 'Graphique en barres des victimes présumées par {dims}. Les chiffres sont dans le tableau.',
    st_chart_none: 'Choisissez une ventilation pour voir un graphique.',
    st_chart_unavailable: 'Le graphique n\'a pas pu être chargé ; le tableau donne les mêmes chiffres.',
    st_exports: 'Exports',
    st_exports_note: 'Les exports reprennent la période et les ventilations affichées, avec les mêmes cases masquées. Chaque export est inscrit au journal d\'audit.',
    st_export_csv: 'Télécharger en CSV', st_export_xlsx: 'Télécharger en XLSX (tableur)',
    st_export_json: 'Télécharger en JSON', st_export_htcds: 'Télécharger l\'export HTCDS (CSV)',
    st_htcds_note: 'HTCDS : une ligne k-anonyme par dossier, dans les champs du Human Trafficking Case Data Standard de l\'OIM, pour le partage international.',
    st_export_done: 'Fichier {name} téléchargé.',
    st_export_failed: 'L\'export a échoué : {msg}',
    st_indicators: 'Indicateurs opérationnels',
    st_ind_not_published: 'Non publié : moins de {k} réponses dans la période.',
    st_ind_value: 'Valeur', st_hours: '{n} h',
    st_error: 'Les statistiques n\'ont pas pu être calculées : {msg}',
    st_network: 'le serveur ne répond pas',
    st_unknown: 'Inconnu', st_no_referral: 'Aucune orientation',
    st_child: 'Enfant', st_adult: 'Adulte',
    st_dim_sex: 'Sexe', st_dim_age_band: 'Tranche d\'âge', st_dim_nationality: 'Nationalité',
    st_dim_region: 'Région d\'identification', st_dim_stage: 'Étape actuelle',
    st_dim_justice_status: 'Volet judiciaire', st_dim_identifying_kind: 'Type d\'organisation ayant identifié',
    st_dim_child: 'Enfant ou adulte', st_dim_year: 'Année d\'identification',
    st_dim_month: 'Mois d\'identification', st_dim_quarter: 'Trimestre d\'identification', st_quarter: 'T{q} {y}', st_dim_exploitation_type: 'Forme d\'exploitation',
    st_dim_referral_service: 'Service d\'orientation',
    st_dim_decline_reason: 'Motif du refus', st_dim_service: 'Service',
    st_unit_cases: 'Dossiers', st_unit_referrals: 'Orientations', st_unit_services: 'Services délivrés',
    st_multi: '(plusieurs valeurs par victime)',
    st_and: ' et ',
  },
  en: {
    st_title: 'Anonymised statistics',
    st_intro: 'Counts of presumed victims by category, without any identity data. Small counts are suppressed.',
    st_scope_country: 'Scope: the whole country (cases of every organisation).',
    st_scope_organisation: 'Scope: the cases your organisation leads.',
    st_choices: 'Period and breakdown',
    st_year: 'Year', st_from: 'From month', st_to: 'To month (included)',
    st_month_hint: 'A calendar year, whole or from one month to another. For detail within the year, break down by month or quarter.',
    st_dim1: 'Break down by', st_dim2: 'Then by (optional)', st_none: '— none —',
    st_show: 'Show', st_loading: 'Computing…',
    st_bad_month: 'The first month must come before the second, or be the same.',
    st_same_dim: 'Choose two different breakdowns.',
    st_updated: 'Results updated: {from} to {to}.',
    st_period: 'Period: {from} to {to}.',
    st_widened: 'The period asked for was widened to whole months.',
    st_k: 'Counts from 1 to {km1} are suppressed (k = {k}), and other cells too, chosen so that no suppressed count can be recovered by subtracting totals.',
    st_suppressed: 'suppressed',
    st_suppressed_title: 'Suppressed: a small count, or hidden to protect a small count',
    st_legend_suppressed: 'Suppressed cell',
    st_table: 'Table', st_caption: 'Presumed victims by {dims}, {from} to {to}',
    st_caption0: 'Presumed victims, {from} to {to}',
    st_total: 'Total', st_count: 'Presumed victims',
    st_empty: 'No presumed victim in the period.',
    st_chart: 'Chart', st_chart_y: 'Presumed victims',
    st_chart_gaps: 'Suppressed cells are not drawn, not even as zero: they show as dashed outlines on the axis.',
    st_chart_margins: 'Too many values of "{dim2}": the chart shows the totals by "{dim1}"; the table has the detail.',
    st_chart_withheld: 'Every crossed cell is suppressed: the chart shows the totals by "{dim1}".',
    st_chart_alt: 'Bar chart of presumed victims by {dims}. The figures are in the table.',
    st_chart_none: 'Choose a breakdown to see a chart.',
    st_chart_unavailable: 'The chart could not be loaded; the table gives the same figures.',
    st_exports: 'Exports',
    st_exports_note: 'Exports hold the period and breakdowns shown, with the same suppressed cells. Every export is recorded in the audit trail.',
    st_export_csv: 'Download as CSV', st_export_xlsx: 'Download as XLSX (spreadsheet)',
    st_export_json: 'Download as JSON', st_export_htcds: 'Download the HTCDS export (CSV)',
    st_htcds_note: 'HTCDS: one k-anonymous row per case, in the fields of IOM\'s Human Trafficking Case Data Standard, for international sharing.',
    st_export_done: 'Downloaded {name}.',
    st_export_failed: 'The export failed: {msg}',
    st_indicators: 'Operational indicators',
    st_ind_not_published: 'Not published: fewer than {k} answers in the period.',
    st_ind_value: 'Value', st_hours: '{n} h',
    st_error: 'The statistics could not be computed: {msg}',
    st_network: 'the server does not answer',
    st_unknown: 'Unknown', st_no_referral: 'No referral',
    st_child: 'Child', st_adult: 'Adult',
    st_dim_sex: 'Sex', st_dim_age_band: 'Age band', st_dim_nationality: 'Nationality',
    st_dim_region: 'Region of identification', st_dim_stage: 'Current stage',
    st_dim_justice_status: 'Justice track', st_dim_identifying_kind: 'Kind of identifying organisation',
    st_dim_child: 'Child or adult', st_dim_year: 'Year of identification',
    st_dim_month: 'Month of identification', st_dim_quarter: 'Quarter of identification', st_quarter: 'Q{q} {y}', st_dim_exploitation_type: 'Form of exploitation',
    st_dim_referral_service: 'Referral service',
    st_dim_decline_reason: 'Reason for declining', st_dim_service: 'Service',
    st_unit_cases: 'Cases', st_unit_referrals: 'Referrals', st_unit_services: 'Services delivered',
    st_multi: '(several values per victim)',
    st_and: ' and ',
  },
};

// Chart colours: each at least 3:1 against white (WCAG 1.4.11); the same
// order as .st-c0 ... .st-c5 in stats.css.
const COLORS = ['#1f5fa8', '#b35000', '#2e7d32', '#6a1b9a', '#c62828', '#00695c'];
const MAX_SERIES = COLORS.length;
const FALLBACK_DIMS = ['sex', 'age_band', 'nationality', 'region', 'stage', 'justice_status',
  'identifying_kind', 'child', 'year', 'month', 'exploitation_type', 'referral_service'];
// SOP category holding the labels of a dimension's (or indicator's) values.
const CATEGORY = {
  sex: 'sex', age_band: 'age_band', region: 'region', stage: 'stage',
  justice_status: 'justice_status', exploitation_type: 'exploitation_type',
  identifying_kind: 'kind', referral_service: 'service', service: 'service',
  decline_reason: 'decline_reason',
};
// What an indicator's table counts.
const IND_UNIT = {
  cases_by_stage: 'st_unit_cases', justice_outcomes: 'st_unit_cases',
  referrals_declined: 'st_unit_referrals', services_delivered: 'st_unit_services',
};
// Indicators given as a table: the dimension of their rows.
const IND_DIM = {
  victims_identified_by_month: 'month', victims_identified_by_region: 'region',
  victims_identified_by_sex: 'sex', victims_identified_by_age_band: 'age_band',
  cases_by_stage: 'stage', justice_outcomes: 'justice_status',
  referrals_declined: 'decline_reason', services_delivered: 'service',
};

let uplotPromise = null;
// The last query of this page (period and breakdown: nothing about anyone),
// in memory only, so that a language switch, which renders the page again,
// shows the same figures; and the chart drawn, to let go of it then.
let lastQuery = null;
let knownDims = null;	// the API's list, once an answer gave it
let chart = { plot: null, obs: null };
function dropChart() {
  if (chart.obs) chart.obs.disconnect();
  if (chart.plot) chart.plot.destroy();
  chart = { plot: null, obs: null };
}

// uPlot, from the installed npm package that the server serves under /lib/
// (the minified build: a third of the module build's size on a slow link).
// Loaded only here, the first time a chart is drawn.
function loadUplot() {
  if (!uplotPromise) {
    ensureCss('/lib/uplot/uPlot.min.css');
    uplotPromise = new Promise((resolve, reject) => {
      if (window.uPlot) { resolve(window.uPlot); return; }
      const s = document.createElement('script');
      s.src = '/lib/uplot/uPlot.iife.min.js';
      s.async = true;
      s.addEventListener('load', () => (window.uPlot ? resolve(window.uPlot) : reject(new Error('uPlot'))));
      s.addEventListener('error', () => { uplotPromise = null; reject(new Error('uPlot')); });
      document.head.appendChild(s);
    });
  }
  return uplotPromise;
}

function lowerFirst(s) { return s.charAt(0).toLocaleLowerCase() + s.slice(1); }
function pad(n) { return String(n).padStart(2, '0'); }
function lastDay(ym) {
  const [y, m] = ym.split('-').map(Number);
  return `${ym}-${pad(new Date(Date.UTC(y, m, 0)).getUTCDate())}`;
}

export async function render(root, ctx) {
  const { t, api, download } = ctx;
  addStrings(STRINGS);
  const L = lang;
  ensureCss('/pages/stats.css');

  const me = ctx.me || {};
  const org = me.organisation || {};
  const committee = org.kind === 'committee';

  dropChart();
  // The period: one calendar year, whole by default, or some of its months
  // (a request never spans two years: one answer, one year's population).
  const thisYear = new Date().getUTCFullYear();
  if (lastQuery && lastQuery.user !== me.id) lastQuery = null;
  const q0 = lastQuery || { year: String(thisYear), from: '01', to: '12', d1: 'sex', d2: '' };
  const state = { stats: null, indicators: null, available: knownDims, sop: null, busy: false };

  const ids = { year: 'st-year', from: 'st-from', to: 'st-to', d1: 'st-dim1', d2: 'st-dim2', hint: 'st-month-hint', err: 'st-form-error' };
  const years = Array.from({ length: 10 }, (_, i) => String(thisYear - i));
  if (!years.includes(q0.year)) years.push(q0.year);
  const yearIn = h('select', { id: ids.year, name: 'year', 'aria-describedby': ids.hint },
    years.map((y) => h('option', { value: y, text: y })));
  yearIn.value = q0.year;
  const monthName = (m) => new Intl.DateTimeFormat(locale(L()), { month: 'long', timeZone: 'UTC' })
    .format(new Date(Date.UTC(2000, Number(m) - 1, 1)));
  const months = Array.from({ length: 12 }, (_, i) => pad(i + 1));
  const fromIn = h('select', { id: ids.from, name: 'from', 'aria-describedby': ids.hint },
    months.map((m) => h('option', { value: m, text: monthName(m) })));
  const toIn = h('select', { id: ids.to, name: 'to', 'aria-describedby': ids.hint },
    months.map((m) => h('option', { value: m, text: monthName(m) })));
  fromIn.value = q0.from;
  toIn.value = q0.to;
  const d1 = h('select', { id: ids.d1, name: 'dim1' });
  const d2 = h('select', { id: ids.d2, name: 'dim2' });
  const formErr = h('p', { id: ids.err, class: 'st-error', role: 'alert' });
  const showBtn = h('button', { type: 'submit', class: 'st-primary', k: 'st_show' });
  const live = h('p', { class: 'st-live', role: 'status', 'aria-live': 'polite' });

  const form = h('form', { class: 'st-form', novalidate: true, 'aria-describedby': ids.hint },
    h('fieldset', {},
      h('legend', { k: 'st_choices' }),
      h('div', { class: 'st-row' },
        h('div', { class: 'st-field' }, h('label', { for: ids.year, k: 'st_year' }), yearIn),
        h('div', { class: 'st-field' }, h('label', { for: ids.from, k: 'st_from' }), fromIn),
        h('div', { class: 'st-field' }, h('label', { for: ids.to, k: 'st_to' }), toIn)),
      h('p', { id: ids.hint, class: 'st-hint', k: 'st_month_hint' }),
      h('div', { class: 'st-row' },
        h('div', { class: 'st-field' }, h('label', { for: ids.d1, k: 'st_dim1' }), d1),
        h('div', { class: 'st-field' }, h('label', { for: ids.d2, k: 'st_dim2' }), d2)),
      formErr,
      showBtn));

  const notes = h('div', { class: 'st-notes' });
  const tableBox = h('div', { class: 'st-table-wrap' });
  const chartBox = h('div', { class: 'st-chart', role: 'img' });
  const chartLegend = h('ul', { class: 'st-legend' });
  const chartNote = h('p', { class: 'st-hint' });
  const exportMsg = h('p', { class: 'st-live', role: 'status', 'aria-live': 'polite' });
  const exportBtns = [
    ['csv', 'st_export_csv'], ['xlsx', 'st_export_xlsx'], ['json', 'st_export_json'],
  ].map(([fmt, key]) => h('button', { type: 'button', class: 'st-export', k: key, 'data-format': fmt }));
  const htcdsBtn = committee && me.role === 'analyst'
    ? h('button', { type: 'button', class: 'st-export', k: 'st_export_htcds', 'data-format': 'htcds' }) : null;
  const indBox = h('div', { class: 'st-indicators' });

  const page = h('section', { class: 'st-page', 'aria-labelledby': 'st-h1' },
    h('h1', { id: 'st-h1', k: 'st_title' }),
    h('p', { k: 'st_intro' }),
    h('p', { class: 'st-scope', k: committee ? 'st_scope_country' : 'st_scope_organisation' }),
    form, live, notes,
    h('section', { class: 'st-block', 'aria-labelledby': 'st-h-chart' },
      h('h2', { id: 'st-h-chart', k: 'st_chart' }), chartBox, chartLegend, chartNote),
    h('section', { class: 'st-block', 'aria-labelledby': 'st-h-table' },
      h('h2', { id: 'st-h-table', k: 'st_table' }), tableBox),
    h('section', { class: 'st-block', 'aria-labelledby': 'st-h-exports' },
      h('h2', { id: 'st-h-exports', k: 'st_exports' }),
      h('p', { class: 'st-hint', k: 'st_exports_note' }),
      h('div', { class: 'st-buttons' }, exportBtns, htcdsBtn),
      htcdsBtn ? h('p', { class: 'st-hint', k: 'st_htcds_note' }) : null,
      exportMsg),
    h('section', { class: 'st-block', 'aria-labelledby': 'st-h-ind' },
      h('h2', { id: 'st-h-ind', k: 'st_indicators' }), indBox));

  root.replaceChildren(page);
  relabel(page, t);

  // --- labels of dimensions and values, in the chosen language -----------
  const dimLabel = (d) => {
    const s = t(`st_dim_${d}`);
    return s === `st_dim_${d}` ? d : s;
  };
  function valueLabel(dim, code) {
    const l = L();
    if (code === null || code === undefined) return '—';
    if (dim === 'child') return t(code === 'child' ? 'st_child' : 'st_adult');
    if ((dim === 'referral_service' || dim === 'service') && code === 'none') return t('st_no_referral');
    if (dim === 'quarter' && /^\d{4}-Q[1-4]$/.test(code)) return t('st_quarter', { q: code.slice(6), y: code.slice(0, 4) });
    if (dim === 'month' && /^\d{4}-\d{2}$/.test(code)) {
      const d = new Date(`${code}-01T00:00:00Z`);
      return new Intl.DateTimeFormat(locale(l), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
    }
    if (dim === 'nationality' && /^[A-Za-z]{2}$/.test(code)) {
      try {
        const n = new Intl.DisplayNames([locale(l)], { type: 'region' }).of(code.toUpperCase());
        if (n) return n;
      } catch { /* an unknown code: as it is */ }
    }
    const cat = CATEGORY[dim];
    const s = cat ? sopLabel(state.sop, cat, code, l) : null;
    if (s) return s;
    if (code === 'unknown') return t('st_unknown');
    return code;
  }
  function orderValues(dim, values) {
    const cat = CATEGORY[dim];
    const order = cat ? sopCodes(state.sop, cat).map((c) => c.code) : [];
    const rank = (v) => {
      const i = order.indexOf(v);
      if (i >= 0) return i;
      return v === 'unknown' || v === 'none' ? 1e6 : 1e5;
    };
    return [...values].sort((a, b) => {
      const d = rank(a) - rank(b);
      if (d) return d;
      if (dim === 'month' || dim === 'year' || dim === 'quarter') return a < b ? -1 : a > b ? 1 : 0;
      return valueLabel(dim, a).localeCompare(valueLabel(dim, b), locale(L()));
    });
  }
  const fmt = (n) => fmtNum(n, L());

  function fillDims() {
    const list = state.available || FALLBACK_DIMS.map((id) => ({ id, multi_valued: false }));
    const keep1 = d1.value || q0.d1;
    const keep2 = d1.value ? d2.value : q0.d2;
    const opt = (d) => h('option', { value: d.id, text: dimLabel(d.id) + (d.multi_valued ? ` ${t('st_multi')}` : '') });
    d1.replaceChildren(...list.map(opt));
    d2.replaceChildren(h('option', { value: '', text: t('st_none') }), ...list.map(opt));
    d1.value = list.some((d) => d.id === keep1) ? keep1 : list[0].id;
    d2.value = keep2;
  }

  // --- the answer ----------------------------------------------------------
  function countText(c) {
    if (!c) return fmt(0);
    if (c.suppressed || c.count === null) return null;
    return fmt(c.count);
  }
  function countCell(tag, c, extra) {
    const txt = countText(c);
    if (txt !== null) return h(tag, { class: 'st-num', ...extra }, txt);
    return h(tag, { class: 'st-num st-suppressed', title: t('st_suppressed_title'), ...extra },
      h('span', { 'aria-hidden': 'true', class: 'st-mark' }), t('st_suppressed'));
  }

  function drawNotes() {
    const s = state.stats;
    notes.replaceChildren();
    if (!s) return;
    const l = L();
    notes.append(...[
      h('p', {}, t('st_period', { from: fmtDay(s.period.from, l), to: fmtDay(s.period.to, l) })),
      // widened to whole months (period.widened), or, where the server
      // answers for whole years, its own note (period_note)
      s.period_note ? h('p', { class: 'st-note' }, pick(s.period_note, l))
        : s.period.widened || s.period_widened ? h('p', { class: 'st-note' }, t('st_widened')) : null,
      // counted as of a cut-off (the start of the month): said by the server
      s.as_of_note ? h('p', { class: 'st-note st-as-of' }, pick(s.as_of_note, l)) : null,
      h('p', { class: 'st-note' }, t('st_k', { k: s.k, km1: s.k - 1 })),
      s.note ? h('p', { class: 'st-note' }, pick(s.note, l)) : null,
      h('p', { class: 'st-key' }, h('span', { class: 'st-suppressed st-chip' }, h('span', { 'aria-hidden': 'true', class: 'st-mark' }), t('st_suppressed')),
        ` ${t('st_suppressed_title')}`)].filter(Boolean));
  }

  // rows and columns of the answer, in order, and a lookup of its cells
  function shape(s) {
    // in the order the user chose them (the server may list them otherwise)
    const order = state.order || [];
    const rank = (d) => (order.indexOf(d) < 0 ? 9 : order.indexOf(d));
    const dims = [...(s.dimensions || [])].sort((a, b) => rank(a) - rank(b));
    const cells = new Map();
    const vals = dims.map(() => new Set());
    for (const c of s.cells || []) {
      dims.forEach((d, j) => vals[j].add(c[d]));
      cells.set(dims.map((d) => c[d]).join('\u0000'), c);
    }
    const margins = dims.map(() => new Map());
    dims.forEach((d, j) => {
      for (const c of (s.totals && s.totals[d]) || []) {
        vals[j].add(c[d]);
        margins[j].set(c[d], c);
      }
    });
    return {
      dims, cells, margins,
      values: dims.map((d, j) => orderValues(d, vals[j])),
      total: s.totals && s.totals.all,
    };
  }

  function drawTable() {
    const s = state.stats;
    tableBox.replaceChildren();
    if (!s) return;
    const l = L();
    const sh = shape(s);
    const period = { from: fmtDay(s.period.from, l), to: fmtDay(s.period.to, l) };
    const caption = h('caption', {}, sh.dims.length
      ? t('st_caption', { dims: sh.dims.map((x) => lowerFirst(dimLabel(x))).join(t('st_and')), ...period })
      : t('st_caption0', period));
    let table;
    if (sh.dims.length <= 1) {
      const d = sh.dims[0];
      const body = (sh.values[0] || []).map((v) => h('tr', {},
        h('th', { scope: 'row' }, valueLabel(d, v)),
        countCell('td', sh.cells.get(String(v)))));
      table = h('table', { class: 'st-table' }, caption,
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, d ? dimLabel(d) : ''), h('th', { scope: 'col', class: 'st-num' }, t('st_count')))),
        h('tbody', {}, body),
        h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, t('st_total')), countCell('td', sh.total))));
    } else {
      const [a, b] = sh.dims;
      const [rows, cols] = sh.values;
      table = h('table', { class: 'st-table st-cross' }, caption,
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, `${dimLabel(a)} ↓ · ${dimLabel(b)} →`),
          cols.map((c) => h('th', { scope: 'col', class: 'st-num' }, valueLabel(b, c))),
          h('th', { scope: 'col', class: 'st-num' }, t('st_total')))),
        h('tbody', {}, rows.map((r) => h('tr', {},
          h('th', { scope: 'row' }, valueLabel(a, r)),
          cols.map((c) => countCell('td', sh.cells.get(`${r}\u0000${c}`))),
          countCell('td', sh.margins[0].get(r), { class: 'st-num st-margin' })))),
        h('tfoot', {}, h('tr', {},
          h('th', { scope: 'row' }, t('st_total')),
          cols.map((c) => countCell('td', sh.margins[1].get(c))),
          countCell('td', sh.total))));
    }
    tableBox.append(table);
    if (sh.total && sh.total.count === 0) tableBox.append(h('p', { class: 'st-hint' }, t('st_empty')));
  }

  // --- the chart -------------------------------------------------------------
  function chartData() {
    const s = state.stats;
    const sh = shape(s);
    const d = sh.dims;
    if (d.length === 0) return null;
    const groups = sh.values[0];
    let series;
    let margins = false;
    // Every crossed cell withheld: nothing to draw but the margins.
    const withheld = d.length === 2 && sh.cells.size > 0
      && [...sh.cells.values()].every((c) => c.suppressed || c.count === null);
    if (d.length === 2 && sh.values[1].length <= MAX_SERIES && !withheld) {
      series = sh.values[1].map((c) => ({
        label: valueLabel(d[1], c),
        cell: (g) => sh.cells.get(`${g}\u0000${c}`) || { count: 0 },
      }));
    } else if (d.length === 2) {
      margins = withheld ? 'st_chart_withheld' : 'st_chart_margins';
      series = [{ label: t('st_total'), cell: (g) => sh.margins[0].get(g) || { count: 0 } }];
    } else {
      series = [{ label: t('st_count'), cell: (g) => sh.cells.get(String(g)) || { count: 0 } }];
    }
    // One x per bar: groups at 0, 1, 2 ... and the series side by side
    // inside a group. A series is null where another's bar stands, and
    // where its own cell is suppressed (a gap, never a zero).
    const m = series.length;
    const step = 0.8 / m;
    const xs = [];
    const ys = series.map(() => []);
    const marks = [];
    groups.forEach((g, gi) => series.forEach((se, si) => {
      const x = gi - 0.4 + step * (si + 0.5);
      xs.push(x);
      const c = se.cell(g);
      ys.forEach((arr, sj) => {
        if (sj !== si) { arr.push(null); return; }
        if (c.suppressed || c.count === null) { arr.push(null); marks.push(x); } else arr.push(c.count);
      });
    }));
    return {
      dim: d[0], dims: d, groups, series, xs, ys, marks, step, margins,
      labels: groups.map((g) => valueLabel(d[0], g)),
    };
  }

  async function drawChart() {
    dropChart();
    chartBox.replaceChildren();
    chartLegend.replaceChildren();
    chartNote.replaceChildren();
    const s = state.stats;
    if (!s) return;
    const cd = chartData();
    // Every category is listed, empty ones as 0: no victim means no chart.
    const tot = shape(s).total;
    const none = tot && tot.count === 0;
    if (!cd || cd.groups.length === 0 || none) {
      chartBox.hidden = true;
      chartNote.textContent = t(cd ? 'st_empty' : 'st_chart_none');
      return;
    }
    chartBox.hidden = false;
    chartBox.setAttribute('aria-label', t('st_chart_alt', { dims: cd.dims.map((x) => lowerFirst(dimLabel(x))).join(t('st_and')) }));
    let U;
    try {
      U = await loadUplot();
    } catch {
      chartNote.textContent = t('st_chart_unavailable');
      return;
    }
    if (!chartBox.isConnected) return;
    const width = Math.max(280, chartBox.clientWidth || 600);
    const longest = Math.max(...cd.labels.map((x) => x.length), 1);
    const narrow = Math.min(longest, 28) * 7.5 > (width - 80) / cd.groups.length - 8;
    const height = width < 500 ? 260 : 320;
    const maxLabel = narrow ? 16 : 28;
    const short = (x) => (x.length > maxLabel ? `${x.slice(0, maxLabel - 1)}…` : x);
    const font = '13px system-ui, sans-serif';
    const ink = '#1b1b1b';
    const drawMarks = (u) => {
      if (!cd.marks.length) return;
      const ctx = u.ctx;
      const pr = window.devicePixelRatio || 1;
      const y0 = u.valToPos(0, 'y', true);
      const w = Math.min(64 * pr, Math.abs(u.valToPos(cd.step, 'x', true) - u.valToPos(0, 'x', true)) * 0.85);
      const hgt = 18 * pr;
      ctx.save();
      ctx.setLineDash([4 * pr, 3 * pr]);
      ctx.lineWidth = 1.5 * pr;
      ctx.strokeStyle = '#4d4d4d';
      for (const x of cd.marks) {
        const cx = u.valToPos(x, 'x', true);
        ctx.strokeRect(cx - w / 2, y0 - hgt, w, hgt);
      }
      ctx.restore();
    };
    const opts = {
      width, height,
      legend: { show: false },
      cursor: { show: false },
      select: { show: false },
      scales: {
        x: { time: false, range: () => [-0.6, cd.groups.length - 0.4] },
        y: { range: (u, min, max) => [0, Math.max(5, Math.ceil((max || 0) * 1.15))] },
      },
      axes: [
        {
          label: dimLabel(cd.dim), labelFont: `bold ${font}`, font, stroke: ink,
          grid: { show: false },
          splits: () => cd.groups.map((g, i) => i),
          values: (u, splits) => splits.map((i) => (Number.isInteger(i) && cd.labels[i] !== undefined ? short(cd.labels[i]) : '')),
          rotate: narrow ? -40 : 0,
          size: narrow ? 110 : 40,
        },
        {
          label: t('st_chart_y'), labelFont: `bold ${font}`, font, stroke: ink,
          grid: { stroke: '#d9d9d9', width: 1 },
          incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000],
          values: (u, splits) => splits.map((v) => fmtNum(v, L())),
          size: 56,
        },
      ],
      series: [{}, ...cd.series.map((se, i) => ({
        label: se.label,
        fill: COLORS[i % COLORS.length],
        stroke: COLORS[i % COLORS.length],
        width: 0,
        points: { show: false },
        paths: U.paths.bars({ size: [0.85, 64], align: 0 }),
      }))],
      hooks: { draw: [drawMarks] },
    };
    chart.plot = new U(opts, [cd.xs, ...cd.ys], chartBox);
    if (cd.series.length > 1) {
      chartLegend.append(...cd.series.map((se, i) => h('li', {},
        h('span', { class: `st-sw st-c${i}`, 'aria-hidden': 'true' }), se.label)));
    }
    chartLegend.append(h('li', {}, h('span', { class: 'st-sw st-sw-gap', 'aria-hidden': 'true' }), t('st_legend_suppressed')));
    chartNote.append(t('st_chart_gaps'));
    if (cd.margins) chartNote.append(' ', t(cd.margins, { dim1: dimLabel(cd.dims[0]), dim2: dimLabel(cd.dims[1]) }));
    if (typeof ResizeObserver === 'function') {
      let last = width;
      const obs = new ResizeObserver(() => {
        if (!chartBox.isConnected) { obs.disconnect(); return; }
        const w2 = Math.max(280, chartBox.clientWidth);
        if (Math.abs(w2 - last) > 8) { last = w2; drawChart(); }
      });
      obs.observe(chartBox);
      chart.obs = obs;
    }
  }

  // --- indicators ----------------------------------------------------------
  function indValue(ind, k) {
    const v = ind.value;
    const l = L();
    if (v === null || v === undefined) return h('p', { class: 'st-note' }, t('st_ind_not_published', { k }));
    if (typeof v === 'number') {
      let txt;
      if (ind.id === 'referrals_answered_in_time') txt = fmtNum(v, l, { style: 'percent', maximumFractionDigits: 1 });
      else if (/hours/.test(ind.id)) txt = t('st_hours', { n: fmtNum(v, l, { maximumFractionDigits: 1 }) });
      else txt = fmtNum(v, l);
      return h('p', { class: 'st-ind-value' }, txt);
    }
    if (v && Array.isArray(v.rows)) {
      const dim = IND_DIM[ind.id];
      const rows = orderValues(dim, v.rows.map((r) => r.value));
      const byValue = new Map(v.rows.map((r) => [r.value, r]));
      return h('table', { class: 'st-table st-small' },
        h('caption', { class: 'st-sr' }, pick(ind.definition, l)),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, dimLabel(dim)), h('th', { scope: 'col', class: 'st-num' }, t(IND_UNIT[ind.id] || 'st_count')))),
        h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, valueLabel(dim, r)), countCell('td', byValue.get(r))))),
        h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, t('st_total')), countCell('td', v.total))));
    }
    return h('p', {}, String(v));
  }

  function drawIndicators() {
    indBox.replaceChildren();
    const s = state.indicators;
    if (!s) return;
    const l = L();
    indBox.append(...(s.indicators || []).map((ind) => h('article', { class: 'st-ind' },
      h('h3', {}, pick(ind.definition, l)), indValue(ind, s.k))));
  }

  function drawAll() {
    drawNotes();
    drawTable();
    drawIndicators();
    drawChart();
  }

  // --- asking --------------------------------------------------------------
  function queryString() {
    const y = yearIn.value;
    const f = fromIn.value;
    const to = toIn.value;
    if (f > to) return { error: 'st_bad_month', field: toIn };
    if (d2.value && d2.value === d1.value) return { error: 'st_same_dim', field: d2 };
    const by = [d1.value, d2.value].filter(Boolean).join(',');
    const p = new URLSearchParams({ from: `${y}-${f}-01`, to: lastDay(`${y}-${to}`) });
    if (by) p.set('by', by);
    return { qs: p.toString(), y, f, to };
  }

  async function run() {
    if (state.busy) return;
    const q = queryString();
    formErr.textContent = '';
    for (const e of [yearIn, fromIn, toIn, d1, d2]) e.removeAttribute('aria-invalid');
    if (q.error) {
      formErr.textContent = t(q.error);
      q.field.setAttribute('aria-invalid', 'true');
      q.field.focus();
      return;
    }
    // The button stays enabled (a disabled one would drop the focus);
    // a second press while busy does nothing.
    state.busy = true;
    live.textContent = t('st_loading');
    page.setAttribute('aria-busy', 'true');
    const base = new URLSearchParams(q.qs);
    base.delete('by');
    const [rs, ri] = await Promise.all([
      api('GET', `/api/v1/stats?${q.qs}`),
      api('GET', `/api/v1/indicators?${base.toString()}`),
    ]);
    state.busy = false;
    page.removeAttribute('aria-busy');
    if (!page.isConnected) return;
    if (rs.status !== 200) {
      live.textContent = '';
      const bad = { from: fromIn, to: toIn, by: d1 }[rs.data && rs.data.error && rs.data.error.field];
      if (bad) bad.setAttribute('aria-invalid', 'true');
      formErr.textContent = t('st_error', { msg: apiError(rs, rs.status === 0 ? t('st_network') : `HTTP ${rs.status}`) });
      return;
    }
    state.stats = rs.data;
    state.indicators = ri.status === 200 ? ri.data : null;
    if (Array.isArray(rs.data.available_dimensions)
        && JSON.stringify(rs.data.available_dimensions) !== JSON.stringify(state.available)) {
      state.available = rs.data.available_dimensions;
      knownDims = state.available;
      fillDims();
    }
    state.query = q.qs;
    state.order = [d1.value, d2.value].filter(Boolean);
    lastQuery = { user: me.id, year: q.y, from: q.f, to: q.to, d1: d1.value, d2: d2.value };
    drawAll();
    live.textContent = t('st_updated', { from: fmtDay(rs.data.period.from, L()), to: fmtDay(rs.data.period.to, L()) });
  }

  async function exportAs(format) {
    const s = state.stats;
    if (!s || !state.query) return;
    const p = new URLSearchParams(state.query);
    let path;
    let name;
    if (format === 'htcds') {
      p.delete('by');
      path = `/api/v1/exports/htcds.csv?${p.toString()}`;
      name = `htcds-${s.period.from}-${s.period.to}.csv`;
    } else {
      path = `/api/v1/exports/stats.${format}?${p.toString()}`;
      name = `passerelle-stats-${s.period.from}-${s.period.to}.${format}`;
    }
    exportMsg.textContent = t('st_loading');
    const r = await download(path, name);
    exportMsg.textContent = r.status === 200
      ? t('st_export_done', { name })
      : t('st_export_failed', { msg: apiError(r, r.status === 0 ? t('st_network') : `HTTP ${r.status}`) });
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); run(); });
  for (const b of [...exportBtns, htcdsBtn].filter(Boolean)) {
    b.addEventListener('click', () => exportAs(b.getAttribute('data-format')));
  }

  fillDims();
  state.sop = await (ctx.sop ? ctx.sop().catch(() => null) : loadSop(api));
  await run();
}
