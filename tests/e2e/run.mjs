// End-to-end: a real OpenID provider (oidc-provider, configured like Google: RS256,
// email claims in the ID token) stands in for Google; Debian Chromium, driven by
// playwright-core, signs in through Fedgate's hosted login and lands on a tiny app
// that shows the six reference parameters; jose (an independent JWT library)
// verifies the autoLoginToken against the application's JWKS. Screenshots go to
// test-output/e2e/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { clientId, clientSecret, freePort, launchChromium, root, runSuite, signInAtProvider, startApp, startFedgate, startProvider, step as say } from './lib.mjs';

const outDir = join(root, 'test-output', 'e2e');
mkdirSync(outDir, { recursive: true });
const step = (msg) => say('e2e', msg);

const [opPort, fgPort, appPort] = [await freePort(), await freePort(), await freePort()];
const issuer = `http://127.0.0.1:${opPort}`;

await runSuite('e2e', async (cleanups, logs) => {
  // 1. Fedgate, pointed at the provider's endpoints (test-only override).
  step('starting fedgate');
  const fg = await startFedgate(fgPort, issuer, cleanups);
  logs.push({ name: 'Fedgate', get: () => fg.log });
  const fedgate = fg.url;
  // The app: shows what it received.
  const appRedirect = startApp(appPort, cleanups);

  // 2. A subscriber configures an application through the management API.
  step('configuring an application through the management API');
  let cookie = '';
  const api = async (method, path, body, csrf) => {
    const res = await fetch(`${fedgate}${path}`, {
      method,
      headers: { 'content-type': 'application/json', cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    const json = await res.json();
    assert.ok(res.ok, `${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const session = await api('POST', '/manage/v1/signup', { email: 'e2e@example.com', password: 'an e2e passphrase' });
  const csrf = session.csrfToken;
  const app = await api('POST', '/manage/v1/applications', { name: 'E2E' }, csrf);
  await api('POST', `/manage/v1/applications/${app.id}/properties`, { kind: 'google_oauth_credentials', instanceName: 'google', clientId, clientSecret }, csrf);
  await api('POST', `/manage/v1/applications/${app.id}/properties`, { kind: 'oauth_integration', instanceName: 'web', redirectUris: [appRedirect] }, csrf);
  const [tile] = await api('GET', `/manage/v1/applications/${app.id}/hosted-services`);
  assert.equal(tile.status, 'ACTIVE');

  // 3. The OpenID provider, with Fedgate's Google Redirect URI registered.
  step(`starting oidc-provider at ${issuer}`);
  startProvider(opPort, tile.providerRedirectUri, cleanups);
  const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
  assert.equal(discovery.authorization_endpoint, `${issuer}/auth`);
  assert.equal(discovery.token_endpoint, `${issuer}/token`);
  assert.equal(discovery.jwks_uri, `${issuer}/jwks`);
  assert.equal(discovery.userinfo_endpoint, `${issuer}/me`);

  // 5. A real browser signs in.
  step('signing in with Chromium');
  const browser = await launchChromium(cleanups);
  const page = await browser.newPage();
  await page.goto(`${tile.loginEndpoint}?state=e2e-state`);
  let shot = 0;
  await signInAtProvider(page, 'e2e.person', (name) => page.screenshot({ path: join(outDir, `${++shot}-${name}.png`) }));
  await page.waitForURL((u) => u.href.startsWith(appRedirect));
  await page.screenshot({ path: join(outDir, '3-app-signed-in.png') });
  const first = Object.fromEntries(new URL(page.url()).searchParams);
  for (const name of ['federatingService', 'linkCandidates', 'autoLoginToken', 'federatedUserId', 'linkedUser', 'externalServiceTokens', 'state']) {
    assert.ok(name in first, `missing ${name}: ${page.url()}`);
    assert.equal(await page.locator(`dd[data-name="${name}"]`).count(), 1, `the app page shows ${name}`);
  }
  assert.equal(first.federatingService, 'GoogleFederationService');
  assert.equal(first.state, 'e2e-state');
  assert.notEqual(first.federatedUserId, first.linkedUser);

  // 6. An independent JWT library verifies the token against the public JWKS.
  step('verifying autoLoginToken with jose');
  const jwks = createRemoteJWKSet(new URL(`${fedgate}/hosted/${app.id}/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(first.autoLoginToken, jwks, { issuer: fedgate, audience: app.id, algorithms: ['EdDSA'] });
  assert.equal(payload.sub, first.linkedUser);
  assert.ok(protectedHeader.kid && payload.jti && payload.exp - payload.iat === 3600);
  await assert.rejects(jwtVerify(first.autoLoginToken, jwks, { issuer: fedgate, audience: 'another-application' }));

  // 7. Signed in at the provider already: the second sign-in shows no screen at all.
  step('returning sign-in');
  const hops = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && hops.push(new URL(f.url()).host));
  await page.goto(`${tile.loginEndpoint}?state=again`);
  await page.waitForURL((u) => u.href.startsWith(appRedirect));
  const second = Object.fromEntries(new URL(page.url()).searchParams);
  assert.equal(second.linkedUser, first.linkedUser);
  assert.equal(second.federatedUserId, first.federatedUserId);
  assert.equal(second.state, 'again');
  assert.ok(!(await page.locator('input[name=login]').count()), 'no login form the second time');

  // 8. The event log saw both.
  const events = await api('GET', `/manage/v1/applications/${app.id}/events?kind=login_succeeded`);
  assert.deepEqual(events.map((e) => e.outcome), ['returning', 'new_user']);
});
