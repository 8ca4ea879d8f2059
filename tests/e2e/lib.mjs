// Shared by the end-to-end suites: free ports, a Fedgate process pointed at a local
// OpenID provider, the provider itself (oidc-provider, configured like Google), a
// company's plain OAuth 2.0 platform (@node-oauth/oauth2-server behind express), a
// tiny app that shows what it received, and Debian Chromium.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OAuth2Server from '@node-oauth/oauth2-server';
import express from 'express';
import Provider from 'oidc-provider';
import { chromium } from 'playwright-core';

export const root = resolve(import.meta.dirname, '../..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
export const fedgateBin = process.env.FEDGATE_BIN ?? join(targetDir, 'debug', 'fedgate');

export const clientId = 'e2e-client.apps.googleusercontent.com';
export const clientSecret = 'GOCSPX-e2e-client-secret';

export const freePort = () =>
  new Promise((done) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });

export function step(suite, msg) {
  console.log(`${suite}: ${msg}`);
}

// Fedgate on the embedded default, with Google's endpoints pointed at `issuer`
// (a test-only override) — or, with `issuer` null, with loopback providers allowed
// instead (a company's own identity server on this machine). Resolves once /readyz
// answers. The development provider is off unless `extraEnv` says otherwise.
export async function startFedgate(port, issuer, cleanups, extraEnv = { FEDGATE_DEV_PROVIDER: 'off' }) {
  const google = issuer
    ? {
        FEDGATE_TESTING__GOOGLE__AUTHORIZATION_URL: `${issuer}/auth`,
        FEDGATE_TESTING__GOOGLE__TOKEN_URL: `${issuer}/token`,
        FEDGATE_TESTING__GOOGLE__USERINFO_URL: `${issuer}/me`,
        FEDGATE_TESTING__GOOGLE__JWKS_URL: `${issuer}/jwks`,
        FEDGATE_TESTING__GOOGLE__ISSUER: issuer,
      }
    : { FEDGATE_ALLOW_LOOPBACK_PROVIDERS: 'true' };
  const url = `http://127.0.0.1:${port}`;
  const data = mkdtempSync(join(tmpdir(), 'fedgate-e2e-'));
  const proc = spawn(fedgateBin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      FEDGATE_LISTEN: `127.0.0.1:${port}`,
      FEDGATE_PUBLIC_BASE_URL: url,
      FEDGATE_DATA_DIR: data,
      FEDGATE_LOG_LEVEL: 'warn',
      // Provider calls never leave the machine, whatever a suite configures.
      FEDGATE_TESTING__OUTBOUND_LOOPBACK_ONLY: 'true',
      ...google,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const fedgate = { url, log: '' };
  proc.stdout.on('data', (d) => (fedgate.log += d));
  proc.stderr.on('data', (d) => (fedgate.log += d));
  cleanups.push(() => proc.kill('SIGTERM'));
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 100) throw new Error('Fedgate did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return fedgate;
}

// oidc-provider as Google: RS256, email claims in the ID token, one client whose
// redirect URI is Fedgate's Google Redirect URI.
export function startProvider(port, redirectUri, cleanups) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
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
  const server = provider.listen(port);
  cleanups.push(() => server.close());
  return issuer;
}

// oidc-provider as a company's own identity server at `issuer`: its own issuer, the
// standard OpenID Connect behaviour (profile and email claims from userinfo, not in
// the ID token; RFC 9207 `iss` on every response), one client.
export function startCompanyProvider(issuer, port, client, cleanups) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        redirect_uris: [client.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub, email: `${sub}@acme.example`, email_verified: true, name: `Acme ${sub}` }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['e2e-company-cookie-key'] },
  });
  const server = provider.listen(port);
  cleanups.push(() => server.close());
}

