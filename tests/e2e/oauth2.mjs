// The seed's story, end to end in Debian Chromium: a company whose users live on its
// own platform — a plain OAuth 2.0 server (@node-oauth/oauth2-server behind express:
// its own sign-in form, numeric user ids, a JSON profile, no ID token, no discovery).
// The subscriber configures it entirely in the panel — New Property › OAuth2 ›
// Provider, with Preview mapping on a sample profile (a wrong subject pointer first).
// A user signs in at the platform; later they open the chat app's login: Fedgate →
// the platform (already signed in: no screen) → back at the app as a new user made
// from the platform's data, with no form; the next login comes back with no screen
// either. The identity, its mapped profile and the events show in the panel.
// Screenshots go to test-output/oauth2/.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { freePort, launchChromium, newIntegration, panelPage, root, runSuite, signUpWithApp, startApp, startFedgate, startPlatform, step as say } from './lib.mjs';

const outDir = join(root, 'test-output', 'oauth2');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const step = (msg) => say('oauth2', msg);

const [platformPort, fgPort, appPort] = [await freePort(), await freePort(), await freePort()];
const client = { id: 'fedgate-chat', secret: 'platform-client-secret-for-fedgate' };
const owner = { email: 'it@platform.example', password: 'an oauth2 panel passphrase' };
const sample = JSON.stringify({ id: 7, username: 'sample', profile: { displayName: 'Sample Person', email: 'sample@platform.example' } }, null, 2);

