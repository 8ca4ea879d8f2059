// A company's own identity server, end to end, configured entirely through the panel
// in Debian Chromium: oidc-provider (a certified OpenID provider implementation) runs
// on loopback under its own issuer — not pretending to be Google. The subscriber adds
// New Property › OpenID Connect › Provider, checks discovery (a wrong issuer first,
// its error shown next to the field), sees the tile ACTIVE, and uses Try it: signed in
// at the provider, back at the app with the reference parameters and a user made
// from the provider's profile with no form; a second Try it in the same browser comes
// back with no screen at all; the identity shows the provider's name under Users and
// the logins under Events, filtered by provider. Screenshots go to test-output/oidc/.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { freePort, launchChromium, newIntegration, panelPage, root, runSuite, signUpWithApp, signInAtProvider, startApp, startCompanyProvider, startFedgate, step as say } from './lib.mjs';

const outDir = join(root, 'test-output', 'oidc');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const step = (msg) => say('oidc', msg);

const [opPort, fgPort, appPort] = [await freePort(), await freePort(), await freePort()];
// Reached by name (through Fedgate's guarded resolver), allowed as loopback only
// because this Fedgate runs with allow_loopback_providers.
const issuer = `http://localhost:${opPort}`;
const client = { id: 'fedgate-chat', secret: 'acme-client-secret-for-fedgate' };
const owner = { email: 'it@acme.example', password: 'an oidc panel passphrase' };

