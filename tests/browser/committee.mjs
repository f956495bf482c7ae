// Browser test: the committee's statistics, the administration and the audit
// trail (web/pages/stats.js, admin.js, audit.js).
//
// Cases are registered through the API by the police desk and an NGO with
// known names; then, in Chromium:
//   - the committee analyst opens the statistics, breaks them down by age
//     band: the chart is drawn (canvas pixels in the bars' colour), the
//     table marks the suppressed cells, and a CSV downloaded from the page
//     holds none of the victims' names, phones or places;
//   - the language switch changes every visible label of the page (no French
//     text is left in English, and back);
//   - the same at 360 px wide: nothing wider than the screen but the table;
//   - the administrator creates an account in a field organisation and sees
//     it waiting for its supervisor's approval; the police supervisor
//     approves it; the administrator sees it active;
//   - the auditor runs the audit check and sees it hold, and pages through
//     the trail;
//   - no console error on any page (the harness).
// Screenshots of each step in tests/artifacts/browser/committee/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { begin } from './lib/harness.mjs';

const h = await begin('committee');
const FAMILY = 'Zorvanelle';
const GIVEN = 'Assitanou';
const PLACE = 'Quartier-Kalabanbougou';
const PHONE = '+223 76 55 01';

function today() { return new Date().toISOString().slice(0, 10); }

// 6 women 18-24 (Bamako), 6 men 25-34 (Gao), 5 women 35-49 (Mopti),
// 2 boys 12-17 (Kayes), 5 men 18-24 (Bamako), 5 women 25-34 (Gao): by age
// band, 12-17 (2) is below k = 5 and another band is suppressed with it;
// by region and sex, Bamako's and Gao's cells are 5 or more.
const groups = [
  { n: 6, sex: 'female', age: 20, region: 'bamako', types: ['forced_labour'], who: 'police.agent' },
  { n: 6, sex: 'male', age: 30, region: 'gao', types: ['forced_begging'], who: 'police.agent' },
  { n: 5, sex: 'female', age: 40, region: 'mopti', types: ['domestic_servitude'], who: 'ong.agent' },
  { n: 2, sex: 'male', age: 15, region: 'kayes', types: ['forced_begging'], who: 'ong.agent' },
  { n: 5, sex: 'male', age: 22, region: 'bamako', types: ['forced_labour'], who: 'ong.agent' },
  { n: 5, sex: 'female', age: 31, region: 'gao', types: ['domestic_servitude'], who: 'ong.agent' },
];
const TOTAL = String(groups.reduce((n, g) => n + g.n, 0));
const names = [];
await h.check(`fixture: ${TOTAL} cases registered through the API`, async () => {
  const sessions = {};
  let i = 0;
  for (const g of groups) {
    sessions[g.who] ||= await h.api(g.who);
    for (let j = 0; j < g.n; j++, i++) {
      const given = `${GIVEN}${String.fromCharCode(97 + (i % 26))}${i}`;
      names.push(given);
      const r = await sessions[g.who].call('POST', '/api/v1/cases', {
        victim: { given_name: given, family_name: FAMILY, sex: g.sex, age_estimate: g.age,
          phone: `${PHONE} ${String(i).padStart(2, '0')}` },
        identification: { date: today(), region: g.region, place: PLACE,
          exploitation_types: g.types, narrative: `Récit de ${given} ${FAMILY}` },
      });
      assert.equal(r.status, 201, JSON.stringify(r.data));
    }
  }
  names.push(FAMILY, PLACE, PHONE);
});

// Every visible text of the page's own area, one string per element.
async function visibleTexts(page) {
  return page.$$eval('#page *', (els) => els
    .filter((e) => (e.offsetParent !== null || e.getClientRects().length) && !e.closest('[translate="no"]'))
    .flatMap((e) => [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()))
    .filter((s) => s.length > 0));
}

// Text of the page's area whose contrast with its background is under WCAG
// AA (4.5:1; 3:1 for large text), as "ratio: text".
function lowContrast(page) {
  return page.$$eval('#page *', (els) => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = (c) => {
      const f = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c;
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const el of els) {
      if (!el.getClientRects().length) continue;
      if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const cs = getComputedStyle(el);
      const a = lum(rgb(cs.color)), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(cs.fontSize);
      const need = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) bad.push(`${ratio.toFixed(2)}: ${el.textContent.trim().slice(0, 40)}`);
    }
    return bad;
  });
}

