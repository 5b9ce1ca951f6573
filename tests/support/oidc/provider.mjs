// The OpenID Connect provider the single sign-on tests sign in at: panva's oidc-provider with one
// client, accounts read from a JSON file at every use (so a test changes a user's groups or
// disables them between two sign-ins), and a plain sign-in form of its own in place of the
// development interactions. Consent is given at once: the client is the organisation's own.
//
// Environment: USM_OIDC_PORT, USM_OIDC_ACCOUNTS (the JSON file), USM_OIDC_CLIENT_ID,
// USM_OIDC_CLIENT_SECRET, USM_OIDC_REDIRECT_URI. Prints "listening <issuer>" when it is ready.
//
// Accounts file: {"alice": {"password": "...", "name": "Alice", "email": "...",
// "groups": ["usm-coordinators"], "disabled": false}, ...}

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.env.USM_OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

function accounts() {
  return JSON.parse(readFileSync(process.env.USM_OIDC_ACCOUNTS, 'utf8'));
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.USM_OIDC_CLIENT_ID,
    client_secret: process.env.USM_OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.USM_OIDC_REDIRECT_URI],
    // A loopback redirect URI of a "native" client matches on any port (RFC 8252, 7.3): each
    // test serves the app on a port of its own.
    application_type: 'native',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account || account.disabled) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: account.name ?? id,
          preferred_username: id,
          email: account.email ?? `${id}@example.org`,
          groups: account.groups ?? [],
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [signingKey] },
});

function signInPage(uid, message) {
  return `<!DOCTYPE html><html><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1>${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>User name <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form></body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function finish(ctx, result, merge) {
  ctx.status = 303;
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result,
    { mergeWithLastSubmission: merge }));
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== match[1]) {
    ctx.throw(400, 'interaction mismatch');
  }
  const { prompt, params, session } = details;
  if (prompt.name === 'consent') {
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    return finish(ctx, { consent: { grantId: await grant.save() } }, true);
  }
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = signInPage(details.uid);
    return undefined;
  }
  if (ctx.method !== 'POST' || !match[2]) {
    ctx.throw(405);
  }
  const form = await formBody(ctx.req);
  const username = form.get('username') ?? '';
  const account = accounts()[username];
  if (!account || account.password !== form.get('password')) {
    ctx.type = 'html';
    ctx.body = signInPage(details.uid, 'Unknown user name or wrong password.');
    return undefined;
  }
  if (account.disabled) {
    // As a provider does for an account it has disabled: the sign-in ends, refused.
    return finish(ctx, { error: 'access_denied', error_description: 'the account is disabled' },
      false);
  }
  return finish(ctx, { login: { accountId: username } }, false);
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
