/**
 * Every paged list takes only the cursors it issued: a `nextCursor` pages its own list, and is
 * a 400 on any other list (mini program orders, refunds, webhook deliveries, admin orders,
 * events); a forged or old-style cursor is a 400 with the same message. SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSandboxServer } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

const REFUSED = 'cursor is not one this list issued; start again without it';

interface Row {
  id: string;
  createdAt: string;
}

const forge = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');

describeOnStores('list cursors', (stores) => {
  test('a cursor pages only the list that issued it; forged ones are refused', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      config: {
        webhookUrls: ['http://127.0.0.1:9/minipay/webhook'],
        webhookSecrets: ['whsec-test-0123456789abcdef'],
      },
    });
    const login = await s.api('POST', '/api/v1/login', { body: { code: 'code:cursor-user' } });
    const token = login.json.token!;
    for (const key of ['cursor-1', 'cursor-2']) {
      const created = await s.api('POST', '/api/v1/orders', {
        token,
        body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
        headers: { 'idempotency-key': key },
      });
      assert.equal(created.status, 201, created.text);
    }
    const paid = await s.paidOrder(2);
    for (const key of ['cursor-refund-1', 'cursor-refund-2']) {
      const r = await s.admin('POST', `/admin/v1/orders/${paid.id}/refunds`, {
        body: { amountFen: 100 },
        headers: { 'idempotency-key': key },
      });
      assert.equal(r.status, 201, r.text);
    }
    await s.server.payments.outbox.relay();

    const lists = {
      'user orders': { path: '/api/v1/orders', rows: 'orders', token },
      refunds: { path: '/admin/v1/refunds', rows: 'refunds' },
      deliveries: { path: '/admin/v1/webhooks/deliveries', rows: 'deliveries' },
      'admin orders': { path: '/admin/v1/orders', rows: 'orders' },
      events: { path: '/admin/v1/events', rows: 'events' },
    } as const;
    type Name = keyof typeof lists;
    const get = (name: Name, query: string) => {
      const list = lists[name];
      const path = `${list.path}?limit=1${query}`;
      return 'token' in list ? s.api('GET', path, { token: list.token }) : s.admin('GET', path);
    };
    const rowsOf = (name: Name, json: unknown) =>
      (json as Record<string, Row[]>)[lists[name].rows] ?? [];

    const firstRow = {} as Record<Name, Row>;
    const cursors = {} as Record<Name, string>;
    for (const name of Object.keys(lists) as Name[]) {
      const first = await get(name, '');
      assert.equal(first.status, 200, `${name}: ${first.text}`);
      const [row] = rowsOf(name, first.json);
      const next = (first.json as { nextCursor?: string | null }).nextCursor;
      assert.ok(row && typeof next === 'string', `${name} has a second page`);
      firstRow[name] = row;
      cursors[name] = next;
      const second = await get(name, `&cursor=${encodeURIComponent(next)}`);
      assert.equal(second.status, 200, `${name} own cursor: ${second.text}`);
      const [after] = rowsOf(name, second.json);
      assert.ok(after && after.id !== row.id, `${name}: the second page moves on`);
    }

    const refused = async (name: Name, cursor: string, why: string) => {
      const res = await get(name, `&cursor=${encodeURIComponent(cursor)}`);
      assert.equal(res.status, 400, `${name} ← ${why}: ${res.text}`);
      assert.equal(res.json.error?.code, 'VALIDATION_FAILED', `${name} ← ${why}`);
      assert.equal(res.json.error?.message, REFUSED, `${name} ← ${why}`);
    };
    for (const from of Object.keys(lists) as Name[]) {
      for (const to of Object.keys(lists) as Name[]) {
        if (from !== to) await refused(to, cursors[from], `a cursor of ${from}`);
      }
    }

    const moved: [Name, string][] = [
      ['user orders', 'user-orders'],
      ['refunds', 'refunds'],
      ['deliveries', 'webhook-deliveries'],
    ];
    for (const [name, list] of moved) {
      const { createdAt, id } = firstRow[name];
      // The genuine shape is accepted, so the refusals below are about what was changed.
      assert.equal((await get(name, `&cursor=${forge([list, createdAt, id])}`)).status, 200);
      const forged: [string, string][] = [
        [Buffer.from(`${createdAt}|${id}`).toString('base64url'), 'the old created_at|id form'],
        [forge([list, createdAt, "x' OR 1=1"]), 'an id that is not one'],
        [forge([list, 'yesterday', id]), 'a time that is not one'],
        [forge([list, createdAt, id, 'extra']), 'an extra part'],
        [forge({ list, createdAt, id }), 'an object'],
        ['nope', 'garbage'],
        ['', 'an empty cursor'],
      ];
      for (const [cursor, why] of forged) await refused(name, cursor, why);
    }
  });
});