// ---------------------------------------------------------------- statistics
const analyst = await h.newPage({ tag: 'analyst' });
await h.login(analyst, 'comite.analyste');
await analyst.goto(`${h.url}/#/stats`);
await analyst.waitForSelector('.st-page .st-table');
await h.shot(analyst, 'stats-by-sex');

await h.check('the statistics page is in French by default, scoped to the country', async () => {
  assert.equal(await analyst.textContent('#st-h1'), 'Statistiques anonymisées');
  assert.match(await analyst.textContent('.st-scope'), /tout le pays/);
});

await h.check('the dimension choices come from the API', async () => {
  const ids = await analyst.$$eval('#st-dim1 option', (o) => o.map((x) => x.value));
  const r = await (await h.api('comite.analyste')).call('GET', `/api/v1/stats?from=${today()}&to=${today()}`);
  assert.deepEqual(ids, r.data.available_dimensions.map((d) => d.id));
});

await analyst.selectOption('#st-dim1', 'age_band');
await analyst.click('.st-form button[type=submit]');
await analyst.waitForFunction(() => /tranche d'âge/.test(document.querySelector('.st-table-wrap .st-table caption')?.textContent || ''));
await analyst.waitForSelector('.st-chart canvas');
await analyst.waitForTimeout(300);
await h.shot(analyst, 'stats-by-age-band');

await h.check('the table marks suppressed cells, shows the others, and the notes say why', async () => {
  const rows = await analyst.$$eval('.st-table-wrap .st-table tbody tr', (trs) => trs.map((tr) => ({
    label: tr.querySelector('th').textContent, text: tr.querySelector('td').textContent,
    suppressed: tr.querySelector('td').classList.contains('st-suppressed') })));
  const hidden = rows.filter((r) => r.suppressed);
  assert.ok(hidden.length >= 2, `suppressed rows: ${JSON.stringify(rows)}`);
  for (const r of hidden) assert.match(r.text, /masqué/);
  const kid = rows.find((r) => r.label.startsWith('12'));
  assert.ok(kid && kid.suppressed, `12-17 (2 victims) not suppressed: ${JSON.stringify(rows)}`);
  assert.ok(!rows.some((r) => /^[1-4]$/.test(r.text.trim())), 'a count below k is shown');
  // every category is listed: the empty ones as 0
  const shown = rows.filter((r) => !r.suppressed && Number(r.text) > 0).map((r) => Number(r.text));
  assert.deepEqual(shown, [11, 11], `shown: ${shown}`);
  assert.ok(rows.every((r) => r.suppressed || /^\d+$/.test(r.text.trim())), JSON.stringify(rows));
  assert.match(await analyst.textContent('.st-notes'), /k = 5/);
});

await h.check('the chart is drawn: bars in the first colour on the canvas, gaps explained', async () => {
  const px = await analyst.$eval('.st-chart canvas', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0, bar = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) ink++;
      if (Math.abs(d[i] - 0x1f) < 6 && Math.abs(d[i + 1] - 0x5f) < 6 && Math.abs(d[i + 2] - 0xa8) < 6) bar++;
    }
    return { ink, bar, w: c.width, h: c.height };
  });
  assert.ok(px.w > 200 && px.h > 150, `canvas ${px.w}x${px.h}`);
  assert.ok(px.bar > 500, `bar pixels: ${px.bar}`);
  assert.match(await analyst.textContent('.st-block'), /pointillés/);
  const lib = await analyst.$$eval('script[src]', (s) => s.map((x) => x.getAttribute('src')));
  assert.ok(lib.includes('/lib/uplot/uPlot.iife.min.js'), `scripts: ${lib}`);
});