await runSuite('oidc', async (cleanups, logs) => {
  const fg = await startFedgate(fgPort, null, cleanups);
  logs.push({ name: 'Fedgate', get: () => fg.log });
  const panel = `${fg.url}/panel`;
  const appRedirect = startApp(appPort, cleanups);
  const browser = await launchChromium(cleanups);
  const { page, pageErrors, shoot, nav, hydrated } = await panelPage(browser, outDir, cleanups, { viewport: { width: 1280, height: 900 } });
  const dialog = page.getByRole('dialog');

  step('sign up and create an application');
  const appId = await signUpWithApp(page, panel, hydrated, owner, 'Chat');
  const callback = `${fg.url}/hosted/${appId}/acme/callback`;

  step('the OAuth integration');
  await nav('Properties');
  await newIntegration(page, 'web');
  await dialog.getByLabel('OAuth redirect URIs').fill(appRedirect);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });

  // The company registers Fedgate as a client of its identity server, with the
  // callback the provider's slug will have.
  step(`the company's identity server at ${issuer}`);
  startCompanyProvider(issuer, opPort, { ...client, redirectUri: callback }, cleanups);

  step('New Property › OpenID Connect › Provider');
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'OpenID Connect ›', exact: true }).click();
  await page.getByRole('button', { name: 'Provider', exact: true }).click();
  await dialog.getByRole('heading', { name: 'New Property › OpenID Connect › Provider' }).waitFor();
  await dialog.getByLabel('Instance name').fill('acme-idp');
  await dialog.getByLabel('Slug').fill('acme');
  await dialog.getByLabel('Display name').fill('Acme SSO');
  // A wrong issuer first: the exact error next to the field.
  await dialog.getByLabel('Issuer URL').fill(`${issuer}/realms/none`);
  await dialog.getByRole('button', { name: 'Check discovery' }).click();
  await dialog.locator('#issuer-error').waitFor();
  assert.match(await dialog.locator('#issuer-error').innerText(), /HTTP 404/);
  assert.equal(await dialog.getByLabel('Issuer URL').getAttribute('aria-invalid'), 'true');
  await shoot('check-discovery-error');
  await dialog.getByLabel('Issuer URL').fill(issuer);
  await dialog.getByRole('button', { name: 'Check discovery' }).click();
  const found = dialog.locator('.discovery-found');
  await found.waitFor();
  const foundText = await found.innerText();
  assert.match(foundText, /Discovery OK/);
  assert.ok(foundText.includes(`${issuer}/token`), foundText);
  assert.match(foundText, /RS256/);
  assert.match(foundText, /sent by the provider — required/, 'RFC 9207 support is shown');
  await dialog.getByLabel('Client ID').fill(client.id);
  await dialog.getByLabel('Client secret').fill(client.secret);
  await dialog.getByLabel('This provider verifies email addresses').check();
  await shoot('openid-connect-dialog');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  const row = page.getByRole('row').filter({ hasText: 'acme-idp' });
  await row.waitFor();
  assert.match(await row.innerText(), /OpenID Connect › Provider/);
  assert.match(await row.innerText(), /client secret set/);
  assert.ok(!(await page.content()).includes(client.secret), 'the secret is never shown back');
  await shoot('properties');

  step('the tile is ACTIVE');
  await nav('Hosted Services');
  const tile = page.getByRole('region', { name: 'Acme SSO Authentication Service' });
  await tile.locator('.status', { hasText: 'ACTIVE' }).waitFor();
  assert.deepEqual(await tile.locator('.uri-value code').allInnerTexts(), [callback, `${fg.url}/hosted/${appId}/acme/login`]);
  // Google's tile is there too, INACTIVE: this application has no Google credentials.
  const google = page.getByRole('region', { name: 'Google Authentication Service' });
  assert.equal(await google.locator('.status').innerText(), 'INACTIVE');
  await shoot('hosted-services');

  step('Try it: sign in at the provider, back at the app with no form');
  await tile.getByRole('link', { name: 'Try it' }).click();
  await signInAtProvider(page, 'ann', (name) => shoot(name));
  await page.waitForURL((u) => u.href.startsWith(appRedirect));
  const first = Object.fromEntries(new URL(page.url()).searchParams);
  for (const name of ['federatingService', 'linkCandidates', 'autoLoginToken', 'federatedUserId', 'linkedUser', 'externalServiceTokens', 'federationProvider']) {
    assert.ok(name in first, `missing ${name}: ${page.url()}`);
  }
  assert.equal(first.federatingService, 'OpenIdConnectFederationService');
  assert.equal(first.federationProvider, 'acme');
  await shoot('app-signed-in');

  step('a second Try it comes back with no screen at all');
  await page.goto(`${panel}/apps/${appId}/hosted-services`);
  await tile.locator('.status', { hasText: 'ACTIVE' }).waitFor();
  const hosts = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && hosts.push(new URL(f.url()).host));
  await tile.getByRole('link', { name: 'Try it' }).click();
  await page.waitForURL((u) => u.href.startsWith(appRedirect));
  const second = Object.fromEntries(new URL(page.url()).searchParams);
  assert.equal(second.linkedUser, first.linkedUser);
  assert.equal(second.federatedUserId, first.federatedUserId);
  assert.ok(!hosts.includes(`localhost:${opPort}`), `a provider page was shown: ${hosts}`);

  step('Users: the user made from the provider, its identity named');
  await page.goto(`${panel}/apps/${appId}/users`);
  await page.getByRole('row').filter({ hasText: 'ann@acme.example' }).waitFor();
  await page.getByRole('link', { name: first.linkedUser }).click();
  const identity = page.getByRole('row').filter({ hasText: first.federatedUserId });
  await identity.waitFor();
  assert.match(await identity.innerText(), /Acme SSO/);
  assert.match(await identity.innerText(), /Linked/);
  await shoot('user-detail');

  step('Events: the logins, filtered by provider');
  await page.goto(`${panel}/apps/${appId}/events?kind=login_succeeded`);
  await page.locator('table.events tbody tr').first().waitFor();
  await page.getByLabel('Provider').selectOption('acme');
  await page.waitForURL(/kind=login_succeeded&provider=acme$/);
  await page.locator('table.events tbody tr').first().waitFor();
  const rows = await page.locator('table.events tbody tr').allInnerTexts();
  assert.equal(rows.length, 2, rows.join('\n'));
  assert.match(rows[0], /returning/);
  assert.match(rows[1], /new_user/);
  assert.ok(rows.every((r) => r.includes('Acme SSO')), rows.join('\n'));
  await page.getByLabel('Provider').selectOption('google');
  await page.waitForURL(/provider=google$/);
  await page.getByText('No events yet').waitFor();
  await page.getByLabel('Provider').selectOption('acme');
  await page.waitForURL(/provider=acme$/);
  await page.locator('table.events tbody tr').first().waitFor();
  await shoot('events');

  step('a provider whose discovery fails: INACTIVE with the reason, checked again on demand');
  await nav('Properties');
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'OpenID Connect ›', exact: true }).click();
  await page.getByRole('button', { name: 'Provider', exact: true }).click();
  await dialog.getByLabel('Instance name').fill('broken');
  await dialog.getByLabel('Slug').fill('broken');
  await dialog.getByLabel('Display name').fill('Broken SSO');
  await dialog.getByLabel('Issuer URL').fill(`${issuer}/realms/none`);
  await dialog.getByLabel('Client ID').fill('someone');
  await dialog.getByLabel('Client secret').fill('something');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await nav('Hosted Services');
  const broken = page.getByRole('region', { name: 'Broken SSO Authentication Service' });
  await broken.locator('.status', { hasText: 'INACTIVE' }).waitFor();
  assert.match(await broken.locator('.reasons').innerText(), /HTTP 404/);
  await broken.getByRole('button', { name: 'Check discovery again' }).click();
  await broken.locator('.reasons .field-error').waitFor();
  assert.match(await broken.locator('.reasons .field-error').innerText(), /HTTP 404/);
  await shoot('discovery-failed-tile');

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