await runSuite('oauth2', async (cleanups, logs) => {
  const fg = await startFedgate(fgPort, null, cleanups);
  logs.push({ name: 'Fedgate', get: () => fg.log });
  const panel = `${fg.url}/panel`;
  const appRedirect = startApp(appPort, cleanups);
  const browser = await launchChromium(cleanups);
  const { page, pageErrors, shoot, nav, hydrated } = await panelPage(browser, outDir, cleanups, { viewport: { width: 1280, height: 900 } });
  const dialog = page.getByRole('dialog');

  step('sign up, create the chat application and its OAuth integration');
  const appId = await signUpWithApp(page, panel, hydrated, owner, 'Chat');
  const callback = `${fg.url}/hosted/${appId}/platform/callback`;
  const loginEndpoint = `${fg.url}/hosted/${appId}/platform/login`;
  await nav('Properties');
  await newIntegration(page, 'web');
  await dialog.getByLabel('OAuth redirect URIs').fill(appRedirect);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });

  // The company registers Fedgate as an OAuth client of its platform.
  const platform = startPlatform(platformPort, { ...client, redirectUri: callback }, cleanups);
  step(`the platform at ${platform.base}`);

  step('New Property › OAuth2 › Provider, with Preview mapping');
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'OAuth2 ›', exact: true }).click();
  await page.getByRole('button', { name: 'Provider', exact: true }).click();
  await dialog.getByRole('heading', { name: 'New Property › OAuth2 › Provider' }).waitFor();
  const field = (label) => dialog.getByLabel(label, { exact: true });
  await field('Instance name').fill('our-platform');
  await field('Slug').fill('platform');
  await field('Display name').fill('Our Platform');
  await field('Authorization URL').fill(platform.authorizationUrl);
  await field('Token URL').fill(platform.tokenUrl);
  await field('Profile URL').fill(platform.profileUrl);
  await field('Client ID').fill(client.id);
  await field('Client secret').fill(client.secret);
  await field('Scopes').fill('profile');
  // A wrong subject pointer first: the preview says the login would fail, and why.
  await field('Subject').fill('/user_id');
  await field('Email').fill('/profile/email');
  await field('Name').fill('/profile/displayName');
  await field('Username').fill('/username');
  await field('Sample profile JSON').fill(sample);
  await dialog.getByRole('button', { name: 'Preview mapping' }).click();
  const preview = dialog.locator('.mapping-preview');
  await preview.waitFor();
  assert.match(await preview.innerText(), /would fail.*no subject at \/user_id/s);
  await field('Subject').fill('/id');
  await dialog.getByRole('button', { name: 'Preview mapping' }).click();
  await dialog.locator('.mapping-preview:not(.failed)').waitFor();
  const shown = await preview.innerText();
  for (const expected of ['7', 'sample@platform.example', 'Sample Person', 'sample', 'not verified']) {
    assert.ok(shown.includes(expected), `${expected} in ${shown}`);
  }
  await preview.scrollIntoViewIfNeeded();
  await shoot('oauth2-dialog-preview');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  const row = page.getByRole('row').filter({ hasText: 'our-platform' });
  await row.waitFor();
  assert.match(await row.innerText(), /OAuth2 › Provider/);
  assert.match(await row.innerText(), /subject \/id/);
  assert.ok(!(await page.content()).includes(client.secret), 'the secret is never shown back');
  await shoot('properties');

  step('the tile is ACTIVE');
  await nav('Hosted Services');
  const tile = page.getByRole('region', { name: 'Our Platform Authentication Service' });
  await tile.locator('.status', { hasText: 'ACTIVE' }).waitFor();
  assert.deepEqual(await tile.locator('.uri-value code').allInnerTexts(), [callback, loginEndpoint]);
  await shoot('hosted-services');

  // The end user, in their own browser.
  const user = await browser.newContext({ viewport: { width: 1024, height: 700 } });
  cleanups.push(() => user.close());
  const tab = await user.newPage();
  step('the user signs in at the platform first');
  await tab.goto(`${platform.base}/login`);
  await tab.getByLabel('Username').fill('ann');
  await tab.getByLabel('Password').fill('platform-pass');
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await tab.getByText('Signed in as ann').waitFor();
  await shoot('platform-signed-in', tab);

  const pagesShown = [];
  tab.on('framenavigated', (f) => f === tab.mainFrame() && pagesShown.push(new URL(f.url()).origin));
  step('the chat app\'s login: Fedgate → the platform (no screen) → back, a new user with no form');
  await tab.goto(`${loginEndpoint}?state=chat-1`);
  await tab.waitForURL((u) => u.href.startsWith(appRedirect));
  const first = Object.fromEntries(new URL(tab.url()).searchParams);
  assert.equal(first.federatingService, 'OAuth2FederationService');
  assert.equal(first.federationProvider, 'platform');
  assert.equal(first.state, 'chat-1');
  assert.ok(first.linkedUser && first.autoLoginToken, tab.url());
  assert.deepEqual(pagesShown.filter((o) => o !== new URL(appRedirect).origin), [], 'no page but the app was shown');
  await shoot('app-signed-in', tab);

  step('the next login comes back with no screen at all');
  pagesShown.length = 0;
  await tab.goto(`${loginEndpoint}?state=chat-2`);
  await tab.waitForURL((u) => u.href.startsWith(appRedirect) && u.href.includes('chat-2'));
  const second = Object.fromEntries(new URL(tab.url()).searchParams);
  assert.equal(second.linkedUser, first.linkedUser);
  assert.equal(second.federatedUserId, first.federatedUserId);
  assert.deepEqual(pagesShown.filter((o) => o !== new URL(appRedirect).origin), []);

  step('the panel: the user made from the platform, its identity and mapped profile');
  await page.goto(`${panel}/apps/${appId}/users`);
  await page.getByRole('row').filter({ hasText: 'ann@platform.example' }).waitFor();
  await page.getByRole('link', { name: first.linkedUser }).click();
  const identity = page.getByRole('row').filter({ hasText: first.federatedUserId });
  await identity.waitFor();
  assert.match(await identity.innerText(), /Our Platform/);
  await shoot('user-detail');
  await identity.getByRole('link').filter({ hasText: first.federatedUserId }).click();
  const facts = page.locator('dl.facts');
  await facts.waitFor();
  const factsText = await facts.innerText();
  for (const expected of ['OAuth2FederationService', '1042', 'ann@platform.example', 'Ann Platform', 'ann']) {
    assert.ok(factsText.includes(expected), `${expected} in ${factsText}`);
  }
  await shoot('federated-user');

  step('Events: a new user, then a returning one, filtered by provider');
  await page.goto(`${panel}/apps/${appId}/events?kind=login_succeeded&provider=platform`);
  await page.locator('table.events tbody tr').first().waitFor();
  const rows = await page.locator('table.events tbody tr').allInnerTexts();
  assert.equal(rows.length, 2, rows.join('\n'));
  assert.match(rows[0], /returning/);
  assert.match(rows[1], /new_user/);
  assert.ok(rows.every((r) => r.includes('Our Platform')), rows.join('\n'));
  await shoot('events');

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