await h.check('the indicators are listed with their definitions in French', async () => {
  const heads = await analyst.$$eval('.st-ind h3', (x) => x.map((e) => e.textContent));
  assert.ok(heads.length >= 8, `indicators: ${heads.length}`);
  assert.ok(heads.some((s) => /par tranche d'âge/.test(s)), heads.join(' | '));
});

await h.check('text contrast meets WCAG AA on the statistics page', async () => {
  assert.deepEqual(await lowContrast(analyst), []);
});

let csv = '';
await h.check('the CSV downloaded from the page holds counts and no name', async () => {
  const [dl] = await Promise.all([
    analyst.waitForEvent('download'),
    analyst.click('button[data-format="csv"]'),
  ]);
  assert.match(dl.suggestedFilename(), /^passerelle-stats-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  csv = readFileSync(await dl.path(), 'utf8');
  assert.ok(csv.split('\n').length >= 4, csv);
  assert.match(csv, /18-24/);
  for (const n of names) assert.ok(!csv.includes(n), `the CSV holds ${n}`);
  assert.ok(!/Assitanou/i.test(csv) && !/Zorvanelle/i.test(csv));
});

await h.check('the JSON and HTCDS exports download without a name, the XLSX as a workbook', async () => {
  for (const f of ['json', 'htcds', 'xlsx']) {
    const [dl] = await Promise.all([
      analyst.waitForEvent('download'),
      analyst.click(`button[data-format="${f}"]`),
    ]);
    const text = readFileSync(await dl.path(), f === 'xlsx' ? 'latin1' : 'utf8');
    // The workbook is compressed: itest_stats reads its sheets for names.
    if (f === 'xlsx') { assert.equal(text.slice(0, 2), 'PK', 'not a zip'); continue; }
    for (const n of names) assert.ok(!text.includes(n), `${f} holds ${n}`);
  }
});

await h.check('the language switch changes every visible label, and back', async () => {
  const fr = await visibleTexts(analyst);
  await analyst.click('#lang');
  await analyst.waitForFunction(() => document.querySelector('#st-h1')?.textContent === 'Anonymised statistics');
  await analyst.waitForSelector('.st-chart canvas');
  await analyst.waitForTimeout(300);
  await h.shot(analyst, 'stats-english');
  const en = await visibleTexts(analyst);
  // Words that read the same in both languages: the SOP's labels that are
  // (Gao, Identification, ...), and these.
  const same = new Set(['Total', 'Exports', 'Service', 'Passerelle']);
  const sop = (await (await h.api('comite.analyste')).call('GET', '/api/v1/sop')).data;
  for (const c of Object.values(sop.categories))
    for (const x of c.codes || []) if (x.label.fr === x.label.en) same.add(x.label.fr);
  const left = en.filter((s) => fr.includes(s) && !/^[\d\s.,:%+()–\-—→↓·h]*$/.test(s) && !same.has(s)
    && !/^\d{1,2}-\d{1,2}$|^50\+$/.test(s));
  assert.deepEqual(left, [], `still in French after the switch: ${JSON.stringify(left)}`);
  assert.match(await analyst.textContent('.st-table-wrap .st-table caption'), /Presumed victims by age band/);
  assert.equal(await analyst.inputValue('#st-dim1'), 'age_band');
  const rows = await analyst.$$eval('.st-table-wrap .st-table td.st-suppressed', (x) => x.map((e) => e.textContent));
  assert.ok(rows.length >= 2 && rows.every((s) => /suppressed/.test(s)), JSON.stringify(rows));
  await analyst.click('#lang');
  await analyst.waitForFunction(() => document.querySelector('#st-h1')?.textContent === 'Statistiques anonymisées');
});

await h.check('two breakdowns: a cross table with its margins; the chart draws what is published', async () => {
  // Colours of the series, as in stats.js.
  const COLORS = [[0x1f, 0x5f, 0xa8], [0xb3, 0x50, 0x00]];
  const pixels = (rgb) => analyst.$eval('.st-chart canvas', (c, [r, g, b]) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i] - r) < 6 && Math.abs(d[i + 1] - g) < 6 && Math.abs(d[i + 2] - b) < 6) n++;
    return n;
  }, rgb);
  for (const [d1, d2] of [['age_band', 'sex'], ['region', 'sex']]) {
    await analyst.selectOption('#st-dim1', d1);
    await analyst.selectOption('#st-dim2', d2);
    await analyst.click('.st-form button[type=submit]');
    await analyst.waitForFunction((d) => document.querySelector('#st-dim1').value === d
      && document.querySelector('.st-table.st-cross'), d1);
    await analyst.waitForSelector('.st-chart canvas');
    await analyst.waitForTimeout(300);
    await h.shot(analyst, `stats-${d1}-${d2}`);
    const heads = await analyst.$$eval('.st-cross thead th', (x) => x.map((e) => e.textContent));
    // every category of sex, the empty ones too, then the margin
    assert.deepEqual(heads.slice(1), ['Féminin', 'Masculin', 'Autre', 'Non précisé', 'Total'], `${d1} × ${d2}`);
    assert.equal((await analyst.textContent('.st-cross tfoot td:last-child')).trim(), TOTAL);
    // published, non-zero crossed cells of each column (series)
    const shown = await analyst.$$eval('.st-cross tbody tr', (trs) => [1, 2].map((col) => trs.some((tr) => {
      const td = tr.children[col];
      return !td.classList.contains('st-suppressed') && Number(td.textContent) > 0;
    })));
    const legend = await analyst.$$eval('.st-legend li', (x) => x.map((e) => e.textContent));
    if (shown.some(Boolean)) {
      assert.deepEqual(legend, ['Féminin', 'Masculin', 'Autre', 'Non précisé', 'Case masquée']);
      for (const i of [0, 1]) {
        const n = await pixels(COLORS[i]);
        assert.ok(shown[i] ? n > 300 : n === 0, `${d1} × ${d2}: series ${i} published ${shown[i]}, ${n} pixels`);
      }
    } else {
      // every crossed cell withheld: the chart shows the published margins
      assert.match(await analyst.textContent('.st-block'), /Toutes les cases croisées sont masquées/);
      assert.ok(await pixels(COLORS[0]) > 300, `${d1} × ${d2}: margins not drawn`);
    }
  }
});

