// The panel, end to end, in Debian Chromium: the reference manual's walk-through
// done literally by a subscriber who only clicks and types — sign up, create an
// application, Hosted Services INACTIVE with both reasons, New Property › Google ›
// Credentials › OAuth Credentials, New Property › Fedgate › OAuth Integration (a
// validation error shown inline first), the tile ACTIVE with both URIs, Try it
// against oidc-provider standing in for Google, a refused start in the tile's redirect
// diagnostics with the difference marked, a webhook (its secret once, a test event
// verified with the Standard Webhooks library), the user under Users and the login
// under Events, an access key whose secret is shown once — plus a wrong password,
// another subscriber opening the first one's application by URL, a lapsed session,
// phone width and labelled inputs. A screenshot of every page goes to
// test-output/panel/ (docs/panel.md shows them).
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { clientId, clientSecret, freePort, launchChromium, panelPage, root, runSuite, signInAtProvider, startApp, startFedgate, startProvider, step as say } from './lib.mjs';

const outDir = join(root, 'test-output', 'panel');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const step = (msg) => say('panel', msg);

const [opPort, fgPort, appPort, hookPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const issuer = `http://127.0.0.1:${opPort}`;
const owner = { email: 'owner@example.com', password: 'a long panel passphrase' };

await runSuite('panel', async (cleanups, logs) => {
  // Loopback providers allowed: the webhook endpoint below is on this machine.
  const fg = await startFedgate(fgPort, issuer, cleanups, {
    FEDGATE_DEV_PROVIDER: 'off',
    FEDGATE_ALLOW_LOOPBACK_PROVIDERS: 'true',
  });
  logs.push({ name: 'Fedgate', get: () => fg.log });
  const panel = `${fg.url}/panel`;
  const appRedirect = startApp(appPort, cleanups);
  const browser = await launchChromium(cleanups);
  const { context, page, pageErrors, shoot, nav, hydrated } = await panelPage(browser, outDir, cleanups, {
    viewport: { width: 1280, height: 860 },
    clipboardOrigin: fg.url,
  });
  // Every visible input, select and textarea has a label people and screen readers see.
  const assertLabelled = async (p = page) => {
    const unlabelled = await p.$$eval('input:not([type=hidden]), select, textarea', (els) =>
      els.filter((e) => e.offsetParent !== null && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.outerHTML),
    );
    assert.deepEqual(unlabelled, [], 'inputs without a label');
  };

  // 1. Signed out, the panel sends you to sign in; from there, to sign up.
  step('sign up');
  await page.goto(panel);
  await page.waitForURL(/\/panel\/signin/);
  await hydrated();
  await shoot('sign-in');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL(/\/panel\/signup$/);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill('too short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#password-error').waitFor();
  assert.match(await page.locator('#password-error').innerText(), /10/);
  await assertLabelled();
  await shoot('sign-up-password-too-short');
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${panel}`);
  await page.getByText('No applications yet').waitFor();
  await shoot('applications-empty');

  // 2. Create an application.
  step('create an application');
  await page.getByLabel('Name').fill('Chat');
  await page.getByRole('button', { name: 'Create application' }).click();
  await page.waitForURL(/\/panel\/apps\/[^/]+$/);
  const appId = page.url().split('/').pop();
  await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();
  await shoot('application-overview');

  // 3. Hosted Services: INACTIVE, with both reasons as links to fix them.
  step('hosted services inactive');
  await nav('Hosted Services');
  const tile = page.getByRole('region', { name: 'Google Authentication Service' });
  await tile.waitFor();
  assert.equal(await tile.locator('.status').innerText(), 'INACTIVE');
  const fixes = await tile.locator('.reasons a').allInnerTexts();
  assert.deepEqual(fixes, ['Add Google › Credentials › OAuth Credentials', 'Add Fedgate › OAuth Integration']);
  assert.equal(await tile.getByText('Try it').getAttribute('aria-disabled'), 'true');
  await shoot('hosted-services-inactive');
  // Step 4 of the manual: copy the Google Redirect URI for the Google console.
  await tile.getByRole('button', { name: 'Copy Google Redirect URI' }).click();
  await tile.getByText('Copied').waitFor();
  const redirectUri = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(redirectUri, `${fg.url}/hosted/${appId}/google/callback`);
  // The provider is set up with it, as Google would be.
  startProvider(opPort, redirectUri, cleanups);

  // 4. Properties › New Property › Google › Credentials › OAuth Credentials.
  step('google credentials');
  await nav('Properties');
  await page.getByText('No properties yet').waitFor();
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'Google ›' }).click();
  await page.getByRole('button', { name: 'Credentials ›' }).click();
  await shoot('new-property-menu');
  await page.getByRole('button', { name: 'OAuth Credentials' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: 'New Property › Google › Credentials › OAuth Credentials' }).waitFor();
  await dialog.getByLabel('Instance name').fill('google-main');
  await dialog.getByLabel('Client ID').fill(clientId);
  await dialog.getByLabel('Client secret').fill(clientSecret);
  await dialog.getByLabel('Project number').fill('1234567890');
  await dialog.getByLabel('Application name').fill('Chat');
  await assertLabelled();
  await shoot('google-credentials-dialog');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  const googleRow = page.getByRole('row').filter({ hasText: 'google-main' });
  await googleRow.waitFor();
  assert.match(await googleRow.innerText(), /client secret set/);
  assert.ok(!(await page.content()).includes(clientSecret), 'the client secret is never shown back');
  // Editing shows "set", never the secret.
  await page.getByRole('button', { name: /^Edit Google/ }).click();
  assert.equal(await dialog.getByLabel('Client secret').inputValue(), '');
  await dialog.getByText('A client secret is set.').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // 5. New Property › Fedgate › OAuth Integration; a bad redirect URI is refused inline.
  step('oauth integration');
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'Fedgate ›' }).click();
  await page.getByRole('button', { name: 'OAuth Integration' }).click();
  await dialog.getByLabel('Instance name').fill('web');
  await dialog.getByLabel('OAuth redirect URIs').fill(`${appRedirect}\nhttp://app.example.com/callback`);
  await dialog.getByRole('button', { name: 'Save' }).click();
  const uriError = dialog.locator('#redirectUris-error');
  await uriError.waitFor();
  assert.match(await uriError.innerText(), /https/);
  assert.equal(await dialog.getByLabel('OAuth redirect URIs').getAttribute('aria-invalid'), 'true');
  await assertLabelled();
  await shoot('oauth-integration-inline-error');
  await dialog.getByLabel('OAuth redirect URIs').fill(appRedirect);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('row').filter({ hasText: appRedirect }).waitFor();
  await shoot('properties');
  // By keyboard alone: the menu opens and closes, a dialog takes the focus and Escape
  // closes it.
  await page.getByRole('button', { name: 'New Property' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Fedgate ›', exact: true }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Fedgate ›', exact: true }).waitFor({ state: 'detached' });
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Fedgate ›');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), 'the dialog has the focus');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // 6. Hosted Services: ACTIVE, with both URIs.
  step('hosted services active');
  await nav('Hosted Services');
  await tile.locator('.status', { hasText: 'ACTIVE' }).waitFor();
  assert.equal(await tile.locator('.status').innerText(), 'ACTIVE');
  const uris = await tile.locator('.uri-value code').allInnerTexts();
  assert.deepEqual(uris, [redirectUri, `${fg.url}/hosted/${appId}/google/login`]);
  assert.equal(await tile.locator('.reasons').count(), 0);
  await shoot('hosted-services-active');

  // 7. Try it: a real sign-in at the provider, back to the app with the reference parameters.
  step('try it');
  await tile.getByRole('link', { name: 'Try it' }).click();
  await signInAtProvider(page, 'panel.person', (name) => shoot(name));
  await page.waitForURL((u) => u.href.startsWith(appRedirect));
  const result = Object.fromEntries(new URL(page.url()).searchParams);
  assert.equal(result.federatingService, 'GoogleFederationService');
  assert.ok(result.linkedUser && result.federatedUserId && result.autoLoginToken);
  await shoot('app-signed-in');

  // 7b. Redirect diagnostics: a start with a redirect_uri one character off is refused,
  // and the tile shows what was sent next to what is registered, the difference marked.
  step('redirect diagnostics');
  const offByOne = `${appRedirect}/`;
  await page.goto(`${fg.url}/hosted/${appId}/google/login?redirect_uri=${encodeURIComponent(offByOne)}`);
  await page.getByRole('heading', { name: 'Sign-in request refused' }).waitFor();
  await page.goto(`${panel}/apps/${appId}/hosted-services`);
  const diagnostics = tile.locator('details.diagnostics');
  await diagnostics.locator('summary').click();
  await diagnostics.getByText('redirect_uri_unregistered').waitFor();
  const marks = await diagnostics.locator('code.diff').allInnerTexts();
  assert.deepEqual(marks, [offByOne, appRedirect]);
  assert.equal(await diagnostics.locator('code.diff mark').first().innerText(), '/');
  await diagnostics.getByText(`first differs at character ${appRedirect.length + 1}`).waitFor();
  await shoot('hosted-services-diagnostics');

  // 8. The user under Users: found by email, with its identity and token.
  step('users');
  await page.goto(`${panel}/apps/${appId}/users`);
  await page.getByRole('row').filter({ hasText: 'panel.person@gmail.com' }).waitFor();
  await shoot('users');
  await page.getByLabel('Email, phone, user id or federated user id').fill('panel.person@gmail.com');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/users\?q=/);
  await page.getByRole('link', { name: result.linkedUser }).click();
  await page.waitForURL(new RegExp(`/users/${result.linkedUser}$`));
  const identity = page.getByRole('row').filter({ hasText: result.federatedUserId });
  await identity.waitFor();
  assert.match(await identity.innerText(), /Linked/);
  const token = page.getByRole('row').filter({ hasText: 'Active' }).filter({ has: page.getByRole('button', { name: /^Revoke token/ }) });
  await token.waitFor();
  await shoot('user-detail');
  await token.getByRole('button', { name: /^Revoke token/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
  await page.getByText(/^Revoked /).waitFor();
  // Unlink from the panel: the identity stays, unlinked.
  await identity.getByRole('button', { name: /^Unlink/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Unlink' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  await page.getByText('No federated identity is linked').waitFor();
  await page.goto(`${panel}/apps/${appId}/federated-users/${result.federatedUserId}`);
  await page.getByText('Unlinked', { exact: true }).waitFor();
  await page.getByLabel('User id').fill(result.linkedUser);
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await page.getByText('Linked', { exact: true }).waitFor();
  await shoot('federated-user');
  // Detach on the user's page, then link it back from there.
  await page.goto(`${panel}/apps/${appId}/users/${result.linkedUser}`);
  await identity.getByRole('button', { name: /^Detach/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Detach' }).click();
  await identity.getByText('Detached', { exact: true }).waitFor();
  await identity.getByRole('button', { name: /to this user$/ }).click();
  await identity.getByText('Linked', { exact: true }).waitFor();

  // 9. Events: the login, newest first; filterable.
  step('events');
  await page.goto(`${panel}/apps/${appId}/events`);
  const succeeded = page.getByRole('row').filter({ hasText: 'Login succeeded' });
  await succeeded.first().waitFor();
  assert.match(await succeeded.first().innerText(), /new_user/);
  const kinds = await page.locator('table.events tbody tr td:nth-child(2)').allInnerTexts();
  assert.equal(kinds[0], 'Identity linked', 'newest first');
  await shoot('events');
  await page.getByLabel('Show').selectOption('login_failed');
  await page.waitForURL(/kind=login_failed/);
  // Only the refused start of the redirect diagnostics step.
  await page.locator('table.events tbody tr').first().waitFor();
  const failed = await page.locator('table.events tbody tr').allInnerTexts();
  assert.equal(failed.length, 1);
  assert.match(failed[0], /redirect_uri_unregistered/);
  await page.getByLabel('Show').selectOption('login_succeeded');
  await page.waitForURL(/kind=login_succeeded/);
  await page.locator('table.events tbody tr').first().waitFor();
  assert.deepEqual(await page.locator('table.events tbody tr td:nth-child(2)').allInnerTexts(), ['Login succeeded']);

  // 10. Access keys: the secret once, gone after a reload; revoke with confirmation.
  // Paging: 30 more login starts make more than a page (25); older ones are a link
  // away, and the newest page is one back.
  const loginEndpoint = `${fg.url}/hosted/${appId}/google/login`;
  for (let i = 0; i < 30; i++) {
    const res = await fetch(loginEndpoint, { redirect: 'manual' });
    assert.equal(res.status, 302, `login start ${i}`);
  }
  await page.getByLabel('Show').selectOption('login_started');
  await page.waitForURL(/kind=login_started$/);
  await page.getByRole('link', { name: 'Older ›' }).waitFor();
  const firstPage = await page.locator('table.events tbody tr td:first-child').allInnerTexts();
  assert.equal(firstPage.length, 25);
  await page.getByRole('link', { name: 'Older ›' }).click();
  await page.waitForURL(/kind=login_started&before=/);
  await page.getByRole('link', { name: '« Newest' }).waitFor();
  const secondPage = await page.locator('table.events tbody tr td:first-child').allInnerTexts();
  assert.equal(secondPage.length, 31 - 25, 'the rest: 30 starts here and the Try it one');
  assert.equal(await page.getByRole('link', { name: 'Older ›' }).count(), 0);
  await page.getByRole('link', { name: '« Newest' }).click();
  await page.waitForURL(/kind=login_started$/);
  await page.getByRole('link', { name: 'Older ›' }).waitFor();

  step('access keys');
  await page.goto(`${panel}/apps/${appId}/access-keys`);
  await page.getByText('No access keys yet.').waitFor();
  await page.getByRole('button', { name: 'Create access key' }).click();
  const secret = await page.locator('.key-secret').innerText();
  const keyId = await page.locator('.key-id').innerText();
  assert.ok(secret.length >= 32, secret);
  await page.getByText('Copy the secret now.').waitFor();
  await page.getByRole('button', { name: 'Copy secret' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await shoot('access-key-created');
  await page.reload();
  await page.getByRole('row').filter({ hasText: keyId }).waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone after a reload');
  await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
  await shoot('access-key-revoke-confirm');
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
  await page.getByRole('row').filter({ hasText: keyId }).getByText(/^Revoked /).waitFor();
  await shoot('access-keys');

  step('user-token signing key rotation');
  const signingRows = page.locator('section.signing-keys tbody tr');
  await signingRows.filter({ hasText: 'signing' }).waitFor();
  assert.equal(await signingRows.count(), 1, 'one key, made with the application');
  const jwksBefore = await (await fetch(`${fg.url}/hosted/${appId}/jwks.json`)).json();
  await page.getByRole('button', { name: 'Rotate signing key' }).click();
  await page.getByRole('dialog').getByText('published in the JWKS at once').waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
  await signingRows.filter({ hasText: 'next' }).waitFor();
  assert.equal(await signingRows.count(), 2);
  const jwksAfter = await (await fetch(`${fg.url}/hosted/${appId}/jwks.json`)).json();
  assert.equal(jwksAfter.keys.length, jwksBefore.keys.length + 1, 'the next key is published at once');
  await shoot('signing-keys-rotated');
  // A second rotation waits for the first, and says so.
  await page.getByRole('button', { name: 'Rotate signing key' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
  await page.getByRole('dialog').getByText(/a rotation is under way/).waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // 11. A lapsed session: to sign in, and back to the same page.
  step('session expiry');
  await context.addCookies([{ name: 'fedgate_session', value: 'lapsed', url: fg.url }]);
  await page.goto(`${panel}/apps/${appId}/events`);
  await page.waitForURL(/\/panel\/signin\?next=/);
  await page.getByText('Your session ended.').waitFor();
  await shoot('session-expired');
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${panel}/apps/${appId}/events`);
  await page.getByRole('heading', { name: 'Events' }).waitFor();

  // 11b. A webhook: created in the panel (its signing secret shown once), a test event
  // sent from its page and verified by the Standard Webhooks reference library.
  step('webhook');
  const verified = [];
  let hookSecret = null;
  const hookServer = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        verified.push(new Webhook(hookSecret).verify(Buffer.concat(chunks).toString('utf8'), req.headers));
        res.writeHead(204).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise((r) => hookServer.listen(hookPort, '127.0.0.1', r));
  cleanups.push(() => hookServer.close());
  await nav('Properties');
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'Fedgate ›', exact: true }).click();
  await page.getByRole('button', { name: 'Webhook', exact: true }).click();
  const hookDialog = page.getByRole('dialog');
  await hookDialog.getByLabel('Instance name').fill('Audit');
  await hookDialog.getByLabel('Endpoint URL').fill(`http://127.0.0.1:${hookPort}/hook`);
  await hookDialog.getByRole('button', { name: 'Save' }).click();
  assert.match(await hookDialog.locator('#eventTypes-error').innerText(), /at least one event type/);
  await hookDialog.getByLabel('user.created').check();
  await hookDialog.getByLabel('login.failed').check();
  await hookDialog.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
  hookSecret = await page.locator('code.key-secret').innerText();
  assert.match(hookSecret, /^whsec_[A-Za-z0-9+/=]{44}$/);
  await shoot('webhook-secret-once');
  await page.getByRole('button', { name: 'I have stored the secret' }).click();
  const hookRow = page.getByRole('row').filter({ hasText: 'Fedgate › Webhook' });
  await hookRow.waitFor();
  assert.ok(!(await page.content()).includes(hookSecret), 'the secret is gone once stored');
  await hookRow.getByRole('link', { name: 'Deliveries of Audit' }).click();
  await page.getByRole('heading', { name: 'Webhook “Audit”' }).waitFor();
  await page.getByRole('button', { name: 'Send test event' }).click();
  for (let i = 0; verified.length === 0; i++) {
    if (i > 100) throw new Error('no verified webhook delivery');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(verified[0].type, 'webhook.test');
  const delivered = page.locator('tr[data-status="delivered"]');
  for (let i = 0; (await delivered.count()) === 0; i++) {
    if (i > 50) throw new Error('the delivery is not shown as delivered');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(await delivered.first().innerText(), /webhook\.test[\s\S]*delivered[\s\S]*204/);
  await shoot('webhook-deliveries');

  // 12. Phone width: nothing overflows sideways; the navigation still works.
  step('phone width');
  await page.setViewportSize({ width: 390, height: 844 });
  await nav('Hosted Services');
  await tile.waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page wider than the phone by ${overflow}px`);
  await shoot('hosted-services-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  // 13. Rename, then delete with confirmation.
  step('rename after signing in again elsewhere');
  await nav('Overview');
  // Another tab signs in again: the cookie now names a new session with a new CSRF
  // token, and the panel's next change must still go through.
  await page.evaluate(async (o) => {
    const res = await fetch('/manage/v1/signin', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(o) });
    if (!res.ok) throw new Error(`sign-in: ${res.status}`);
  }, owner);
  await page.getByRole('textbox', { name: 'Name' }).fill('Chat (prod)');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByRole('heading', { name: 'Chat (prod)', level: 1 }).waitFor();

  // 14. Sign out; a wrong password is refused with a message.
  step('wrong password');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/panel\/signin$/);
  await hydrated();
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill('not the passphrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /email or password/i);
  await shoot('wrong-password');

  // 15. Another subscriber cannot open the first one's application by its URL.
  step('another subscriber');
  const other = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  await other.goto(`${panel}/signup`);
  await hydrated(other);
  await other.getByLabel('Email').fill('intruder@example.com');
  await other.getByLabel('Password').fill('another long passphrase');
  await other.getByRole('button', { name: 'Sign up' }).click();
  await other.waitForURL(panel);
  for (const rest of ['', '/properties', '/users', `/users/${result.linkedUser}`, '/access-keys', '/events']) {
    await other.goto(`${panel}/apps/${appId}${rest}`);
    await other.getByRole('heading', { name: 'Application not found' }).waitFor();
    const text = await other.locator('main').innerText();
    assert.ok(!text.includes('Chat') && !text.includes('panel.person'), `nothing of the first subscriber's on ${rest}`);
  }
  await shoot('another-subscriber', other);

  // 16. The first subscriber deletes the application, with confirmation.
  step('delete');
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(panel);
  await page.getByRole('link', { name: 'Chat (prod)' }).click();
  await page.getByRole('button', { name: 'Delete application…' }).click();
  await shoot('delete-confirm');
  await page.getByRole('dialog').getByRole('button', { name: 'Delete application' }).click();
  await page.waitForURL(panel);
  await page.getByText('No applications yet').waitFor();

  assert.deepEqual(pageErrors, [], 'no script errors in the page');
});
