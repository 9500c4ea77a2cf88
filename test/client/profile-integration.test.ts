/**
 * The user side of the client library against the real server and sandbox, on SQLite and
 * PostgreSQL: the profile (POST, since wx.request has no PATCH), the phone number by a
 * getPhoneNumber code, and subscribing at checkout with wx.requestSubscribeMessage, after which
 * the payment's subscribe message reaches the user.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fromWx } from '../../src/client/adapters.js';
import { createMinipayClient } from '../../src/client/client.js';
import { MinipayError } from '../../src/client/errors.js';
import { createSandboxWx } from '../../src/client/sandbox-wx.js';
import { eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('client: profile, phone number, subscribe at checkout', (stores) => {
  test('profile, masked phone, subscribe → the payment message arrives', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const wx = createSandboxWx({
      sandboxUrl: demo.sandbox.url,
      appId: demo.sandbox.credentials.appId,
    });
    const client = createMinipayClient({
      baseUrl: demo.url,
      platform: fromWx(wx),
      confirm: { attempts: 30, intervalMs: 100 },
    });
    const me = await client.me();
    assert.equal(me.nickname, null);
    const updated = await client.updateProfile({
      nickname: '阿花',
      avatarUrl: 'http://127.0.0.1/a.png',
    });
    assert.equal(updated.nickname, '阿花');
    const code = await fetch(`${demo.sandbox.url}/sandbox/v1/phone-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid: wx.openid, phoneNumber: '13700001111' }),
    });
    const withPhone = await client.sharePhoneNumber(((await code.json()) as { code: string }).code);
    assert.equal(withPhone.phone, '137****1111');

    assert.deepEqual(await client.subscribeToUpdates(), [
      'sandbox-payment-success',
      'sandbox-refund-success',
    ]);
    const { order, payment } = await client.checkout([{ productId: 'prd_sample', quantity: 1 }]);
    assert.equal((await client.pay({ order, payment })).status, 'paid');
    await eventually(async () => {
      const res = await fetch(
        `${demo.sandbox.url}/sandbox/v1/subscribe-messages?openid=${wx.openid}`,
      );
      const { messages } = (await res.json()) as { messages: { errcode: number }[] };
      return messages.length === 1 && messages[0]?.errcode === 0;
    });
  });

  test('uploadAvatar: the chosen avatar through wx.uploadFile, served at an absolute URL', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const fixtures = new URL('../fixtures/avatars/', import.meta.url);
    // chooseAvatar's temporary paths, as the phone would have them.
    const files: Record<string, string> = {
      'http://tmp/avatar.jpg': 'avatar.jpg',
    };
    const wx = createSandboxWx({
      sandboxUrl: demo.sandbox.url,
      appId: demo.sandbox.credentials.appId,
      readFile: async (path) =>
        path.endsWith('.svg')
          ? new TextEncoder().encode('<svg onload="alert(1)"/>')
          : readFile(new URL(files[path]!, fixtures)),
    });
    const client = createMinipayClient({ baseUrl: `${demo.url}/api/v1`, platform: fromWx(wx) });
    const me = await client.uploadAvatar('http://tmp/avatar.jpg');
    assert.match(me.avatarUrl ?? '', new RegExp(`^${demo.url}/api/v1/avatars/avt_`));
    const served = await fetch(me.avatarUrl!);
    assert.equal(served.headers.get('content-type'), 'image/jpeg');
    assert.equal((await client.me()).avatarUrl, me.avatarUrl, 'me() gives the absolute URL too');
    await assert.rejects(
      client.uploadAvatar('http://tmp/evil.svg'),
      (err) => err instanceof MinipayError && err.code === 'INVALID_AVATAR' && err.status === 415,
    );
    await assert.rejects(
      client.uploadAvatar('http://tmp/missing.png'),
      (err) => err instanceof MinipayError && err.code === 'NETWORK_ERROR',
    );
    assert.equal((await client.me()).avatarUrl, me.avatarUrl, 'unchanged');
  });
});