await h.check('a multi-valued breakdown says how it counts', async () => {
  await analyst.selectOption('#st-dim1', 'exploitation_type');
  await analyst.selectOption('#st-dim2', '');
  assert.match(await analyst.$eval('#st-dim1', (e) => e.selectedOptions[0].textContent), /plusieurs valeurs par victime/);
  await analyst.click('.st-form button[type=submit]');
  await analyst.waitForFunction(() => /exploitation/.test(document.querySelector('.st-table-wrap caption')?.textContent || ''));
  assert.match(await analyst.textContent('.st-notes'), /comptent une victime une fois par valeur/);
  const labels = await analyst.$$eval('.st-table-wrap tbody th', (x) => x.map((e) => e.textContent));
  assert.ok(labels.includes('Travail forcé') || labels.some((l) => /forcé/.test(l)), labels.join(' | '));
});

await h.check('at 360 px wide the statistics page fits the screen', async () => {
  await analyst.setViewportSize({ width: 360, height: 740 });
  await analyst.waitForTimeout(500);
  const over = await analyst.evaluate(() => document.documentElement.scrollWidth);
  await h.shot(analyst, 'stats-360');
  assert.ok(over <= 362, `page is ${over} px wide`);
  await analyst.setViewportSize({ width: 1366, height: 768 });
});

await h.check('another year, asked with the keyboard: no victim, said so, no chart; one month of this year: all of them', async () => {
  const year = new Date().getUTCFullYear();
  await analyst.selectOption('#st-year', String(year - 1));
  await analyst.focus('#st-dim2');
  await analyst.keyboard.press('Tab');	// the keyboard: to "Afficher", Enter
  await analyst.keyboard.press('Enter');
  await analyst.waitForFunction((y) => (document.querySelector('.st-table-wrap .st-table caption')?.textContent || '').includes(String(y)), year - 1);
  assert.equal(await analyst.evaluate(() => document.activeElement?.textContent), 'Afficher', 'the focus left the button');
  assert.match(await analyst.textContent('.st-table-wrap'), /Aucune victime présumée/);
  assert.equal(await analyst.isVisible('.st-chart'), false);
  await h.shot(analyst, 'stats-empty-year');
  const m = String(new Date().getUTCMonth() + 1).padStart(2, '0');
  await analyst.selectOption('#st-year', String(year));
  await analyst.selectOption('#st-from', m);
  await analyst.selectOption('#st-to', m);
  await analyst.click('.st-form button[type=submit]');
  await analyst.waitForFunction((y) => (document.querySelector('.st-table-wrap .st-table caption')?.textContent || '').includes(String(y)), year);
  assert.equal((await analyst.textContent('.st-table-wrap .st-table tfoot td:last-child')).trim(), TOTAL);
  if (m !== '01') {
    await analyst.selectOption('#st-from', '12');
    await analyst.selectOption('#st-to', '01');
    await analyst.click('.st-form button[type=submit]');
    await analyst.waitForSelector('#st-to[aria-invalid="true"]');
    assert.match(await analyst.textContent('#st-form-error'), /premier mois/);
  }
});

