// Browser test of the caseworkers' application (issue 9): a police officer
// registers an adult and refers her to a shelter; the shelter accepts and
// reads the case in another browser context; a one-stop center note stays
// hidden from the police; a child case shows why it cannot move on; the
// language switch leaves no French label visible; a session that ends keeps
// what was typed; the print view, a 360 px screen, storage and the first
// page's weight. Screenshots: tests/artifacts/browser/caseworker/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { begin } from './lib/harness.mjs';

const psql = (url, sql) => execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);

const h = await begin('caseworker');
const idle = async (page) => page.waitForSelector('#page .page:not([aria-busy])');
// Goes to a route; the same route again is loaded afresh (as the nav link does).
const go = async (page, hash) => {
  if (await page.evaluate(() => location.hash) === hash && await page.locator(`#nav a[href="${hash}"]`).count())
    await page.click(`#nav a[href="${hash}"]`);
  else await page.evaluate((x) => { location.hash = x; }, hash);
  await page.waitForSelector(`#page[data-route="${hash.replace(/^#\//, '')}"] .page:not([aria-busy])`);
};
// Clicks a link that changes the route and waits for the new page.
const follow = async (page, selector, hashRe) => {
  await page.click(selector);
  await page.waitForURL(hashRe);
  const hash = await page.evaluate(() => location.hash);
  await page.waitForSelector(`#page[data-route="${hash.replace(/^#\//, '')}"] .page:not([aria-busy])`);
};
const text = (page) => page.evaluate(() => document.body.innerText);

let orgNames = [];

// Text whose contrast with its background is under WCAG AA (4.5:1, or 3:1
// for large text), as "ratio: text".
function lowContrast(page) {
  return page.evaluate(() => {
    const parse = (c) => { const m = c.match(/[\d.]+/g) || []; return m.map(Number); };
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bg = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || el.closest('[disabled]')) continue;
      const cs = getComputedStyle(el);
      const fg = parse(cs.color).slice(0, 3);
      const l1 = lum(fg), l2 = lum(bg(el));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) bad.push(`${ratio.toFixed(2)}: ${el.textContent.trim().slice(0, 40)}`);
    }
    return bad;
  });
}

