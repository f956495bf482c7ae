// Browser test of the session across reloads and of the case page's
// supervisor screens (issue 9 follow-ups): a reload keeps the person signed
// in on the same page (GET /api/v1/session) and stores nothing but the
// language; after signing out a reload shows the sign-in page; a supervisor
// of the lead organisation erases a case's identity after a confirmation
// step that says what it does and asks for the case number, and the API then
// reports it erased, the name gone; a supervisor gives a case to an account
// of the organisation and a caseworker takes one; neither screen is shown to
// those the API refuses. Screenshots: tests/artifacts/browser/session/.
import assert from 'node:assert/strict';
import { begin } from './lib/harness.mjs';

const h = await begin('session');
const idle = async (page) => page.waitForSelector('#page[data-route] .page:not([aria-busy])');
// Goes to a route; the route already shown is loaded afresh (a reload keeps
// the session).
const go = async (page, hash) => {
  if (await page.evaluate(() => location.hash) === hash) await page.reload();
  else await page.evaluate((x) => { location.hash = x; }, hash);
  await page.waitForSelector(`#page[data-route="${hash.replace(/^#\//, '')}"] .page:not([aria-busy])`);
};
const text = (page) => page.evaluate(() => document.body.innerText);
const storage = (page) => page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage),
  url: decodeURIComponent(location.href) }));