await h.check('the page keeps nothing in storage or the URL', async () => {
  const st = await analyst.evaluate(() => ({ l: { ...localStorage }, s: { ...sessionStorage }, u: location.href }));
  assert.deepEqual(Object.keys(st.s), ['passerelle.csrf']);	// this tab's CSRF token only
  assert.ok(Object.keys(st.l).every((k) => k === 'passerelle.lang'), JSON.stringify(st.l));
  assert.ok(!/from=|by=/.test(st.u), st.u);
});

// ------------------------------------------------------------ administration
// Texts that read the same in both languages: the data (names of people's
// accounts and organisations, codes), and the SOP's labels that are.
async function sameInBothLanguages() {
  const same = new Set(['Total', 'Exports', 'Service', 'Passerelle', 'Administration', 'Organisation', 'Organisations', 'Page 1', 'Page 2', 'Actions', 'Action']);
  const adm = await h.api('admin');
  const sop = (await adm.call('GET', '/api/v1/sop')).data;
  for (const c of Object.values(sop.categories))
    for (const x of c.codes || []) if (x.label.fr === x.label.en) same.add(x.label.fr);
  for (const o of (await adm.call('GET', '/api/v1/organisations')).data.items) same.add(o.name);
  for (const u of (await adm.call('GET', '/api/v1/users')).data.items) { same.add(u.username); same.add(`${u.username} (vous)`); }
  return same;
}
function notTranslated(fr, en, same) {
  return en.filter((s) => fr.includes(s) && !same.has(s) && !/^[\d\s.,:%+()–\-—→←↓·h]*$/.test(s)
    && !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(s) && !/^[a-z_]+\.[a-z_.]+$/.test(s)
    && !/^\d{1,3}(\.\d{1,3}){3}$|^::1$|^unknown$/.test(s) && !/UTC$/.test(s));
}

const NEW_USER = 'agent.nouveau';
const POLICE = "Police — bureau d'orientation de Bamako";
const admin = await h.newPage({ tag: 'admin' });
await h.login(admin, 'admin');
await admin.goto(`${h.url}/#/admin`);
await admin.waitForSelector('.ad-page #ad-user-form');
await h.shot(admin, 'admin');

