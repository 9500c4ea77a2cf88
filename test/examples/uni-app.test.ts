/**
 * The uni-app (Vue 3) example: `uni build` for mp-weixin and H5 with its own toolchain, on
 * minipay's client library as it is in src/client (so a broken library breaks these), then the
 * H5 build's pay flows in Chromium (test/support/example-apps.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { appPages, build, describeH5Flows, type ExampleApp } from '../support/example-apps.js';

const uni: ExampleApp = {
  name: 'uni-app',
  builds: {
    'mp-weixin': { bin: 'uni', args: ['build', '-p', 'mp-weixin'], out: 'dist/build/mp-weixin' },
    h5: { bin: 'uni', args: ['build'], out: 'dist/build/h5' },
  },
  h5: 'h5',
  modalConfirm: '.uni-modal__btn_primary',
  // uni-app's H5 runtime preloads a navigation-bar shadow image from DCloud's CDN.
  outsideHosts: ['cdn.dcloud.net.cn'],
};

describe('uni-app example (examples/uni-app)', () => {
  let h5 = '';

  test('uni build -p mp-weixin: a mini program with both pages and the client library', () => {
    const out = build(uni, 'mp-weixin');
    assert.deepEqual(appPages(out), ['pages/shop/index', 'pages/order/index']);
    for (const page of ['pages/shop/index', 'pages/order/index']) {
      for (const ext of ['js', 'json', 'wxml']) {
        assert.ok(existsSync(join(out, `${page}.${ext}`)), `${page}.${ext}`);
      }
    }
    const vendor = readFileSync(join(out, 'common', 'vendor.js'), 'utf8');
    assert.match(vendor, /Idempotency-Key/, 'the client library is in the bundle');
    const minipay = readFileSync(join(out, 'minipay.js'), 'utf8');
    assert.match(minipay, /Sandbox payment/, 'the demo payment sheet (a modal) is in the bundle');
    assert.doesNotMatch(minipay, /minipay-cashier/, 'the H5-only cashier frame is compiled out');
  });

  test('uni build (H5): a web app with the cashier as its payment sheet', () => {
    h5 = build(uni, 'h5');
    assert.ok(existsSync(join(h5, 'index.html')));
  });

  describeH5Flows(uni, () => h5);
});
