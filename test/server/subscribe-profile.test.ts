/**
 * Subscribe messages and the user's profile over loopback (the real server, the sandbox playing
 * WeChat), on SQLite and PostgreSQL: a subscribed user gets the payment and refund messages, an
 * unsubscribed one is recorded as refused (43101) and the payment is untouched; `/api/v1/me`
 * takes a checked nickname and avatar and refuses hostile ones writing nothing; the phone
 * number comes only with a getPhoneNumber code of this user, and is only ever shown masked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkout, type Demo, eventually, startDemo, status } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

async function sandboxPost(demo: Demo, path: string, body: unknown) {
  const res = await fetch(`${demo.sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function sent(demo: Demo, openid: string) {
  const res = await fetch(`${demo.sandbox.url}/sandbox/v1/subscribe-messages?openid=${openid}`);
  return (
    (await res.json()) as {
      messages: {
        templateId: string;
        errcode: number;
        body: { data: Record<string, { value: string }> };
      }[];
    }
  ).messages;
}

async function recorded(demo: Demo, orderId: string) {
  return demo.launched.server.store.db
    .selectFrom('subscribe_messages')
    .select(['kind', 'outcome', 'code'])
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .execute();
}

describeOnStores('subscribe messages and /api/v1/me', (stores) => {
  test('payment and refund messages to a subscribed user; 43101 recorded, never blocking', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const templates = await demo.api('GET', '/api/v1/subscribe-templates', {
      token: (await demo.login()).token,
    });
    assert.deepEqual(templates.json as unknown, {
      paid: 'sandbox-payment-success',
      refunded: 'sandbox-refund-success',
    });

    const { token, openid } = await demo.login();
    await sandboxPost(demo, '/sandbox/v1/subscriptions', {
      openid,
      templateIds: ['sandbox-payment-success', 'sandbox-refund-success'],
    });
    const { order, payment } = await checkout(demo, token, 'prd_tea_cup', 1);
    demo.sandbox.pay({ openid, ...payment });
    await eventually(async () =>
      (await recorded(demo, order.id)).some((m) => m.outcome === 'sent'),
    );
    const [message] = await sent(demo, openid);
    assert.equal(message?.templateId, 'sandbox-payment-success');
    assert.equal(message?.body.data.character_string1?.value, order.outTradeNo);
    assert.equal(message?.body.data.amount2?.value, '66.00元');
    assert.match(message?.body.data.time4?.value ?? '', /^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);

    const refund = await demo.api('POST', `/admin/v1/orders/${order.id}/refunds`, {
      token: demo.launched.adminToken!,
      body: { amountFen: 600 },
      headers: { 'idempotency-key': `subscribe-refund-${order.id}` },
    });
    assert.equal(refund.status, 201, refund.text);
    await eventually(async () => (await recorded(demo, order.id)).length === 2);
    await eventually(async () => (await recorded(demo, order.id))[1]?.outcome === 'sent');
    const refundMessage = (await sent(demo, openid))[1];
    assert.equal(refundMessage?.body.data.amount2?.value, '6.00元');

    const stranger = await demo.login();
    const second = await checkout(demo, stranger.token, 'prd_sample', 1);
    demo.sandbox.pay({ openid: stranger.openid, ...second.payment });
    await eventually(async () => (await recorded(demo, second.order.id)).length === 1);
    await eventually(async () => (await recorded(demo, second.order.id))[0]?.outcome !== 'pending');
    assert.deepEqual(await recorded(demo, second.order.id), [
      { kind: 'paid', outcome: 'refused', code: '43101' },
    ]);
    assert.equal(
      await status(demo, stranger.token, second.order.id),
      'PAID',
      'the payment is untouched',
    );
  });

  test('GET/PATCH /api/v1/me: checked, hostile input refused and nothing written', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const { token } = await demo.login();
    const me = await demo.api('GET', '/api/v1/me', { token });
    assert.equal(me.status, 200);
    assert.deepEqual(
      { ...(me.json as unknown as { user: Record<string, unknown> }).user, id: 'x' },
      {
        id: 'x',
        nickname: null,
        avatarUrl: null,
        phone: null,
        phoneGrantedAt: null,
      },
    );
    const ok = await demo.api('PATCH', '/api/v1/me', {
      token,
      body: { nickname: '  小明 👨‍👩‍👧  ', avatarUrl: 'https://cdn.example.com/a.png' },
    });
    assert.equal(ok.status, 200, ok.text);
    const user = (ok.json as unknown as { user: { nickname: string; avatarUrl: string } }).user;
    assert.equal(user.nickname, '小明 👨‍👩‍👧');
    assert.equal(user.avatarUrl, 'https://cdn.example.com/a.png');
    const hostile: [unknown, number, string][] = [
      [{}, 400, 'EMPTY_UPDATE'],
      [{ nickname: 'a\u0000b' }, 400, 'INVALID_NICKNAME'],
      [{ nickname: 'evil\u202egnp.exe' }, 400, 'INVALID_NICKNAME'],
      [{ nickname: 'x'.repeat(33) }, 400, 'INVALID_NICKNAME'],
      [{ nickname: '   ' }, 400, 'INVALID_NICKNAME'],
      [{ nickname: 12 }, 400, 'VALIDATION_FAILED'],
      [{ avatarUrl: 'wxfile://tmp_abc.png' }, 400, 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'javascript:alert(1)' }, 400, 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'https://user:pw@example.com/a.png' }, 400, 'INVALID_AVATAR_URL'],
      [{ admin: true }, 400, 'VALIDATION_FAILED'],
      [[], 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, code, error] of hostile) {
      const res = await demo.api('PATCH', '/api/v1/me', { token, body });
      assert.equal(res.status, code, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.error?.code, error, JSON.stringify(body));
    }
    const big = await demo.api('PATCH', '/api/v1/me', {
      token,
      raw: JSON.stringify({ nickname: 'x'.repeat(2_000_000) }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    const after = await demo.api('GET', '/api/v1/me', { token });
    assert.deepEqual(
      (after.json as unknown as { user: unknown }).user,
      (ok.json as unknown as { user: unknown }).user,
      'unchanged',
    );
    assert.equal((await demo.api('GET', '/api/v1/me')).status, 401);
  });

  test('the phone number: only with this user’s code, once; masked; taken back', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const { token, openid } = await demo.login();
    const other = await demo.login();
    const { code } = (await sandboxPost(demo, '/sandbox/v1/phone-code', {
      openid,
      phoneNumber: '13912345678',
    })) as { code: string };
    const { code: othersCode } = (await sandboxPost(demo, '/sandbox/v1/phone-code', {
      openid: other.openid,
    })) as { code: string };
    const wrong = await demo.api('POST', '/api/v1/me/phone', { token, body: { code: othersCode } });
    assert.equal(wrong.status, 422, wrong.text);
    assert.equal(wrong.json.error?.code, 'PHONE_CODE_REFUSED');
    const shared = await demo.api('POST', '/api/v1/me/phone', { token, body: { code } });
    assert.equal(shared.status, 200, shared.text);
    assert.equal((shared.json as unknown as { user: { phone: string } }).user.phone, '139****5678');
    assert.ok(!shared.text.includes('13912345678'), 'never the number itself');
    const again = await demo.api('POST', '/api/v1/me/phone', { token, body: { code } });
    assert.equal(again.status, 422);
    for (const body of [{}, { code: '' }, { code: 'x'.repeat(200) }, { code: 'a b<' }]) {
      const res = await demo.api('POST', '/api/v1/me/phone', { token, body });
      assert.ok([400, 422].includes(res.status), `${JSON.stringify(body)}: ${res.text}`);
    }
    const row = await demo.launched.server.store.db
      .selectFrom('user_profiles')
      .select(['phone', 'phone_country_code'])
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { phone: '13912345678', phone_country_code: '86' });
    const { order } = await checkout(demo, token, 'prd_sample', 1);
    const detail = await demo.api('GET', `/admin/v1/orders/${order.id}`, {
      token: demo.launched.adminToken!,
    });
    assert.deepEqual((detail.json as unknown as { buyer: unknown }).buyer, {
      nickname: null,
      phone: '139****5678',
    });
    assert.ok(!detail.text.includes('13912345678'), 'the console gets the number masked');
    const forgot = await demo.api('DELETE', '/api/v1/me/phone', { token });
    assert.equal((forgot.json as unknown as { user: { phone: null } }).user.phone, null);
  });
});
