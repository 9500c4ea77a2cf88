/**
 * WeChat limits `body` to 127 bytes of UTF-8, not 127 characters: a long Chinese product name
 * must be shortened so the real unifiedorder (here the sandbox, which counts the same way)
 * accepts it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utf8Length } from '../../src/wechatpay/index.js';
import { startSandboxServer } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('the order description WeChat shows the payer', (stores) => {
  test('a 60-character Chinese product name is fitted into 127 bytes between characters', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const name = '福建安溪铁观音'.repeat(9).slice(0, 60);
    await s.server.payments.catalogue.seed([{ id: 'prd_long', name, priceFen: 100 }]);
    const token = (await s.api('POST', '/api/v1/login', { body: { code: 'code:olongname' } })).json
      .token!;
    const res = await s.api('POST', '/api/v1/orders', {
      token,
      body: { items: [{ productId: 'prd_long', quantity: 1 }] },
      headers: { 'idempotency-key': 'order-description-1' },
    });
    assert.equal(res.status, 201, res.text);
    const order = res.json.order!;
    const body = s.sandbox.trade(order.outTradeNo)!.body;
    assert.equal(body, order.description);
    assert.ok(utf8Length(body) <= 127, `${utf8Length(body)} bytes`);
    assert.ok(body.startsWith('minipay - 福建安溪铁观音'));
    assert.ok(body.endsWith('…'));
  });
});
