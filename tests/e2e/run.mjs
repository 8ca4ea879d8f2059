// End-to-end: a real OpenID provider (oidc-provider, configured like Google: RS256,
// email claims in the ID token) stands in for Google; Debian Chromium, driven by
// playwright-core, signs in through Fedgate's hosted login and lands on a tiny app
// that shows the six reference parameters; jose (an independent JWT library)
// verifies the autoLoginToken against the application's JWKS. Screenshots go to
// test-output/e2e/.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import Provider from 'oidc-provider';
import { chromium } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const root = resolve(import.meta.dirname, '../..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const fedgateBin = process.env.FEDGATE_BIN ?? join(targetDir, 'debug', 'fedgate');
const outDir = join(root, 'test-output', 'e2e');
mkdirSync(outDir, { recursive: true });

const freePort = () =>
  new Promise((done) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });

const [opPort, fgPort, appPort] = [await freePort(), await freePort(), await freePort()];
const issuer = `http://127.0.0.1:${opPort}`;
const fedgate = `http://127.0.0.1:${fgPort}`;
const appBase = `http://127.0.0.1:${appPort}`;
const appRedirect = `${appBase}/auth/callback`;
const clientId = 'e2e-client.apps.googleusercontent.com';
const clientSecret = 'GOCSPX-e2e-client-secret';
const cleanups = [];
let fedgateLog = '';

function step(msg) {
  console.log(`e2e: ${msg}`);
}

try {
  // 1. Fedgate, pointed at the provider's endpoints (test-only override).
  step(`starting ${fedgateBin}`);
  const data = mkdtempSync(join(tmpdir(), 'fedgate-e2e-'));
  const fg = spawn(fedgateBin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      FEDGATE_LISTEN: `127.0.0.1:${fgPort}`,
      FEDGATE_PUBLIC_BASE_URL: fedgate,
      FEDGATE_DATA_DIR: data,
      FEDGATE_LOG_LEVEL: 'warn',
      FEDGATE_TESTING__GOOGLE__AUTHORIZATION_URL: `${issuer}/auth`,
      FEDGATE_TESTING__GOOGLE__TOKEN_URL: `${issuer}/token`,
      FEDGATE_TESTING__GOOGLE__USERINFO_URL: `${issuer}/me`,
      FEDGATE_TESTING__GOOGLE__JWKS_URL: `${issuer}/jwks`,
      FEDGATE_TESTING__GOOGLE__ISSUER: issuer,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fg.stdout.on('data', (d) => (fedgateLog += d));
  fg.stderr.on('data', (d) => (fedgateLog += d));
  cleanups.push(() => fg.kill('SIGTERM'));
  for (let i = 0; ; i++) {
    const ok = await fetch(`${fedgate}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 100) throw new Error('Fedgate did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }

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
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [tile.providerRedirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub, email: `${sub}@gmail.com`, email_verified: true, name: `E2E ${sub}` }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like Google: the profile claims are in the ID token itself.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['e2e-cookie-key'] },
  });
  const op = provider.listen(opPort);
  cleanups.push(() => op.close());
  const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
  assert.equal(discovery.authorization_endpoint, `${issuer}/auth`);
  assert.equal(discovery.token_endpoint, `${issuer}/token`);
  assert.equal(discovery.jwks_uri, `${issuer}/jwks`);
  assert.equal(discovery.userinfo_endpoint, `${issuer}/me`);

  // 4. The app: shows what it received.
  const appServer = http.createServer((req, res) => {
    const url = new URL(req.url, appBase);
    const rows = [...url.searchParams].map(([k, v]) => `<dt>${k}</dt><dd data-name="${k}">${v.replace(/</g, '&lt;')}</dd>`).join('');
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Test app</title><h1>Signed in</h1><dl>${rows}</dl>`);
  });
  appServer.listen(appPort, '127.0.0.1');
  cleanups.push(() => appServer.close());

  // 5. A real browser signs in.
  step('signing in with Chromium');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  cleanups.push(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${tile.loginEndpoint}?state=e2e-state`);
  await page.waitForSelector('input[name=login]');
  await page.screenshot({ path: join(outDir, '1-provider-login.png') });
  await page.fill('input[name=login]', 'e2e.person');
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForSelector('button[type=submit]');
  await page.screenshot({ path: join(outDir, '2-provider-consent.png') });
  await page.click('button[type=submit]');
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
  step('passed');
} catch (e) {
  console.error(`e2e: FAILED: ${e.stack ?? e}`);
  console.error(`--- Fedgate log ---\n${fedgateLog}`);
  process.exitCode = 1;
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {}
  }
}
