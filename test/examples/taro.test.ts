/**
 * The Taro (React) example: `taro build` for weapp and H5 with its own toolchain, on minipay's
 * client library as it is in src/client (so a broken library breaks these), then the H5
 * build's pay flows in Chromium (test/support/example-apps.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { appPages, build, describeH5Flows, type ExampleApp } from '../support/example-apps.js';

const taro: ExampleApp = {
  name: 'taro',
  builds: {
    weapp: { bin: 'taro', args: ['build', '--type', 'weapp'], out: 'dist/weapp' },
    h5: { bin: 'taro', args: ['build', '--type', 'h5'], out: 'dist/h5' },
  },
  h5: 'h5',
  modalConfirm: '.taro-model__confirm',
};

describe('Taro example (examples/taro)', () => {
  let h5 = '';

  test('taro build --type weapp: a mini program with both pages and the client library', () => {
    const out = build(taro, 'weapp');
    assert.deepEqual(appPages(out), ['pages/shop/index', 'pages/order/index']);
    for (const page of ['pages/shop/index', 'pages/order/index']) {
      for (const ext of ['js', 'json', 'wxml']) {
        assert.ok(existsSync(join(out, `${page}.${ext}`)), `${page}.${ext}`);
      }
    }
    const code = ['common.js', 'vendors.js', 'app.js']
      .filter((file) => existsSync(join(out, file)))
      .map((file) => readFileSync(join(out, file), 'utf8'))
      .join('\n');
    assert.match(code, /Idempotency-Key/, 'the client library is in the bundle');
    assert.match(code, /Sandbox payment/, 'the demo payment sheet (a modal) is in the bundle');
  });

  test('taro build --type h5: a web app with the cashier as its payment sheet', () => {
    h5 = build(taro, 'h5');
    assert.ok(existsSync(join(h5, 'index.html')));
  });

  describeH5Flows(taro, () => h5);
});