await h.check('the administrator opens an account in a police desk: it waits for approval', async () => {
  await admin.fill('#ad-u-name', NEW_USER);
  await admin.selectOption('#ad-u-role', 'caseworker');
  await admin.selectOption('#ad-u-org', { label: `${POLICE} (Police et gendarmerie (y compris postes frontières))` });
  await admin.click('#ad-user-form button[type=button]');
  assert.match(await admin.inputValue('#ad-u-pass'), /^[A-Za-z2-9]{4}(-[A-Za-z2-9]{4}){3}$/);
  await admin.click('#ad-user-form button[type=submit]');
  await admin.waitForFunction(() => /reste inactif/.test(document.querySelector('.ad-live')?.textContent || ''));
  const row = admin.locator('#ad-h-pending + .ad-list tr[data-user="agent.nouveau"]');
  await row.waitFor();
  assert.match(await row.textContent(), /En attente d'approbation par un·e superviseur·e de Police/);
  assert.equal(await admin.inputValue('#ad-u-pass'), '');
  await h.shot(admin, 'admin-account-waiting');
});

await h.check('text contrast meets WCAG AA on the administration page', async () => {
  assert.deepEqual(await lowContrast(admin), []);
});

await h.check('the administrator cannot turn it on: no reactivate button, the rule is explained', async () => {
  const row = admin.locator('#ad-h-accounts ~ .ad-list tr[data-user="agent.nouveau"]');
  assert.equal(await row.locator('[data-action="ad_reactivate"]').count(), 0);
  assert.match(await admin.textContent('.ad-rule'), /deux personnes/);
});

await h.check('a wrong user name is shown at its field', async () => {
  await admin.fill('#ad-u-name', 'X');
  await admin.click('#ad-user-form button[type=button]');
  await admin.click('#ad-user-form button[type=submit]');
  await admin.waitForSelector('#ad-u-name[aria-invalid="true"]');
  assert.ok((await admin.textContent('#ad-u-name-err')).length > 3);
  await admin.fill('#ad-u-name', '');
});

await h.check('the language switch changes every visible label of the administration', async () => {
  const same = await sameInBothLanguages();
  const fr = await visibleTexts(admin);
  await admin.click('#lang');
  await admin.waitForFunction(() => document.querySelector('#ad-h-pending')?.textContent === 'Accounts waiting for approval');
  await admin.waitForSelector('#ad-h-pending + .ad-list tr[data-user="agent.nouveau"]');
  await h.shot(admin, 'admin-english');
  const left = notTranslated(fr, await visibleTexts(admin), same);
  assert.deepEqual(left, [], `still in French: ${JSON.stringify(left)}`);
  await admin.click('#lang');
  await admin.waitForFunction(() => document.querySelector('#ad-h-pending')?.textContent === "Comptes en attente d'approbation");
});

const chef = await h.newPage({ tag: 'police.chef' });
await h.login(chef, 'police.chef');
await chef.goto(`${h.url}/#/admin`);
await h.check('the police supervisor sees the account waiting and approves it', async () => {
  await chef.waitForSelector('.ad-page', { timeout: 5000 }).catch(() => {
    throw new Error('#/admin does not open to a supervisor of a field organisation (web/app.js areas())');
  });
  const btn = chef.locator('#ad-h-pending + .ad-list tr[data-user="agent.nouveau"] [data-action="ad_approve"]');
  await btn.waitFor();
  await h.shot(chef, 'supervisor-pending');
  await btn.click();
  await chef.waitForFunction(() => /approuvé/.test(document.querySelector('.ad-live')?.textContent || ''));
  assert.match(await chef.textContent('#ad-h-pending + .ad-list'), /Aucun compte n'attend/);
  await h.shot(chef, 'supervisor-approved');
});

await h.check('a supervisor sees the statistics of the cases their organisation leads, without HTCDS', async () => {
  await chef.goto(`${h.url}/#/stats`);
  await chef.waitForSelector('.st-page .st-table-wrap .st-table tfoot');
  assert.match(await chef.textContent('.st-scope'), /votre organisation/);
  assert.equal(await chef.locator('button[data-format="htcds"]').count(), 0);
  assert.equal((await chef.textContent('.st-table-wrap .st-table tfoot td')).trim(), '12');	// 6 + 6 police cases
  await h.shot(chef, 'supervisor-stats');
});

await h.check('the administrator then sees the account active', async () => {
  await admin.reload();	// still signed in (GET /api/v1/session), or asked to sign in
  await admin.waitForSelector('#page[data-route] .page:not([aria-busy]), #login-view:not([hidden])');
  if (await admin.isVisible('#login-form')) await h.login(admin, 'admin');
  await admin.goto(`${h.url}/#/admin`);
  const row = admin.locator('#ad-h-accounts ~ .ad-list tr[data-user="agent.nouveau"]');
  await row.waitFor();
  assert.match(await row.textContent(), /Actif/);
});

await h.check('an account outside the field: active at once; reset, deactivated, reactivated', async () => {
  const COMMITTEE = 'Comité national de lutte contre la traite';
  await admin.fill('#ad-u-name', 'analyste.second');
  await admin.selectOption('#ad-u-role', 'analyst');
  await admin.selectOption('#ad-u-org', { label: `${COMMITTEE} (Comité national de coordination de la lutte contre la traite des personnes)` });
  await admin.click('#ad-user-form button[type=button]');
  await admin.click('#ad-user-form button[type=submit]');
  await admin.waitForFunction(() => /ouvert et actif/.test(document.querySelector('.ad-live')?.textContent || ''));
  const row = () => admin.locator('#ad-h-accounts ~ .ad-list tr[data-user="analyste.second"]');
  assert.match(await row().textContent(), /Actif/);
  await row().locator('[data-action="ad_reset"]').click();
  const pw = row().locator('input[type=text]');
  assert.match(await pw.inputValue(), /^[A-Za-z2-9]{4}(-[A-Za-z2-9]{4}){3}$/);
  await row().locator('button[type=submit]').click();
  await admin.waitForFunction(() => /Mot de passe de analyste.second réinitialisé/.test(document.querySelector('.ad-live')?.textContent || ''));
  await row().locator('[data-action="ad_deactivate"]').click();
  await admin.waitForFunction(() => /analyste.second désactivé/.test(document.querySelector('.ad-live')?.textContent || ''));
  assert.match(await row().textContent(), /Désactivé/);
  await row().locator('[data-action="ad_reactivate"]').click();
  await admin.waitForFunction(() => /analyste.second réactivé/.test(document.querySelector('.ad-live')?.textContent || ''));
  assert.match(await row().textContent(), /Actif/);
  const users = (await (await h.api('admin')).call('GET', '/api/v1/users')).data.items;
  const u = users.find((x) => x.username === 'analyste.second');
  assert.ok(u && u.active && u.must_change_password, JSON.stringify(u));
});

// --------------------------------------------------------------------- audit
const auditor = await h.newPage({ tag: 'auditor' });
await h.login(auditor, 'comite.audit');
await auditor.goto(`${h.url}/#/audit`);
await auditor.waitForSelector('.au-page .au-table');
await h.check('the auditor runs the audit check and it holds', async () => {
  await auditor.click('#au-verify');
  await auditor.waitForSelector('.au-result.au-ok');
  const text = await auditor.textContent('.au-result');
  assert.match(text, /Le journal est intact : [\d\s  ]+ enregistrements vérifiés/);
  const n = Number(text.replace(/[^\d]/g, ''));
  const v = (await (await h.api('comite.audit')).call('GET', '/api/v1/audit/verify')).data;
  assert.equal(v.ok, true);
  assert.ok(n > 20 && n <= v.records, `${n} records shown, ${v.records} now`);
  await h.shot(auditor, 'audit-verified');
});

await h.check('text contrast meets WCAG AA on the audit page', async () => {
  assert.deepEqual(await lowContrast(auditor), []);
});

await h.check('the trail is paged: older records, then back', async () => {
  await auditor.click('.au-page form button[type=submit]');	// the trail as it is now
  await auditor.waitForSelector('.au-page:not([aria-busy]) .au-table');
  const first = await auditor.$$eval('.au-table tbody tr', (r) => r.length);
  assert.equal(first, 50, `${first} rows on the first page`);
  const top = await auditor.textContent('.au-table tbody tr');
  await auditor.click('#au-older');
  await auditor.waitForFunction(() => /2/.test(document.querySelector('.au-pager span')?.textContent || ''));
  assert.notEqual(await auditor.textContent('.au-table tbody tr'), top);
  await auditor.click('#au-newer');
  await auditor.waitForFunction(() => /1/.test(document.querySelector('.au-pager span')?.textContent || ''));
  assert.equal(await auditor.textContent('.au-table tbody tr'), top);
  const actions = await auditor.$$eval('.au-table tbody td:nth-child(2)', (x) => x.map((e) => e.textContent));
  assert.ok(actions.some((a) => /user\./.test(a)), actions.join(' '));
});

await h.check('a click on a user in the trail shows that user\'s records only', async () => {
  const btn = auditor.locator('.au-table tbody td:nth-child(3) button').first();
  const id = await btn.getAttribute('title');
  await btn.click();
  await auditor.waitForFunction((v) => document.querySelector('#au-user')?.value === v, id);
  await auditor.waitForSelector('.au-page:not([aria-busy]) .au-table');
  await auditor.waitForFunction((v) => [...document.querySelectorAll('.au-table tbody td:nth-child(3) button')]
    .every((b) => b.getAttribute('title') === v), id);
  const n = await auditor.$$eval('.au-table tbody tr', (r) => r.length);
  assert.ok(n >= 1, 'no record');
  await auditor.click('.au-page form button.ad-btn:not([type=submit])');
  await auditor.waitForFunction(() => document.querySelector('#au-user')?.value === '');
});

await h.check('the language switch changes every visible label of the audit page', async () => {
  const same = await sameInBothLanguages();
  const fr = await visibleTexts(auditor);
  await auditor.click('#lang');
  await auditor.waitForFunction(() => document.querySelector('#au-h1')?.textContent === 'Audit trail');
  await auditor.waitForSelector('.au-result.au-ok');
  await h.shot(auditor, 'audit-english');
  const left = notTranslated(fr, await visibleTexts(auditor), same);
  assert.deepEqual(left, [], `still in French: ${JSON.stringify(left)}`);
  assert.match(await auditor.textContent('.au-result'), /The trail is intact/);
});

await h.check('at 360 px wide the administration and audit pages fit the screen', async () => {
  for (const [p, name, at] of [[admin, 'admin', '#ad-h-accounts'], [auditor, 'audit', '#au-h-records']]) {
    await p.setViewportSize({ width: 360, height: 740 });
    await p.waitForTimeout(300);
    const w = await p.evaluate(() => document.documentElement.scrollWidth);
    await p.locator(at).scrollIntoViewIfNeeded();
    await h.shot(p, `${name}-360`, { fullPage: false });
    assert.ok(w <= 362, `${name} is ${w} px wide`);
  }
});

process.exitCode = await h.end();
