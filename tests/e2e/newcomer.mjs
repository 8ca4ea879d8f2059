// The newcomer's story, end to end in Debian Chromium: a fresh data directory and
// `fedgate serve` on loopback with nothing configured (the README's first command: the
// development provider is on by itself), then sign up, create an application,
// activate Development sign-in, add the OAuth integration with the suggested
// development result page, Try it, type an email, and land on the result page with a
// verified token; Try it again comes back with no screen. No Google account, no
// provider to set up. Screenshots go to test-output/newcomer/.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { freePort, launchChromium, newIntegration, panelPage, root, runSuite, signUpWithApp, startFedgate, step as say } from './lib.mjs';

const outDir = join(root, 'test-output', 'newcomer');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const step = (msg) => say('newcomer', msg);
const fgPort = await freePort();

await runSuite('newcomer', async (cleanups, logs) => {
  // Nothing but the address and a fresh data directory: dev_provider is `auto`.
  const fg = await startFedgate(fgPort, null, cleanups, { FEDGATE_ALLOW_LOOPBACK_PROVIDERS: 'false' });
  logs.push({ name: 'Fedgate', get: () => fg.log });
  assert.match(fg.log, /development provider is on/, 'the log says the development provider is on');
  const panel = `${fg.url}/panel`;
  const browser = await launchChromium(cleanups);
  const { page, pageErrors, shoot, nav, hydrated } = await panelPage(browser, outDir, cleanups, { viewport: { width: 1280, height: 900 } });
  const dialog = page.getByRole('dialog');

  step('sign up and create an application');
  const appId = await signUpWithApp(page, panel, hydrated, { email: 'newcomer@example.com', password: 'a newcomer passphrase' }, 'My first app');
  await page.locator('.dev-notice').waitFor();
  assert.match(await page.locator('.dev-notice').innerText(), /Development mode/);

  step('activate Development sign-in in one click');
  await nav('Hosted Services');
  const tile = page.getByRole('region', { name: 'Development sign-in Authentication Service' });
  await tile.locator('.status', { hasText: 'INACTIVE' }).waitFor();
  await shoot('development-tile-inactive');
  await tile.getByRole('button', { name: 'Activate' }).click();
  await tile.getByRole('button', { name: 'Activate' }).waitFor({ state: 'detached' });
  // Still waiting for the OAuth integration, which says where results go.
  assert.match(await tile.locator('.reasons').innerText(), /OAuth integration/);

  step('the OAuth integration with the suggested development result page');
  await nav('Properties');
  await newIntegration(page, 'try-it');
  await dialog.getByRole('button', { name: /^Add .*\/dev-app\/callback/ }).click();
  assert.equal(await dialog.getByLabel('OAuth redirect URIs').inputValue(), `${fg.url}/dev-app/callback`);
  await shoot('integration-suggested-redirect');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });

  step('Try it: type an email, land on the result page with a verified token');
  await nav('Hosted Services');
  await tile.locator('.status', { hasText: 'ACTIVE' }).waitFor();
  await shoot('development-tile-active');
  await tile.getByRole('link', { name: 'Try it' }).click();
  await page.getByRole('heading', { name: 'Development sign-in' }).waitFor();
  await page.getByLabel('Email').fill('ann@example.com');
  await page.getByLabel('Name').fill('Ann Newcomer');
  await shoot('development-sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/dev-app/callback');
  const verdict = page.locator('#token-verdict');
  assert.equal(await verdict.getAttribute('data-valid'), 'true', await page.content());
  const first = Object.fromEntries(new URL(page.url()).searchParams);
  assert.equal(first.federationProvider, 'dev');
  assert.ok(first.linkedUser && first.autoLoginToken, page.url());
  await shoot('result-page');

  step('Try it again: no screen at all');
  await page.goto(`${panel}/apps/${appId}/hosted-services`);
  await tile.locator('.status', { hasText: 'ACTIVE' }).waitFor();
  const shown = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && shown.push(new URL(f.url()).pathname));
  await tile.getByRole('link', { name: 'Try it' }).click();
  await page.waitForURL((u) => u.pathname === '/dev-app/callback');
  const second = Object.fromEntries(new URL(page.url()).searchParams);
  assert.equal(second.linkedUser, first.linkedUser);
  assert.ok(!shown.includes('/dev-provider/authorize'), `a sign-in page was shown: ${shown}`);
  assert.equal(await page.locator('#token-verdict').getAttribute('data-valid'), 'true');

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
