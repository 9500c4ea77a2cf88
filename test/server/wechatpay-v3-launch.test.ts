/**
 * minipay started as `minipay start` starts it, on APIv3: demo mode with
 * MINIPAY_WECHATPAY_API=v3, and a live configuration against a sandbox in platform certificate
 * mode, two instances sharing one database (and so the certificates one of them downloaded),
 * with a platform certificate rotation in the middle of their traffic. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/app/config.js';
import { type Launched, launch } from '../../src/app/launch.js';
import type { PaymentParams } from '../../src/payments/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { checkout, eventually, startDemo, status } from '../support/demo.js';
import { DEMO_PRODUCTS } from '../support/payments.js';
import { client } from '../support/server.js';
import { describeOnStores } from '../support/stores.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A live instance of the sandbox's merchant on APIv3 (platform certificates: no public key). */
async function liveInstance(
  t: { after(fn: () => Promise<void>): unknown },
  sandbox: Sandbox,
  databaseUrl: string,
  dir: string,
  env: Record<string, string> = {},
): Promise<Launched> {
  const demo = sandbox.demoMerchant!;
  const keyFile = join(dir, 'apiclient_key.pem');
  writeFileSync(keyFile, demo.privateKeyPem);
  const port = await freePort();
  const c = sandbox.credentials;
  const config = loadConfig(
    {
      MINIPAY_APPID: c.appId,
      MINIPAY_APPSECRET: c.appSecret,
      MINIPAY_MCHID: c.mchId,
      MINIPAY_WECHATPAY_API: 'v3',
      MINIPAY_MCH_PRIVATE_KEY_FILE: keyFile,
      MINIPAY_MCH_CERT_SERIAL: demo.serialNo,
      MINIPAY_API_V3_KEY: c.apiV3Key,
      MINIPAY_NOTIFY_BASE_URL: `http://127.0.0.1:${port}`,
      MINIPAY_WECHATPAY_BASE_URL: sandbox.url,
      MINIPAY_WECHAT_API_BASE_URL: sandbox.url,
      ...env,
    },
    { host: '127.0.0.1', port, databaseUrl },
  );
  const launched = await launch(config, { logger: pino({ level: 'silent' }), jobs: false });
  t.after(() => launched.close());
  await launched.server.payments.catalogue.seed(DEMO_PRODUCTS);
  return launched;
}

async function pendingOrder(sandbox: Sandbox, server: Launched) {
  const api = client(server.server.url);
  const code = sandbox.loginCode();
  const login = await api('POST', '/api/v1/login', { body: { code: code.code } });
  const token = login.json.token!;
  const products = await api('GET', '/api/v1/products', { token });
  const productId = products.json.products![0]!.id;
  const res = await api('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId, quantity: 1 }] },
    headers: { 'idempotency-key': `v3-launch-${Math.random()}` },
  });
  assert.equal(res.status, 201, res.text);
  return {
    order: res.json.order!,
    payment: res.json.payment as PaymentParams,
    openid: code.openid,
    token,
    api,
  };
}

async function orderStatus(server: Launched, id: string): Promise<string> {
  const row = await server.server.store.db
    .selectFrom('orders')
    .select('status')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.status;
}

async function downloads(server: Launched): Promise<string[]> {
  const rows = await server.server.store.db
    .selectFrom('wechatpay_certificates')
    .select(['serial_no', 'downloaded_at'])
    .orderBy('serial_no')
    .execute();
  return rows.map((r) => `${r.serial_no}@${r.downloaded_at}`);
}