// French labels (the app's and the SOP's) that must not stay visible in English.
async function frenchLeft(page, sop) {
  const { fr, en } = await page.evaluate(async () => {
    const m = await import('/i18n.js');
    return { fr: m.strings('fr'), en: m.strings('en') };
  });
  const english = new Set(Object.values(en));
  const frs = Object.entries(fr).filter(([k, v]) => en[k] !== v).map(([, v]) => v);
  const walk = (o) => {
    if (o && typeof o === 'object') {
      if (typeof o.fr === 'string' && typeof o.en === 'string' && o.fr !== o.en) {
        frs.push(o.fr);
        english.add(o.en);	// the language "English" is an English label too
      }
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(sop);
  // Organisation names are data (French in the demo), not labels.
  let visible = await text(page);
  for (const o of orgNames) visible = visible.split(o).join(' ');
  const left = [];
  for (const s of frs) {
    if (english.has(s)) continue;
    const part = s.split(/\{\w+\}/).map((x) => x.trim()).sort((a, b) => b.length - a.length)[0];
    if (part.length >= 5 && visible.includes(part)) left.push(part);
  }
  return [...new Set(left)];
}

try {
  const sopApi = await h.api('police.agent');
  const sop = (await sopApi.call('GET', '/api/v1/sop')).data;
  const orgs = (await sopApi.call('GET', '/api/v1/organisations')).data.items;
  const shelter = orgs.find((o) => o.kind === 'shelter' && o.region === 'bamako');
  const oneStop = orgs.find((o) => o.kind === 'one_stop_center');
  orgNames = orgs.map((o) => o.name).sort((a, b) => b.length - a.length);

  // --- the first page --------------------------------------------------------
  const police = await h.newPage({ tag: 'police' });
  const bytes = await police.evaluate(() => performance.getEntriesByType('resource')
    .concat(performance.getEntriesByType('navigation'))
    .map((e) => ({ name: e.name, size: e.encodedBodySize || e.transferSize || 0 })));
  await h.check('the first page weighs under 200 KiB and loads no page module', async () => {
    const total = bytes.reduce((n, e) => n + e.size, 0);
    console.log(`       first page: ${bytes.length} files, ${total} bytes`);
    assert.ok(total > 0 && total < 200 * 1024, `${total} bytes`);
    assert.ok(!bytes.some((e) => e.name.includes('/pages/')), 'a page module was loaded before sign-in');
  });
  await h.shot(police, 'signin');
  await police.click('#lang');
  await h.check('the sign-in page switches to English', async () => {
    assert.equal(await police.locator('#login-view h1').innerText(), 'Sign in');
    assert.equal(await police.locator('label[for=username]').innerText(), 'User name');
    assert.deepEqual(await frenchLeft(police, sop), []);
  });
  await police.click('#lang');
  await police.reload();	// the language is remembered
  await police.waitForSelector('#username');	// no session: the sign-in page, once the server said so
  await h.check('French is remembered after a reload', async () => {
    assert.equal(await police.locator('#login-view h1').innerText(), 'Connexion');
  });

  // Sign in with the keyboard only.
  await police.focus('#username');
  await police.keyboard.type('police.agent');
  await police.keyboard.press('Tab');
  await police.keyboard.type('Passerelle-Demo-2026');
  await police.keyboard.press('Enter');
  await idle(police);
  await h.check('a police officer signs in with the keyboard and sees the caseworker navigation', async () => {
    const nav = await police.locator('#nav a').allInnerTexts();
    assert.deepEqual(nav, ['Accueil', 'Nouveau dossier', 'Orientations reçues']);
    assert.equal(await police.locator('#page h1').innerText(), 'Accueil');
  });
  await h.shot(police, 'police-home');

  // --- registering an adult -------------------------------------------------
  await go(police, '#/cases/new');
  await police.click('#register-save');
  await h.check('the registration form checks required fields before sending', async () => {
    assert.match(await police.locator('#f-victim-sex-error').innerText(), /obligatoire/);
    assert.match(await police.locator('#f-identification-exploitation_types-error').innerText(), /au moins une/);
    assert.equal(await police.locator('#f-victim-sex').getAttribute('aria-invalid'), 'true');
    assert.equal(await police.evaluate(() => document.activeElement.id), 'f-victim-sex');
  });
  await h.shot(police, 'register-client-errors');

  await police.fill('#f-victim-given_name', 'Aminata');
  await police.fill('#f-victim-family_name', 'Diarra');
  await police.fill('#f-victim-date_of_birth', '1998-03-14');
  await police.selectOption('#f-victim-nationality', 'ML');
  await police.check('#f-victim-languages-bm');
  await police.check('#f-victim-languages-fr');
  await police.check('#f-identification-exploitation_types-domestic_servitude');
  await police.check('#f-identification-urgent_needs-safe_shelter');
  // A value the form does not offer reaches the server: its 422 is shown at the field.
  await police.evaluate(() => {
    const s = document.getElementById('f-victim-sex');
    s.append(new Option('x', 'not_a_sex'));
    s.value = 'not_a_sex';
  });
  await police.click('#register-save');
  await police.waitForSelector('#reg-summary .msg-error');
  await h.check("the server's 422 is shown at its field", async () => {
    assert.notEqual((await police.locator('#f-victim-sex-error').innerText()).trim(), '');
    assert.equal(await police.locator('#f-victim-sex').getAttribute('aria-invalid'), 'true');
  });
  await police.selectOption('#f-victim-sex', 'female');
  await police.click('#register-save');
  await police.waitForSelector('#open-case');
  await h.check('the case is saved with its reference and no possible duplicate', async () => {
    assert.match(await police.locator('.msg-ok').innerText(), /ML-\d{4}-\d{6}/);
    assert.match(await police.locator('#duplicates').innerText(), /Aucun doublon/);
  });
  await h.shot(police, 'registered');
  await follow(police, '#open-case', /#\/cases\/[0-9a-f-]{36}$/);
  const caseId = police.url().split('/').pop();
  await h.check('the case page shows the victim to the police who registered her', async () => {
    assert.match(await police.locator('#page h1').innerText(), /Aminata Diarra/);
    assert.match(await police.locator('#facts-victim').innerText(), /14 mars 1998/);
    assert.match(await police.locator('#stage').innerText(), /Identification/);
  });

  // Completing the case: a phone number added, the place corrected.
  await police.click('#edit-toggle');
  await police.fill('#edit-form #f-victim-phone', '+223 70 00 00 00');
  await police.fill('#edit-form #f-identification-place', 'Marché de Médine');
  await police.click('#edit-form button[type=submit]');
  await police.waitForSelector('#case-msg .msg-ok');
  await h.check('the police completes the case and sees the new details', async () => {
    assert.match(await police.locator('#facts-victim').innerText(), /\+223 70 00 00 00/);
    assert.match(await police.locator('#facts-identification').innerText(), /Marché de Médine/);
    const c = (await sopApi.call('GET', `/api/v1/cases/${caseId}`)).data;
    assert.equal(c.victim.phone, '+223 70 00 00 00');
    assert.equal(c.version, 2);
  });

  // A second registration of the same person lists the first as a possible duplicate.
  await go(police, '#/cases/new');
  await police.fill('#f-victim-given_name', 'Aminata');
  await police.fill('#f-victim-family_name', 'DIARRA');
  await police.fill('#f-victim-date_of_birth', '1998-03-14');
  await police.selectOption('#f-victim-sex', 'female');
  await police.check('#f-identification-exploitation_types-forced_labour');
  await police.click('#register-save');
  await police.waitForSelector('#open-case');
  await h.check('a second registration of the same person lists the first as a possible duplicate', async () => {
    const links = await police.locator('#duplicates a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, [`#/cases/${caseId}`]);
    assert.match(await police.locator('#duplicates').innerText(), /même nom et même date de naissance/);
  });
  await h.shot(police, 'possible-duplicate');
  await follow(police, '#duplicates a', new RegExp(`#/cases/${caseId}$`));

  // Consent, then the referral to the shelter.
  await police.selectOption('#consent-scope', 'assistance');
  await police.click('#consent-form button[type=submit]');
  await police.waitForSelector('#consents .badge-ok');
  await police.selectOption('#referral-service', 'shelter');
  await police.selectOption('#referral-org', shelter.id);
  await police.selectOption('#referral-urgency', 'high');
  await h.check('the referral form proposes the consent the SOP requires', async () => {
    assert.notEqual(await police.inputValue('#referral-consent'), '');
    assert.match(await police.locator('#referral-consent-hint').innerText(), /Assistance/i);
  });
  await police.click('#referral-form button[type=submit]');
  await police.waitForSelector('#referral-list tr[data-status="pending"]');
  await h.check('the police refers her to the shelter: the referral is pending', async () => {
    const row = await police.locator('#referral-list tbody tr').first().innerText();
    assert.match(row, new RegExp(shelter.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(row, /en attente/);
    assert.match(await police.locator('#case-msg').innerText(), /Orientation envoyée/);
  });
  await h.shot(police, 'police-case-referred');

  // --- the shelter, in another browser context ------------------------------
  const shelterPage = await h.newPage({ tag: 'shelter' });
  await h.login(shelterPage, 'refuge.bamako');
  const shelterApi = await h.api('refuge.bamako');
  const inbox = (await shelterApi.call('GET', '/api/v1/inbox')).data;
  await h.check("the shelter's home counts match the API and list the referral waiting", async () => {
    const n = await shelterPage.locator('[data-count="pending_incoming_referrals"] .n').innerText();
    assert.equal(Number(n), inbox.pending_incoming_referrals);
    assert.equal(inbox.pending_incoming_referrals, 1);
    assert.equal(await shelterPage.locator('#waiting tbody tr').count(), 1);
  });
  await h.shot(shelterPage, 'shelter-home');
  await follow(shelterPage, '#waiting tbody tr a', /#\/inbox\/[0-9a-f-]{36}$/);
  await h.check('the pending referral shows a summary without identity', async () => {
    const body = await text(shelterPage);
    assert.match(body, /Féminin, 25 à 34 ans/);
    assert.match(body, /Hébergement/);
    assert.ok(!/Aminata|Diarra|1998/.test(body), 'identity visible before acceptance');
  });
  await h.shot(shelterPage, 'shelter-referral-summary');
  await shelterPage.click('#accept');
  await shelterPage.waitForSelector('#open-case');
  await follow(shelterPage, '#open-case', /#\/cases\/[0-9a-f-]{36}$/);
  await h.check('the shelter accepts and reads the case', async () => {
    assert.match(await shelterPage.locator('#page h1').innerText(), /Aminata Diarra/);
    assert.match(await shelterPage.locator('#referral-list').innerText(), /acceptée/);
  });
  await h.shot(shelterPage, 'shelter-case');

  // --- a one-stop center note stays hidden from the police ------------------
  const policeApi = await h.api('police.agent');
  const consentId = (await policeApi.call('GET', `/api/v1/cases/${caseId}`)).data.consents[0].id;
  const ref2 = await policeApi.call('POST', `/api/v1/cases/${caseId}/referrals`, { to_organisation_id: oneStop.id,
    service: 'psychosocial', urgency: 'normal', note: null, consent_id: consentId });
  const guichetApi = await h.api('guichet.agent');
  const acc2 = await guichetApi.call('POST', `/api/v1/referrals/${ref2.data.id}/accept`, {});
  const guichet = await h.newPage({ tag: 'one-stop' });
  await h.login(guichet, 'guichet.agent');
  await go(guichet, `#/cases/${caseId}`);
  await guichet.selectOption('#note-category', 'psychosocial');
  await guichet.selectOption('#note-visibility', 'case');
  await guichet.fill('#note-body', 'Suivi psychologique : entretien du guichet unique');
  await guichet.click('#note-form button[type=submit]');
  await guichet.waitForSelector('#note-list');
  await h.check('the one-stop center writes a psychosocial note for the case', async () => {
    assert.equal(ref2.status, 201);
    assert.equal(acc2.status, 200);
    assert.match(await guichet.locator('#note-list').innerText(), /entretien du guichet unique/);
  });
  await h.shot(guichet, 'one-stop-note');
  // A reload keeps the shelter signed in, on the case it was reading.
  await shelterPage.reload();
  await shelterPage.waitForSelector(`#page[data-route="cases/${caseId}"] .page:not([aria-busy])`);
  await h.check('a reload keeps the person signed in on the same page', async () => {
    assert.equal(await shelterPage.locator('#login-view').isVisible(), false);
    assert.match(await shelterPage.locator('#who').innerText(), /refuge\.bamako/);
    assert.match(await shelterPage.locator('#page h1').innerText(), /Aminata Diarra/);
  });
  await go(police, `#/cases/${caseId}`);
  await h.check('the note reaches the shelter but stays hidden from the police', async () => {
    assert.match(await text(shelterPage), /entretien du guichet unique/);
    assert.ok(!(await text(police)).includes('entretien du guichet unique'));
  });
  await h.shot(police, 'police-case-without-note');

  // --- a child case shows why it cannot move on -----------------------------
  const child = await policeApi.call('POST', '/api/v1/cases', { victim: { given_name: 'Fanta', family_name: 'Koné',
    age_estimate: 14, sex: 'female' }, identification: { date: '2026-02-01', region: 'bamako', exploitation_types: ['forced_begging'] } });
  await policeApi.call('POST', `/api/v1/cases/${child.data.id}/consents`, { scope: 'assistance', given_by: 'guardian', date: '2026-02-01' });
  await go(police, `#/cases/${child.data.id}`);
  await h.check('a child case shows why it cannot move on', async () => {
    const blocked = await police.locator('#blocked').innerText();
    assert.match(blocked, /Référer pour assistance/);
    assert.match(blocked, /enfant doit être référé aux services de protection de l'enfance/);
    assert.equal(await police.locator('#transitions button[data-transition="refer_for_assistance"]').count(), 0);
    // A caseworker cannot close a case: the SOP keeps it for supervisors.
    assert.match(await police.locator('#others li[data-transition="close_at_identification"]').innerText(), /réservé aux rôles : .*Superviseur/i);
  });
  await h.shot(police, 'child-case-blocked');

  // --- overdue referrals come first, counted as the API counts them ----------
  const cp = orgs.find((o) => o.kind === 'child_protection');
  const child2 = await policeApi.call('POST', '/api/v1/cases', { victim: { age_estimate: 9, sex: 'male' },
    identification: { date: '2026-02-02', region: 'bamako', exploitation_types: ['forced_begging'] } });
  const toCp = async (cid) => (await policeApi.call('POST', `/api/v1/cases/${cid}/referrals`, { to_organisation_id: cp.id,
    service: 'child_protection', urgency: 'normal', note: null, consent_id: null })).data;
  const onTime = await toCp(child.data.id);
  const late = await toCp(child2.data.id);
  psql(h.dbUrl, `UPDATE referrals SET respond_by = now() - interval '3 hours' WHERE id = '${late.id}'`);
  const cpPage = await h.newPage({ tag: 'child-protection' });
  await h.login(cpPage, 'enfance.agent');
  const cpInbox = (await (await h.api('enfance.agent')).call('GET', '/api/v1/inbox')).data;
  await h.check('the overdue referral comes first with its mark, and the counts match the API', async () => {
    assert.ok(onTime && late && onTime.id && late.id);
    const rows = cpPage.locator('#waiting tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), /en retard/);
    assert.equal(await rows.nth(0).getAttribute('class'), 'overdue');
    assert.doesNotMatch(await rows.nth(1).innerText(), /en retard/);
    for (const k of ['pending_incoming_referrals', 'overdue_referrals'])
      assert.equal(Number(await cpPage.locator(`[data-count="${k}"] .n`).innerText()), cpInbox[k], k);
    assert.equal(cpInbox.overdue_referrals, 1);
  });
  await h.shot(cpPage, 'child-protection-home-overdue');

  // --- the adult's case moves on -------------------------------------------
  await go(police, `#/cases/${caseId}`);
  await police.fill('#transition-note', 'Hébergée au centre de Bamako');
  await police.click('#transitions button[data-transition="refer_for_assistance"]');
  await police.waitForSelector('#case-msg .msg-ok');
  await h.check('an allowed transition is a button that moves the case on', async () => {
    assert.equal(await police.locator('#stage').innerText(), 'Référencement et première assistance');
    assert.match(await police.locator('#timeline').innerText(), /Changement d'étape — Identification → Référencement/);
  });

  // --- print view -----------------------------------------------------------
  await police.emulateMedia({ media: 'print' });
  await h.check('the print view shows the case file without forms or navigation', async () => {
    assert.ok(await police.locator('.print-only').isVisible());
    assert.ok(!(await police.locator('#consent-form').isVisible()));
    assert.ok(!(await police.locator('#nav').isVisible()));
    assert.ok(await police.locator('#timeline').isVisible());
  });
  await h.shot(police, 'print-view');
  await police.emulateMedia({ media: 'screen' });

  // --- language switch on every page of this area ---------------------------
  const pages = [['home', '#/home'], ['register', '#/cases/new'], ['case', `#/cases/${caseId}`],
    ['inbox', '#/inbox'], ['child-case', `#/cases/${child.data.id}`]];
  await police.click('#lang');
  await idle(police);
  for (const [name, hash] of pages) {
    await go(police, hash);
    await h.check(`in English, no French label stays visible: ${name}`, async () => {
      assert.equal(await police.evaluate(() => document.documentElement.lang), 'en');
      const left = await frenchLeft(police, sop);
      assert.deepEqual(left, []);
    });
    await h.check(`text contrast meets WCAG AA: ${name}`, async () => {
      assert.deepEqual(await lowContrast(police), []);
    });
    await h.shot(police, `en-${name}`);
  }
  await police.focus('#nav a');
  await police.keyboard.press('Tab');
  await h.check('the keyboard focus is visible', async () => {
    const st = await police.evaluate(() => {
      const cs = getComputedStyle(document.activeElement);
      return { outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth), tag: document.activeElement.tagName };
    });
    assert.equal(st.tag, 'A');
    assert.notEqual(st.outline, 'none');
    assert.ok(st.width >= 2);
  });
  const shelterInbox = await h.newPage({ tag: 'shelter-en' });
  await h.login(shelterInbox, 'refuge.gao');
  await shelterInbox.click('#lang');
  await go(shelterInbox, '#/inbox');
  await h.check('in English, no French label stays visible: the sign-in page and the nav', async () => {
    assert.deepEqual(await shelterInbox.locator('#nav a').allInnerTexts(), ['Home', 'New case', 'Incoming referrals']);
    assert.deepEqual(await frenchLeft(shelterInbox, sop), []);
  });
  // Declining, with a reason, in English.
  const gao = orgs.find((o) => o.kind === 'shelter' && o.region === 'gao');
  const ref3 = await policeApi.call('POST', `/api/v1/cases/${caseId}/referrals`, { to_organisation_id: gao.id,
    service: 'shelter', urgency: 'urgent', note: null, consent_id: consentId });
  await go(shelterInbox, '#/inbox');
  await follow(shelterInbox, '#inbox-list tbody tr a', /#\/inbox\/[0-9a-f-]{36}$/);
  await h.check('the Gao shelter sees the pending referral without identity, in English', async () => {
    assert.equal(ref3.status, 201);
    const body = await text(shelterInbox);
    assert.match(body, /Female, 25 to 34/);
    assert.ok(!/Aminata|Diarra/.test(body));
    assert.deepEqual(await frenchLeft(shelterInbox, sop), []);
  });
  await shelterInbox.selectOption('#decline-reason', 'no_capacity');
  await shelterInbox.fill('#decline-note', 'No bed until Monday');
  await h.shot(shelterInbox, 'en-decline');
  await shelterInbox.click('#decline');
  await shelterInbox.waitForSelector('#referral-msg .msg-ok');
  await h.check('the shelter declines with a reason and the police sees it declined', async () => {
    const c = (await policeApi.call('GET', `/api/v1/cases/${caseId}`)).data;
    assert.equal(c.referrals.find((x) => x.id === ref3.data.id).status, 'declined');
  });

  await police.click('#lang');
  await idle(police);
  await h.check('French comes back at a click', async () => {
    assert.equal(await police.evaluate(() => document.documentElement.lang), 'fr');
    assert.match(await police.locator('#nav').innerText(), /Accueil/);
  });

  // --- the session ends: what was typed is kept ------------------------------
  await go(police, '#/cases/new');
  await police.fill('#f-victim-given_name', 'Mariam');
  await police.fill('#f-identification-place', 'Gare routière de Sogoniko');
  await police.context().clearCookies();	// as if the server ended the session
  await police.click('#register-save');	// client checks fail (sex missing): type more
  await police.selectOption('#f-victim-sex', 'female');
  await police.check('#f-identification-exploitation_types-forced_labour');
  await police.click('#register-save');
  await police.waitForSelector('#login-view:not([hidden])');
  await h.check('a session that ended shows a clear message and asks to sign in again', async () => {
    assert.match(await police.locator('#login-note').innerText(), /inactivité/);
    assert.equal(await police.locator('#page').isVisible(), false);
    assert.ok(!(await text(police)).includes('Mariam'));
  });
  await h.shot(police, 'session-expired');
  await h.login(police, 'police.agent');
  await h.check('after signing in again the person continues where she was', async () => {
    assert.match(police.url(), /#\/cases\/new$/);
    assert.equal(await police.inputValue('#f-victim-given_name'), 'Mariam');
    assert.equal(await police.inputValue('#f-identification-place'), 'Gare routière de Sogoniko');
    assert.equal(await police.inputValue('#f-victim-sex'), 'female');
    assert.ok(await police.isChecked('#f-identification-exploitation_types-forced_labour'));
  });
  await h.shot(police, 'session-restored');
  // Another user on the same computer gets none of it.
  await police.context().clearCookies();
  await police.click('#register-save');
  await police.waitForSelector('#login-view:not([hidden])');
  await h.login(police, 'ong.agent');
  await go(police, '#/cases/new');
  await h.check('another account signing in after expiry does not get the kept input', async () => {
    assert.equal(await police.inputValue('#f-victim-given_name'), '');
  });

  // Inactivity ends the session on the client too.
  const idlePage = await h.newPage({ tag: 'idle' });
  await idlePage.clock.install();
  await idlePage.reload();
  await h.login(idlePage, 'police.agent');
  await go(idlePage, '#/cases/new');
  await idlePage.fill('#f-victim-given_name', 'Kadiatou');
  await idlePage.clock.fastForward('30:00');
  await idlePage.waitForSelector('#login-view:not([hidden])');
  await h.check('thirty minutes without activity end the session with a clear message', async () => {
    assert.match(await idlePage.locator('#login-note').innerText(), /inactivité/);
    const r = await idlePage.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert.equal(r, 401);
  });

  // --- a new account must choose its own password ---------------------------
  const adminApi = await h.api('admin');
  const newUser = await adminApi.call('POST', '/api/v1/users', { username: 'ong.nouvelle', password: 'Provisoire-2026-abc',
    role: 'caseworker', organisation_id: orgs.find((o) => o.kind === 'ngo').id });
  // Two people open an account: a supervisor of the organisation approves it.
  const approved = await (await h.api('ong.chef')).call('PATCH', `/api/v1/users/${newUser.data.id}`, { active: true });
  const fresh = await h.newPage({ tag: 'new-account' });
  await h.login(fresh, 'ong.nouvelle', 'Provisoire-2026-abc');
  await h.check('a new account is asked to choose its own password first', async () => {
    assert.equal(newUser.status, 201);
    assert.equal(approved.status, 200);
    assert.match(fresh.url(), /#\/password$/);
  });
  await fresh.fill('#pw-current', 'Provisoire-2026-abc');
  await fresh.fill('#pw-new', 'court');
  await fresh.fill('#pw-confirm', 'court');
  await fresh.click('#password-form button[type=submit]');
  await h.check('a short new password is refused at its field', async () => {
    assert.match(await fresh.locator('#pw-new-error').innerText(), /12/);
  });
  await fresh.fill('#pw-current', 'Provisoire-2026-abc');
  await fresh.fill('#pw-new', 'une phrase de passe bien longue');
  await fresh.fill('#pw-confirm', 'une phrase de passe bien longue');
  await fresh.click('#password-form button[type=submit]');
  await fresh.waitForSelector('#pw-continue');
  await h.shot(fresh, 'password-changed');
  await follow(fresh, '#pw-continue', /#\/home$/);
  await h.check('after the change the person reaches her home page', async () => {
    assert.match(fresh.url(), /#\/home$/);
    const again = await fetch(`${h.url}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'ong.nouvelle', password: 'une phrase de passe bien longue' }) });
    assert.equal(again.status, 200);
  });

  // --- 360 px -------------------------------------------------------------
  const phone = await h.newPage({ tag: 'phone', viewport: { width: 360, height: 740 } });
  await h.login(phone, 'refuge.bamako');
  for (const [name, hash] of [['home', '#/home'], ['case', `#/cases/${caseId}`], ['register', '#/cases/new'], ['inbox', '#/inbox']]) {
    await go(phone, hash);
    await h.check(`usable at 360 px wide (no sideways scrolling): ${name}`, async () => {
      const w = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= 360, `page is ${w}px wide`);
    });
    await h.shot(phone, `phone-${name}`);
  }

  // --- nothing about victims in storage or URLs ------------------------------
  for (const [name, page] of [['police', police], ['shelter', shelterPage], ['one-stop', guichet]]) {
    await h.check(`no victim data in storage or the URL (${name})`, async () => {
      const st = await page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage),
        url: location.href, history: history.length }));
      assert.ok(st.local.every((k) => k === 'passerelle.lang'), st.local.join(','));
      // this tab's CSRF token, nothing else
      assert.ok(st.session.every((k) => k === 'passerelle.csrf'), st.session.join(','));
      assert.ok(!/Aminata|Diarra|Mariam|Fanta/.test(decodeURIComponent(st.url)));
    });
  }
} catch (e) {
  await h.check('the scenario ran to its end', async () => { throw e; });
}
process.exitCode = await h.end();