// "Our platform" of the seed's customer: a plain OAuth 2.0 server (no ID token, no
// discovery) with its own sign-in form and session cookie, numeric user ids and a
// JSON profile at /api/me. Someone signed in at the platform is not asked anything
// when an OAuth client sends them to /oauth/authorize.
export function startPlatform(port, client, cleanups) {
  const base = `http://localhost:${port}`;
  const members = new Map([['ann', { id: 1042, username: 'ann', profile: { displayName: 'Ann Platform', email: 'ann@platform.example' } }]]);
  const sessions = new Map();
  const codes = new Map();
  const tokens = new Map();
  const registered = { id: client.id, grants: ['authorization_code'], redirectUris: [client.redirectUri] };
  const oauth = new OAuth2Server({
    model: {
      async getClient(id, secret) {
        if (id !== client.id || (secret != null && secret !== client.secret)) return null;
        return registered;
      },
      async saveAuthorizationCode(code, c, user) {
        const saved = { ...code, client: c, user };
        codes.set(code.authorizationCode, saved);
        return saved;
      },
      async getAuthorizationCode(code) { return codes.get(code) ?? null; },
      async revokeAuthorizationCode(code) { return codes.delete(code.authorizationCode); },
      async saveToken(token, c, user) {
        const saved = { ...token, client: c, user };
        tokens.set(token.accessToken, saved);
        return saved;
      },
      async getAccessToken(token) { return tokens.get(token) ?? null; },
      async verifyScope() { return true; },
    },
  });
  const wrap = (req) => new OAuth2Server.Request({ method: req.method, query: { ...req.query }, headers: req.headers, body: req.body ?? {} });
  const send = (res, response) => res.set(response.headers).status(response.status).send(response.body);
  const memberOf = (req) => {
    const sid = /(?:^|; )platform_sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    return members.get(sessions.get(sid));
  };
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.get('/', (req, res) => {
    const m = memberOf(req);
    res.type('html').send(`<!doctype html><title>Our Platform</title><h1>Our Platform</h1><p>${m ? `Signed in as ${m.username}` : 'Not signed in'}</p>`);
  });
  app.get('/login', (req, res) => {
    const next = String(req.query.next ?? '/');
    res.type('html').send(`<!doctype html><title>Sign in · Our Platform</title><h1>Sign in to Our Platform</h1>
      <form method="post" action="/login"><input type="hidden" name="next" value="${next.replace(/"/g, '&quot;')}">
      <label>Username <input name="username"></label><label>Password <input name="password" type="password"></label>
      <button type="submit">Sign in</button></form>`);
  });
  app.post('/login', (req, res) => {
    if (!members.has(req.body.username) || req.body.password !== 'platform-pass') return res.status(401).send('wrong password');
    const sid = Math.random().toString(36).slice(2);
    sessions.set(sid, req.body.username);
    const next = String(req.body.next ?? '/');
    res.set('set-cookie', `platform_sid=${sid}; Path=/; HttpOnly; SameSite=Lax`).redirect(next.startsWith('/') ? next : '/');
  });
  app.get('/oauth/authorize', async (req, res) => {
    const member = memberOf(req);
    if (!member) return res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
    const response = new OAuth2Server.Response(res);
    try {
      await oauth.authorize(wrap(req), response, { authenticateHandler: { handle: () => member } });
    } catch (e) {
      if (!response.headers.location) return res.status(e.code ?? 500).send(e.message);
    }
    send(res, response);
  });
  app.post('/oauth/token', async (req, res) => {
    const response = new OAuth2Server.Response(res);
    try {
      await oauth.token(wrap(req), response);
    } catch {
      // The error is in the response.
    }
    send(res, response);
  });
  app.get('/api/me', async (req, res) => {
    const response = new OAuth2Server.Response(res);
    try {
      const token = await oauth.authenticate(wrap(req), response);
      res.json(token.user);
    } catch (e) {
      res.status(e.code ?? 401).json({ error: e.name, message: e.message });
    }
  });
  const server = app.listen(port, '127.0.0.1');
  cleanups.push(() => server.close());
  return { base, authorizationUrl: `${base}/oauth/authorize`, tokenUrl: `${base}/oauth/token`, profileUrl: `${base}/api/me` };
}

// The app: a page showing the query parameters it was sent back with.
export function startApp(port, cleanups) {
  const base = `http://127.0.0.1:${port}`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, base);
    const rows = [...url.searchParams].map(([k, v]) => `<dt>${k}</dt><dd data-name="${k}">${v.replace(/</g, '&lt;')}</dd>`).join('');
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Test app</title><h1>Signed in</h1><dl>${rows}</dl>`);
  });
  server.listen(port, '127.0.0.1');
  cleanups.push(() => server.close());
  return `${base}/auth/callback`;
}

export async function launchChromium(cleanups) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  cleanups.push(() => browser.close());
  return browser;
}

// A browser page for a panel suite: a failure leaves FAILED.png in `outDir`, page
// errors and Content-Security-Policy reports are collected (the panel's CSP must not
// block anything the panel itself does), `shoot` numbers screenshots, `nav` follows the
// application's navigation, `hydrated` waits until the wasm has taken over.
export async function panelPage(browser, outDir, cleanups, { viewport, clipboardOrigin } = {}) {
  const context = await browser.newContext({ viewport });
  if (clipboardOrigin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: clipboardOrigin });
  const page = await context.newPage();
  cleanups.push(async () => {
    if (process.exitCode) await page.screenshot({ path: join(outDir, 'FAILED.png'), fullPage: true });
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => /Content Security Policy/i.test(m.text()) && pageErrors.push(m.text()));
  let shots = 0;
  const shoot = async (name, p = page) => {
    await p.screenshot({ path: join(outDir, `${String(++shots).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  const nav = (name) => page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name, exact: true }).click();
  const hydrated = async (p = page) => {
    await p.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('.wasm') && r.responseEnd > 0));
    await p.waitForLoadState('networkidle');
  };
  return { context, page, pageErrors, shoot, nav, hydrated };
}

// A subscriber signs up in the panel and creates an application; its id.
export async function signUpWithApp(page, panel, hydrated, owner, appName) {
  await page.goto(`${panel}/signup`);
  await hydrated();
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${panel}`);
  await page.getByLabel('Name').fill(appName);
  await page.getByRole('button', { name: 'Create application' }).click();
  await page.waitForURL(/\/panel\/apps\/[^/]+$/);
  return page.url().split('/').pop();
}

// Opens New Property › Fedgate › OAuth Integration and names it; the dialog.
export async function newIntegration(page, name) {
  await page.getByRole('button', { name: 'New Property' }).click();
  await page.getByRole('button', { name: 'Fedgate ›', exact: true }).click();
  await page.getByRole('button', { name: 'OAuth Integration' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Instance name').fill(name);
  return dialog;
}

// The provider's two screens: sign in as `login`, then consent.
export async function signInAtProvider(page, login, shoot) {
  await page.waitForSelector('input[name=login]');
  if (shoot) await shoot('provider-login');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForSelector('button[type=submit]');
  if (shoot) await shoot('provider-consent');
  await page.click('button[type=submit]');
}

export async function runSuite(name, body) {
  const cleanups = [];
  const logs = [];
  try {
    await body(cleanups, logs);
    step(name, 'passed');
  } catch (e) {
    console.error(`${name}: FAILED: ${e.stack ?? e}`);
    for (const l of logs) console.error(`--- ${l.name} log ---\n${l.get()}`);
    process.exitCode = 1;
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {}
    }
  }
}