try {
  const agentApi = await h.api('police.agent');
  const chefApi = await h.api('police.chef');
  const agentId = agentApi.user.id;
  const chefId = chefApi.user.id;
  const orgs = (await agentApi.call('GET', '/api/v1/organisations')).data.items;
  const ngo = orgs.find((o) => o.kind === 'ngo');
  const newCase = async (api, given, family) => {
    const r = await api.call('POST', '/api/v1/cases', { victim: { given_name: given, family_name: family,
      date_of_birth: '1996-07-02', sex: 'female' }, identification: { date: '2026-03-02', region: 'bamako',
      exploitation_types: ['domestic_servitude'], narrative: `Récit de ${given}` } });
    assert.equal(r.status, 201, JSON.stringify(r.data));
    return r.data;
  };

  // --- a reload keeps the session; signing out ends it -----------------------
  const agent = await h.newPage({ tag: 'agent' });
  await h.login(agent, 'police.agent');
  await go(agent, '#/cases/new');
  await agent.reload();
  await idle(agent);
  await h.check('a reload keeps the person signed in on the same page', async () => {
    assert.match(agent.url(), /#\/cases\/new$/);
    assert.equal(await agent.locator('#login-view').isVisible(), false);
    assert.match(await agent.locator('#who').innerText(), /police\.agent/);
    assert.equal(await agent.locator('#f-victim-given_name').count(), 1);
    // Signed in for writes too: the CSRF token came back with the session.
    await agent.fill('#f-victim-given_name', 'Awa');
    await agent.selectOption('#f-victim-sex', 'female');
    await agent.check('#f-identification-exploitation_types-forced_labour');
    await agent.click('#register-save');
    await agent.waitForSelector('#open-case');
  });
  await h.check('after the reload nothing is stored but the language and this tab\'s CSRF token', async () => {
    const st = await storage(agent);
    assert.ok(st.local.every((k) => k === 'passerelle.lang'), st.local.join(','));
    assert.deepEqual(st.session, ['passerelle.csrf']);
    assert.ok(!/Awa|csrf|token/i.test(st.url), st.url);
  });
  await h.shot(agent, 'reloaded-and-saved');

  await h.check('a new tab of the same browser has only the cookie: the sign-in page, and the API refuses the cookie alone', async () => {
    const tab = await agent.context().newPage();
    await tab.goto(agent.url().replace(/#.*$/, '') + '#/home');
    await tab.waitForSelector('#login-view:not([hidden])');
    assert.equal(await tab.locator('#nav').isVisible(), false);
    const st = await tab.evaluate(async () => [(await fetch('/api/v1/cases')).status,
      (await fetch('/api/v1/session')).status, Object.keys(sessionStorage).length]);
    assert.deepEqual(st, [403, 403, 0]);
    await h.shot(tab, 'new-tab-signed-out');
    await tab.close();
  });

  await agent.click('#logout');
  await agent.waitForSelector('#login-view:not([hidden])');
  await agent.reload();
  await agent.waitForSelector('#login-view:not([hidden])');
  await h.check('after sign-out a reload shows the sign-in page', async () => {
    assert.equal(await agent.locator('#page').isVisible(), false);
    assert.equal(await agent.locator('#nav').isVisible(), false);
    assert.equal(await agent.evaluate(async () => (await fetch('/api/v1/session')).status), 401);
  });
  await h.shot(agent, 'signed-out-reloaded');

  // --- erasure --------------------------------------------------------------
  const victim = await newCase(agentApi, 'Oumou', 'Traoré');
  // The NGO joins the case: its supervisor sees it, but does not lead it.
  await agentApi.call('POST', `/api/v1/cases/${victim.id}/consents`, { scope: 'assistance', given_by: 'victim', date: '2026-03-02' });
  const consent = (await agentApi.call('GET', `/api/v1/cases/${victim.id}`)).data.consents[0];
  const ref = await agentApi.call('POST', `/api/v1/cases/${victim.id}/referrals`, { to_organisation_id: ngo.id,
    service: 'psychosocial', urgency: 'normal', note: 'Suivi psychosocial pour Oumou', consent_id: consent.id });
  const ongChefApi = await h.api('ong.chef');
  const accepted = await ongChefApi.call('POST', `/api/v1/referrals/${ref.data.id}/accept`, {});

  await h.login(agent, 'police.agent');
  await go(agent, `#/cases/${victim.id}`);
  const ongChef = await h.newPage({ tag: 'ong-chef' });
  await h.login(ongChef, 'ong.chef');
  await go(ongChef, `#/cases/${victim.id}`);
  await h.check('erasure is not offered to a caseworker, nor to a supervisor of another organisation', async () => {
    assert.equal(ref.status, 201);
    assert.equal(accepted.status, 200);
    assert.match(await agent.locator('#page h1').innerText(), /Oumou Traoré/);
    assert.equal(await agent.locator('#erase').count(), 0);
    assert.match(await ongChef.locator('#page h1').innerText(), /Oumou Traoré/);
    assert.equal(await ongChef.locator('#erase').count(), 0);
    // and the server refuses them both
    assert.equal((await agentApi.call('POST', `/api/v1/cases/${victim.id}/erase`, {})).status, 403);
    assert.equal((await ongChefApi.call('POST', `/api/v1/cases/${victim.id}/erase`, {})).status, 403);
  });

  const chef = await h.newPage({ tag: 'police-chef' });
  await h.login(chef, 'police.chef');
  await go(chef, `#/cases/${victim.id}`);
  await h.check('the supervisor of the lead organisation is told what erasing does', async () => {
    const what = await chef.locator('#erase').innerText();
    assert.match(what, /Effacer l'identité de la personne/);
    assert.match(what, /détruit son identité/);
    assert.match(what, /garde les statistiques/);
    assert.match(what, /ne peut pas être annulé/);
    assert.equal(await chef.locator('#erase-confirm').isVisible(), false);	// behind a second step
  });
  await chef.click('#erase-step summary');
  await chef.fill('#erase-confirm', 'ML-2026-999999');
  await chef.click('#erase-submit');
  await h.check('a wrong case number erases nothing', async () => {
    assert.match(await chef.locator('#erase-confirm-error').innerText(), /rien n'a été effacé/);
    assert.equal(await chef.locator('#erase-confirm').getAttribute('aria-invalid'), 'true');
    const c = (await chefApi.call('GET', `/api/v1/cases/${victim.id}`)).data;
    assert.equal(c.erased, false);
    assert.equal(c.victim.given_name, 'Oumou');
  });
  await h.shot(chef, 'erase-confirmation');
  await chef.fill('#erase-confirm', victim.reference);
  await chef.click('#erase-submit');
  await chef.waitForSelector('#case-msg .msg-ok');
  await h.shot(chef, 'erased');
  await h.check('erased through the page: the API reports it erased and the name is gone', async () => {
    assert.match(await chef.locator('#case-msg').innerText(), /est effacée ; ses statistiques restent/);
    assert.equal(await chef.locator('#erase').count(), 0);
    const c = (await chefApi.call('GET', `/api/v1/cases/${victim.id}`));
    assert.equal(c.status, 200);
    assert.equal(c.data.erased, true);
    assert.ok(!JSON.stringify(c.data).includes('Oumou'), 'the name is still in the answer');
    assert.ok(!JSON.stringify(c.data).includes('Traoré'));
    // Statistics categories remain.
    assert.equal(c.data.sex, 'female');
    assert.equal(c.data.age_band, '25-34');
    assert.deepEqual(c.data.identification.exploitation_types, ['domestic_servitude']);
    const body = await text(chef);
    assert.ok(!/Oumou|Traoré|Récit de/.test(body), 'the name or narrative is still on the page');
    assert.match(body, /identité de cette personne a été effacée/);
    assert.ok(!/\bnull\b|undefined/.test(body), 'a missing value shows as text');
  });
  await go(agent, '#/home');
  await go(ongChef, `#/cases/${victim.id}`);
  await h.check('no one sees the name any more: the home list, the other organisation', async () => {
    const list = (await agentApi.call('GET', '/api/v1/cases')).data.items;
    const row = list.find((x) => x.id === victim.id);
    assert.ok(row, 'the case is still listed');
    assert.ok(!row.display_name, JSON.stringify(row));
    const home = await text(agent);
    assert.ok(!/Oumou|Traoré/.test(home), `home: ${home.match(/.{0,60}(Oumou|Traoré).{0,60}/)?.[0]}`);
    const seen = await text(ongChef);
    assert.ok(!/Oumou|Traoré|Suivi psychosocial pour/.test(seen), `NGO: ${seen.match(/.{0,60}(Oumou|Traoré|Suivi psychosocial pour).{0,60}/)?.[0]}`);
    assert.match(await text(ongChef), /identité de cette personne a été effacée/);
  });
  await h.shot(ongChef, 'erased-seen-by-ngo');

  // --- who follows a case ---------------------------------------------------
  const given = await newCase(chefApi, 'Kadia', 'Sangaré');	// assigned to the chef, who made it
  await go(chef, `#/cases/${given.id}`);
  await h.check('the supervisor sees who follows the case and the accounts to give it to', async () => {
    assert.match(await chef.locator('#assignee').innerText(), /vous \(police\.chef\)/);
    const options = await chef.locator('#assign-user option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(new Set(options), new Set([agentId, chefId]));
  });
  await chef.selectOption('#assign-user', agentId);
  await h.shot(chef, 'reassign-form');
  await chef.click('#assign-submit');
  await chef.waitForSelector('#case-msg .msg-ok');
  await h.check('the supervisor gives the case to the caseworker: visible in the page and the API', async () => {
    assert.match(await chef.locator('#case-msg').innerText(), /Dossier confié à police\.agent/);
    assert.match(await chef.locator('#assignee').innerText(), /police\.agent/);
    assert.equal(await chef.locator('#assignee').getAttribute('data-user-id'), agentId);
    const c = (await chefApi.call('GET', `/api/v1/cases/${given.id}`)).data;
    assert.equal(c.assigned_to.user_id, agentId);
    const mine = (await agentApi.call('GET', '/api/v1/cases?assigned=me')).data.items.map((x) => x.id);
    assert.ok(mine.includes(given.id));
  });
  await h.shot(chef, 'reassigned');
  await go(agent, `#/cases/${given.id}`);
  await h.check('the caseworker sees the case is hers, without the supervisor\'s form', async () => {
    assert.match(await agent.locator('#assignee').innerText(), /vous \(police\.agent\)/);
    assert.equal(await agent.locator('#assign-form').count(), 0);
    assert.equal(await agent.locator('#assign-take').count(), 0);
  });
  const other = await newCase(chefApi, 'Mariam', 'Coulibaly');
  await go(agent, `#/cases/${other.id}`);
  await h.check('a caseworker can take a case another account follows', async () => {
    assert.match(await agent.locator('#assignee').innerText(), /un autre compte de votre organisation/);
    assert.equal(await agent.locator('#assign-form').count(), 0);
  });
  await agent.click('#assign-take');
  await agent.waitForSelector('#case-msg .msg-ok');
  await h.check('taken: the page and the API say the caseworker follows it', async () => {
    assert.match(await agent.locator('#assignee').innerText(), /vous \(police\.agent\)/);
    const c = (await agentApi.call('GET', `/api/v1/cases/${other.id}`)).data;
    assert.equal(c.assigned_to.user_id, agentId);
  });
  await h.shot(agent, 'caseworker-took-case');

  // --- in English --------------------------------------------------------------
  const third = await newCase(agentApi, 'Fatoumata', 'Keïta');
  await go(chef, `#/cases/${third.id}`);
  await chef.click('#lang');
  await idle(chef);
  await chef.click('#erase-step summary');
  await h.check('the erasure and assignment screens are in English at a click', async () => {
    assert.equal(await chef.locator('#erase-title').innerText(), 'Erase the person\'s identity');
    assert.match(await chef.locator('#erase').innerText(), /cannot be undone/);
    assert.match(await chef.locator('label[for=erase-confirm]').innerText(), new RegExp(`type the case number: ${third.reference}`));
    assert.match(await chef.locator('#assignee').innerText(), /Followed in your organisation by: police\.agent/);
    assert.equal(await chef.locator('#assign-submit').innerText(), 'Give the case');
  });
  await h.shot(chef, 'en-case-supervisor');
  await chef.click('#lang');
  await idle(chef);

  // --- 360 px -------------------------------------------------------------------
  const phone = await h.newPage({ tag: 'phone', viewport: { width: 360, height: 740 } });
  await h.login(phone, 'police.chef');
  await go(phone, `#/cases/${third.id}`);
  await phone.click('#erase-step summary');
  await h.check('the supervisor screens fit 360 px', async () => {
    const w = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `page is ${w}px wide`);
  });
  await h.shot(phone, 'phone-case-supervisor');
} catch (e) {
  await h.check('the scenario ran to its end', async () => { throw e; });
}
process.exitCode = await h.end();