describeOnStores('minipay on APIv3, as started', (stores) => {
  test('demo mode with MINIPAY_WECHATPAY_API=v3: RSA parameters, v3 notification, PAID', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), {
      env: { MINIPAY_WECHATPAY_API: 'v3' },
    });
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    assert.equal(payment.signType, 'RSA');
    demo.sandbox.pay({ openid, ...payment });
    await eventually(async () => (await status(demo, token, order.id)) === 'PAID');
    const log = demo.sandbox.notifications().filter((n) => n.outTradeNo === order.outTradeNo);
    assert.equal(log[0]?.format, 'v3');
  });

  test('certificate mode: two instances share the downloaded certificates; a rotation mid-traffic refuses nothing WeChat signed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-v3-live-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sandbox = await startSandbox({
      timeScale: 1000,
      v3: { platformMode: 'certificate' },
    });
    t.after(() => sandbox.close());
    const databaseUrl = await stores.freshUrl();
    const a = await liveInstance(t, sandbox, databaseUrl, dir);
    const b = await liveInstance(t, sandbox, databaseUrl, dir);
    const [first] = sandbox.v3Platform().certificates;

    // A downloads the certificates to verify its first answer; B uses what A stored.
    const one = await pendingOrder(sandbox, a);
    const stored = await downloads(a);
    assert.equal(stored.length, 1);
    assert.ok(stored[0]!.startsWith(`${first!.serialNo}@`));
    const two = await pendingOrder(sandbox, b);
    assert.deepEqual(await downloads(b), stored, 'B did not download again');
    assert.equal(
      b.server.metrics.value('minipay_wechatpay_certificate_refreshes_total', {
        reason: 'initial',
        outcome: 'ok',
      }),
      0,
    );
    sandbox.pay({ ...one.payment, openid: one.openid });
    sandbox.pay({ ...two.payment, openid: two.openid });
    await eventually(async () => (await orderStatus(a, one.order.id)) === 'PAID');
    await eventually(async () => (await orderStatus(b, two.order.id)) === 'PAID');

    // WeChat rotates: from now on it signs with a new certificate, the old one still listed.
    const rotated = await sandbox.rotateV3();
    const second = rotated.certificates[1]!.serialNo;
    const three = await pendingOrder(sandbox, b);
    const afterB = await downloads(b);
    assert.equal(afterB.length, 2, 'B met the new serial and downloaded both certificates');
    const four = await pendingOrder(sandbox, a);
    assert.deepEqual(await downloads(a), afterB, 'A used the list B had just stored');
    sandbox.pay({ ...three.payment, openid: three.openid });
    sandbox.pay({ ...four.payment, openid: four.openid });
    await eventually(async () => (await orderStatus(b, three.order.id)) === 'PAID');
    await eventually(async () => (await orderStatus(a, four.order.id)) === 'PAID');
    const delivered = (id: string) =>
      sandbox.notifications().find((n) => n.outTradeNo === id)?.status === 'delivered';
    await eventually(async () => delivered(three.order.outTradeNo));
    await eventually(async () => delivered(four.order.outTradeNo));
    const firstTry = sandbox.notifications().every((n) => n.attempts[0]?.outcome === 'success');
    assert.ok(firstTry, 'every notification was accepted at its first attempt');
    const verified = (l: Launched) =>
      l.server.metrics.value('minipay_wechatpay_verifications_total', { mode: 'certificate' });
    assert.ok(verified(a) > 0 && verified(b) > 0);
    assert.ok(second !== first!.serialNo);
  });

  test('a rotation while both instances take orders concurrently: every answer and notification verifies', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-v3-live-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sandbox = await startSandbox({ timeScale: 1000, v3: { platformMode: 'certificate' } });
    t.after(() => sandbox.close());
    const databaseUrl = await stores.freshUrl();
    const instances = [
      await liveInstance(t, sandbox, databaseUrl, dir),
      await liveInstance(t, sandbox, databaseUrl, dir),
    ];
    const made: Awaited<ReturnType<typeof pendingOrder>>[] = [];
    let rotation: Promise<unknown> | undefined;
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = 0; i < 4; i++) {
          made.push(await pendingOrder(sandbox, instances[lane % 2]!));
          if (made.length === 5) rotation = sandbox.rotateV3();
        }
      }),
    );
    await rotation;
    assert.equal(made.length, 16);
    for (const m of made) sandbox.pay({ ...m.payment, openid: m.openid });
    await eventually(async () => {
      const statuses = await Promise.all(made.map((m) => orderStatus(instances[0]!, m.order.id)));
      return statuses.every((s) => s === 'PAID');
    });
    await eventually(async () => sandbox.notifications().every((n) => n.status === 'delivered'));
    const firstTry = sandbox.notifications().every((n) => n.attempts[0]?.outcome === 'success');
    assert.ok(firstTry, 'every notification was accepted at its first attempt');
    const stored = await downloads(instances[0]!);
    assert.equal(stored.length, 2, 'the old and the new certificate');
  });

  test('public_key mode: the public key replaced while both instances take orders; with the next key configured nothing is refused', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-v3-live-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sandbox = await startSandbox({ timeScale: 1000, v3: { platformMode: 'public_key' } });
    t.after(() => sandbox.close());
    const platform = sandbox.v3Platform();
    writeFileSync(join(dir, 'pub.pem'), platform.publicKeyPem);
    writeFileSync(join(dir, 'next.pem'), platform.nextPublicKey.publicKeyPem);
    const env = {
      MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: join(dir, 'pub.pem'),
      MINIPAY_WECHATPAY_PUBLIC_KEY_ID: platform.publicKeyId,
      MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE: join(dir, 'next.pem'),
      MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_ID: platform.nextPublicKey.publicKeyId,
    };
    const databaseUrl = await stores.freshUrl();
    const instances = [
      await liveInstance(t, sandbox, databaseUrl, dir, env),
      await liveInstance(t, sandbox, databaseUrl, dir, env),
    ];
    const made: Awaited<ReturnType<typeof pendingOrder>>[] = [];
    let rotation: Promise<unknown> | undefined;
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = 0; i < 4; i++) {
          made.push(await pendingOrder(sandbox, instances[lane % 2]!));
          if (made.length === 5) rotation = sandbox.rotateV3();
        }
      }),
    );
    await rotation;
    assert.equal(sandbox.v3Platform().publicKeyId, platform.nextPublicKey.publicKeyId);
    // Paid after the rotation: every notification is signed with the new key.
    for (const m of made) sandbox.pay({ ...m.payment, openid: m.openid });
    await eventually(async () => {
      const statuses = await Promise.all(made.map((m) => orderStatus(instances[0]!, m.order.id)));
      return statuses.every((s) => s === 'PAID');
    });
    await eventually(async () => sandbox.notifications().every((n) => n.status === 'delivered'));
    const firstTry = sandbox.notifications().every((n) => n.attempts[0]?.outcome === 'success');
    assert.ok(firstTry, 'every notification was accepted at its first attempt');
    const unverified = instances.map((s) => s.server.metrics.render()).join('\n');
    assert.doesNotMatch(unverified, /minipay_wechatpay_unverified_total/);
  });
});
