import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runInNewContext } from 'node:vm';

const root = join(import.meta.dirname, '..', '..');

/** Builds the mini program's copy of the library into a temp dir and returns its code. */
function buildBundle(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-mp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'minipay.js');
  const r = spawnSync(
    process.execPath,
    [join(root, 'scripts', 'build-miniprogram.mjs'), '--out', out],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(out, 'utf8');
}

describe('the mini program copy of the client library', () => {
  test('bundles without Node and runs with only wx (the products over wx.request)', async (t) => {
    const code = buildBundle(t);
    assert.doesNotMatch(code, /require\(/, 'a mini program bundle needs no other module');
    // The client takes the API's shapes from src/contract as types, and only its status lists
    // (statuses.ts, no imports) as code: no schema library in the mini program.
    assert.doesNotMatch(code, /typebox|~kind|\$ref/i, 'TypeBox came into the bundle');
    assert.match(code, /PARTIALLY_REFUNDED/, 'the status lists are in it');
    const requests: { url: string; header: Record<string, string> }[] = [];
    type Cb = { success: (res: unknown) => void; url: string; header: Record<string, string> };
    const wx = {
      login: (o: Cb) => o.success({ code: 'c1', errMsg: 'login:ok' }),
      request: (o: Cb) => {
        requests.push({ url: o.url, header: o.header });
        o.success({ statusCode: 200, data: { products: [{ id: 'prd_tea' }] }, header: {} });
      },
      requestPayment: () => undefined,
      getStorageSync: () => '',
      setStorageSync: () => undefined,
      removeStorageSync: () => undefined,
    };
    // A mini program module: module/exports and timers, no Node globals, no require.
    const sandbox = { module: { exports: {} as Record<string, unknown> }, setTimeout, wx };
    runInNewContext(`(function (module, exports) {${code}\n})(module, module.exports);`, sandbox);
    const lib = sandbox.module.exports as {
      createMinipayClient: (o: unknown) => { listProducts(): Promise<{ id: string }[]> };
      fromWx: (wx: unknown) => unknown;
    };
    const client = lib.createMinipayClient({
      baseUrl: 'https://shop.example',
      platform: lib.fromWx(wx),
    });
    const products = await client.listProducts();
    assert.equal(products[0]?.id, 'prd_tea');
    assert.deepEqual(
      requests.map((r) => r.url),
      ['https://shop.example/api/v1/products'],
    );
  });

  test('every page in app.json has its .ts, .wxml, .wxss and .json', () => {
    const app = JSON.parse(readFileSync(join(root, 'miniprogram', 'app.json'), 'utf8')) as {
      pages: string[];
    };
    assert.deepEqual(app.pages, [
      'pages/catalogue/index',
      'pages/confirm/index',
      'pages/result/index',
      'pages/orders/index',
      'pages/profile/index',
    ]);
    for (const page of app.pages) {
      for (const ext of ['ts', 'wxml', 'wxss', 'json']) {
        const file = join(root, 'miniprogram', `${page}.${ext}`);
        assert.ok(existsSync(file), `${page}.${ext} is missing`);
      }
    }
  });
});
