/**
 * Every admin route refuses a request without the admin token, whatever the spelling of its
 * path. The servers are launched as `minipay start` launches them (demo, and live with and
 * without MINIPAY_ADMIN_TOKEN, web pages included); an `onRoute` hook lists every route they
 * register and counts every call of an /admin handler, so a route added later is covered
 * without touching this test, and a spelling that slipped past the check would show.
 *
 * Requests go over a raw socket (node:http keeps the path byte for byte; fetch and inject
 * resolve dot segments before sending).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../../src/app/config.js';
import { type Launched, launch } from '../../src/app/launch.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/index.js';
import { webPages } from '../../src/server/web-pages.js';

const ADMIN = '/admin/v1';
const TOKEN = 'admin-routes-test-token-0123';

interface Listed {
  method: string;
  url: string;
}

interface Started {
  launched: Launched;
  routes: Listed[];
  /** Calls of any handler of a route under /admin, by "METHOD url". */
  reached: Map<string, number>;
}

const dir = mkdtempSync(join(tmpdir(), 'minipay-admin-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;

async function start(env: Record<string, string>): Promise<Started> {
  const routes: Listed[] = [];
  const reached = new Map<string, number>();
  const onRoute = (route: RouteOptions) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    if (!route.url.toLowerCase().startsWith('/admin')) return;
    const handler = route.handler;
    route.handler = function counted(this: unknown, request, reply) {
      const name = `${request.method} ${route.url}`;
      reached.set(name, (reached.get(name) ?? 0) + 1);
      return handler.call(this as never, request, reply);
    };
  };
  const config = loadConfig(
    {
      MINIPAY_DATABASE_URL: `sqlite:${join(dir, `db${++databases}.sqlite`)}`,
      MINIPAY_PORT: '0',
      // Over a thousand requests without the right token from one address: far past the
      // limit on those (test/server/rate-limits.test.ts tests it), which would answer 429.
      MINIPAY_RATE_LIMIT_ADMIN_FAILURES: '0',
      ...env,
    },
    {},
  );
  const launched = await launch(config, {
    logger: pino({ level: 'silent' }),
    plugins: [webPages()],
    jobs: false,
    sandbox: { stateFile: null },
    onRoute,
  });
  return { launched, routes, reached };
}

/** A request with the path sent exactly as given. */
function send(
  base: string,
  method: string,
  path: string,
  token?: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const req = http.request({ host: hostname, port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `/orders/:id/refunds` → `/orders/x1/refunds`. */
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'x1');

/** `%61` or `%4D`: the letter percent-encoded, hex digits in either case. */
const encodeChar = (c: string, upper: boolean) => {
  const hex = c.charCodeAt(0).toString(16);
  return `%${upper ? hex.toUpperCase() : hex}`;
};

/** Spellings the router resolves to the same route: each must meet the token check. */
function encodedSpellings(path: string): string[] {
  const out: string[] = [];
  // Each letter of the path once, alternating lower and upper hex digits.
  let n = 0;
  for (let i = 0; i < path.length; i++) {
    if (!/[A-Za-z0-9]/.test(path[i]!)) continue;
    out.push(path.slice(0, i) + encodeChar(path[i]!, n++ % 2 === 1) + path.slice(i + 1));
  }
  // Every letter at once.
  out.push(path.replace(/[A-Za-z0-9]/g, (c) => encodeChar(c, false)));
  return out;
}

/** Spellings the router does not resolve to the route: they must reach no handler at all. */
function otherSpellings(path: string): string[] {
  const rest = path.slice(ADMIN.length); // `/orders/x1`
  return [
    path.toUpperCase(),
    `/Admin/v1${rest}`,
    `/admin/V1${rest}`,
    `/${path}`,
    `/admin//v1${rest}`,
    `${ADMIN}/${rest}`,
    `${ADMIN}/../v1${rest}`,
    `/x/..${path}`,
    `/admin/./v1${rest}`,
    `/%2e%2e${path}`,
    `${ADMIN}/%2E${rest}`,
    `/admin%2fv1${rest}`,
    `${path}/`,
    `${path};x`,
    `${path}%00`,
  ];
}

/** Refused by the admin check: 401 without a token, 403 with a wrong one; JSON error body. */
function assertRefused(
  res: { status: number; body: string },
  token: string | undefined,
  what: string,
) {
  const expected = token === undefined ? 401 : 403;
  assert.equal(res.status, expected, `${what}: ${res.status} ${res.body}`);
  if (what.startsWith('HEAD ')) return; // no body
  const code = (JSON.parse(res.body) as { error: { code: string } }).error.code;
  assert.equal(code, expected === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', what);
}

/** The console's static pages are the only public routes whose path begins with /admin. */
const consolePage = (r: Listed) =>
  (r.method === 'GET' || r.method === 'HEAD') &&
  (r.url === '/admin' || /^\/admin\/([A-Za-z0-9._-]+\.(html|js|css|svg|png|ico))?$/.test(r.url));

async function assertEveryAdminRouteRefused(s: Started, wrongToken: string) {
  const base = s.launched.server.url;
  const admin = s.routes.filter((r) => r.url.toLowerCase().startsWith('/admin'));
  const api = admin.filter((r) => r.url.startsWith(`${ADMIN}/`));
  // Nothing else under /admin: an API route registered outside the admin plugin would show
  // here, or fail the refusals below.
  assert.deepEqual(
    admin.filter((r) => !api.includes(r) && !consolePage(r)),
    [],
    'routes under /admin outside /admin/v1 that are not console pages',
  );
  assert.ok(api.length >= 20, `expected every admin route, listed ${api.length}`);
  let tried = 0;
  for (const route of api) {
    const path = concrete(route.url);
    for (const spelling of [path, ...encodedSpellings(path)]) {
      for (const token of [undefined, wrongToken]) {
        assertRefused(
          await send(base, route.method, spelling, token),
          token,
          `${route.method} ${spelling}`,
        );
        tried++;
      }
    }
    for (const spelling of otherSpellings(path)) {
      const res = await send(base, route.method, spelling);
      // 404 (no route has that spelling) or, when a spelling still lands on an admin route
      // (`/orders/:id` takes an id of `..`), the token check's 401.
      assert.ok([401, 404].includes(res.status), `${route.method} ${spelling}: ${res.status}`);
      if (route.method !== 'HEAD') {
        assert.match(res.body, /"code":"(UNAUTHORIZED|NOT_FOUND)"/, `${spelling}: ${res.body}`);
      }
      tried++;
    }
  }
  assert.deepEqual([...s.reached], [], 'an /admin handler ran for a request without the token');
  return tried;
}

describe('admin API: one token check for every route and every spelling', () => {
  test('demo mode (generated token)', async (t) => {
    const s = await start({});
    t.after(() => s.launched.close());
    const tried = await assertEveryAdminRouteRefused(s, `${s.launched.adminToken}x`);
    t.diagnostic(`${tried} requests`);
    // The issue's exploit, both spellings.
    const base = s.launched.server.url;
    const before = await send(base, 'GET', `${ADMIN}/products`, s.launched.adminToken);
    assert.equal(before.status, 200);
    assertRefused(await send(base, 'GET', '/%61dmin/v1/products'), undefined, 'issue 13');
    assertRefused(await send(base, 'GET', '/admin/%761/session'), undefined, 'issue 13');
    // An unknown path under the prefix is refused like a known one.
    assertRefused(await send(base, 'GET', `${ADMIN}/no-such-route`), undefined, 'unknown');
    const unknown = await send(base, 'GET', `${ADMIN}/no-such-route`, s.launched.adminToken);
    assert.equal(unknown.status, 404);
    // The counter does see handlers: the right token, plain or percent-encoded, reaches one.
    const encoded = await send(base, 'GET', '/%61dmin/v1/session', s.launched.adminToken);
    assert.equal(encoded.status, 200, encoded.body);
    assert.equal(s.reached.get('GET /admin/v1/session'), 1);
    assert.equal(s.reached.get('GET /admin/v1/products'), 1);
  });

  test('live mode with MINIPAY_ADMIN_TOKEN', async (t) => {
    const s = await start({ ...liveEnv(), MINIPAY_ADMIN_TOKEN: TOKEN });
    t.after(() => s.launched.close());
    t.diagnostic(`${await assertEveryAdminRouteRefused(s, `${TOKEN}x`)} requests`);
    const ok = await send(s.launched.server.url, 'GET', `${ADMIN}/session`, TOKEN);
    assert.equal(ok.status, 200);
  });

  test('live mode without MINIPAY_ADMIN_TOKEN: every token is refused', async (t) => {
    const s = await start(liveEnv());
    t.after(() => s.launched.close());
    t.diagnostic(`${await assertEveryAdminRouteRefused(s, TOKEN)} requests`);
    assert.equal(s.launched.adminToken, undefined);
  });
});

/** Live-mode credentials; WeChat is never called (nothing gets past the token check). */
function liveEnv(): Record<string, string> {
  return {
    MINIPAY_APPID: DEMO_CREDENTIALS.appId,
    MINIPAY_APPSECRET: DEMO_CREDENTIALS.appSecret,
    MINIPAY_MCHID: DEMO_CREDENTIALS.mchId,
    MINIPAY_MCH_KEY: DEMO_CREDENTIALS.mchKey,
    MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
    MINIPAY_WECHATPAY_BASE_URL: 'http://127.0.0.1:9',
    MINIPAY_WECHAT_API_BASE_URL: 'http://127.0.0.1:9',
  };
}
