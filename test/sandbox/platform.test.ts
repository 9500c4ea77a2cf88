import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MiniProgramApiError,
  type UploadShippingInfoRequest,
} from '../../src/miniprogram-api/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import {
  AES_KEY,
  PushReceiver,
  platformCall,
  platformClient,
  stableToken,
} from './platform-support.js';
import { api, paidTrade, prepay, sandboxFor } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';
const TOKEN_PATH = '/cgi-bin/stable_token';
const UPLOAD = '/wxa/sec/order/upload_shipping_info';

function virtualUpload(
  trade: { transactionId: string; openid: string },
  extra: Partial<UploadShippingInfoRequest> = {},
): UploadShippingInfoRequest {
  return {
    order: { transactionId: trade.transactionId },
    logisticsType: 'virtual',
    deliveryMode: 'unified',
    parcels: [{ itemDesc: '会员月卡*1' }],
    payerOpenid: trade.openid,
    uploadTime: new Date(),
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<MiniProgramApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MiniProgramApiError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

async function pushes(sandbox: Sandbox) {
  const r = await api<{ pushes: Record<string, unknown>[] }>(sandbox, 'GET', '/sandbox/v1/pushes');
  return r.body.pushes;
}

describe('sandbox platform: stable_token', () => {
  test('normal mode hands back the same token; WeChat refuses bad credentials', async (t) => {
    const sandbox = await sandboxFor(t);
    const a = await stableToken(sandbox);
    assert.equal(await stableToken(sandbox), a);
    const base = { grant_type: 'client_credential', appid: sandbox.credentials.appId };
    const cases: [Record<string, unknown>, number][] = [
      [{ ...base, secret: 'x'.repeat(32) }, 40125],
      [{ ...base, appid: 'wx0000000000000000', secret: sandbox.credentials.appSecret }, 40013],
      [{ ...base, grant_type: 'password', secret: sandbox.credentials.appSecret }, 40002],
      [{ grant_type: 'client_credential', secret: 's' }, 41002],
    ];
    for (const [body, errcode] of cases) {
      assert.equal((await platformCall(sandbox, TOKEN_PATH, body)).errcode, errcode);
    }
    const stats = await api(sandbox, 'GET', '/sandbox/v1/access-token');
    assert.equal(stats.body.issued, 1);
    assert.ok(!JSON.stringify(stats.body).includes(a), 'the stats never show a token');
  });

  test('the next token comes in the last 5 minutes; an expired one is 42001', async (t) => {
    const sandbox = await sandboxFor(t);
    const first = await stableToken(sandbox);
    sandbox.advanceClock(7200_000 - 300_000 + 1000);
    const second = await stableToken(sandbox);
    assert.notEqual(second, first);
    const list = '/cgi-bin/express/delivery/open_msg/get_delivery_list';
    assert.equal((await platformCall(sandbox, list, {}, first)).errcode, 0, 'both work meanwhile');
    sandbox.advanceClock(300_000);
    assert.equal((await platformCall(sandbox, list, {}, first)).errcode, 42001);
    assert.equal((await platformCall(sandbox, list, {}, second)).errcode, 0);
    assert.equal((await platformCall(sandbox, list, {})).errcode, 41001);
    assert.equal((await platformCall(sandbox, list, {}, 'not-a-token')).errcode, 40001);
  });

  test('force_refresh revokes; within 30 s it changes nothing; 20 a day, then 45009', async (t) => {
    const sandbox = await sandboxFor(t);
    const old = await stableToken(sandbox);
    const forced = await stableToken(sandbox, true);
    assert.notEqual(forced, old);
    const list = '/cgi-bin/express/delivery/open_msg/get_delivery_list';
    assert.equal((await platformCall(sandbox, list, {}, old)).errcode, 40001);
    assert.equal(await stableToken(sandbox, true), forced, 'within 30 s: the same token');
    for (let i = 2; i <= 20; i++) {
      sandbox.advanceClock(30_000);
      await stableToken(sandbox, true);
    }
    sandbox.advanceClock(30_000);
    const refused = await platformCall(sandbox, TOKEN_PATH, {
      grant_type: 'client_credential',
      appid: sandbox.credentials.appId,
      secret: sandbox.credentials.appSecret,
      force_refresh: true,
    });
    assert.equal(refused.errcode, 45009);
  });

  test('revoking every token (another system forced a refresh): the client recovers once', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    assert.equal(await client.isTradeManaged(), true);
    const revoked = await api(sandbox, 'POST', '/sandbox/v1/access-token/revoke', {});
    assert.equal(revoked.body.revoked, 1);
    assert.equal(await client.isTradeManaged(), true, 'withToken refreshed and retried');
    const stats = await api(sandbox, 'GET', '/sandbox/v1/access-token');
    assert.equal(stats.body.issued, 2);
  });
});

describe('sandbox platform: shipping', () => {
  test('a virtual order: uploaded, shipped in get_order, the shipped push verified (safe, JSON)', async (t) => {
    const sandbox = await sandboxFor(t);
    const receiver = await PushReceiver.start(t, {
      appId: sandbox.credentials.appId,
      encodingAesKey: AES_KEY,
    });
    await receiver.register(sandbox);
    const { client } = platformClient(sandbox);
    const trade = await paidTrade(sandbox, NOTIFY);
    assert.equal(
      (await client.getOrder({ transactionId: trade.transactionId })).stateName,
      'to_be_shipped',
    );
    assert.deepEqual(await client.uploadShippingInfo(virtualUpload(trade)), { unchanged: false });
    const order = await client.getOrder({
      mchId: sandbox.credentials.mchId,
      outTradeNo: trade.outTradeNo,
    });
    assert.equal(order.stateName, 'shipped');
    assert.equal(order.shipping?.finishShipping, true);
    assert.equal(order.shipping?.logisticsType, 3);
    assert.equal(order.openid, trade.openid);
    const [push] = await pushes(sandbox);
    assert.equal(push?.status, 'delivered');
    assert.equal(receiver.pushes.length, 1);
    const event = receiver.pushes[0]!;
    assert.equal(event.encrypted, true);
    assert.equal(event.event.type, 'trade_manage_order_settlement');
    assert.ok(
      event.event.type === 'trade_manage_order_settlement' && event.event.stage === 'shipped',
    );
    assert.equal((event.event as { merchantTradeNo: string }).merchantTradeNo, trade.outTradeNo);
  });

  test('an express order in two parcels, confirmed by the user: the settlement push (XML)', async (t) => {
    const sandbox = await sandboxFor(t);
    const receiver = await PushReceiver.start(t, {
      appId: sandbox.credentials.appId,
      encodingAesKey: AES_KEY,
      format: 'xml',
    });
    await receiver.register(sandbox);
    const { client } = platformClient(sandbox);
    const trade = await paidTrade(sandbox, NOTIFY);
    const parcel = (n: string) => ({
      trackingNo: `YT${n}`,
      expressCompany: 'YTO',
      itemDesc: '抱枕*1',
    });
    const early = await api(sandbox, 'POST', '/sandbox/v1/confirm-receipt', {
      outTradeNo: trade.outTradeNo,
    });
    assert.equal(early.status, 409);
    assert.equal((early.body.error as { code: string }).code, 'NOT_SHIPPED');
    await client.uploadShippingInfo({
      ...virtualUpload(trade),
      logisticsType: 'express',
      deliveryMode: 'split',
      isAllDelivered: false,
      parcels: [parcel('1')],
    });
    assert.equal((await client.getOrder({ transactionId: trade.transactionId })).state, 1);
    await client.uploadShippingInfo({
      ...virtualUpload(trade),
      logisticsType: 'express',
      deliveryMode: 'split',
      isAllDelivered: true,
      parcels: [parcel('2')],
    });
    const shipped = await client.getOrder({ transactionId: trade.transactionId });
    assert.equal(shipped.stateName, 'shipped');
    assert.deepEqual(
      shipped.shipping?.parcels.map((p) => p.trackingNo),
      ['YT1', 'YT2'],
    );
    const confirmed = await api<{ order: { order_state: number } }>(
      sandbox,
      'POST',
      '/sandbox/v1/confirm-receipt',
      {
        transactionId: trade.transactionId,
      },
    );
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.order.order_state, 4);
    assert.equal(
      (await client.getOrder({ transactionId: trade.transactionId })).stateName,
      'completed',
    );
    await pushes(sandbox);
    assert.deepEqual(receiver.refused, []);
    const settled = receiver.pushes.at(-1)!.event;
    assert.ok(settled.type === 'trade_manage_order_settlement');
    assert.equal(settled.stage, 'settled');
    assert.equal(settled.confirmReceiveMethod, 2, 'documented: 2 = by the user');
    const again = await api(sandbox, 'POST', '/sandbox/v1/confirm-receipt', {
      outTradeNo: trade.outTradeNo,
    });
    assert.equal(again.status, 409);
    const upload = await rejection(
      client.uploadShippingInfo(virtualUpload(trade, { uploadTime: new Date(Date.now() + 5000) })),
    );
    assert.equal(upload.errcode, 10060004, 'a settled order cannot be shipped');
  });

  test('WeChat refuses: unpaid, unknown, wrong payer, a second correction, parcels after completion', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const unpaid = await prepay(sandbox, NOTIFY);
    const e1 = await rejection(
      client.uploadShippingInfo({
        ...virtualUpload({ transactionId: 'x', openid: unpaid.openid }),
        order: { mchId: sandbox.credentials.mchId, outTradeNo: unpaid.outTradeNo },
      }),
    );
    assert.equal(e1.errcode, 10060001);
    const e2 = await rejection(client.getOrder({ transactionId: '4200000000202401010000000000' }));
    assert.equal(e2.errcode, 10060001);
    const trade = await paidTrade(sandbox, NOTIFY);
    const e3 = await rejection(
      client.uploadShippingInfo({ ...virtualUpload(trade), payerOpenid: 'oSomeoneElse' }),
    );
    assert.equal(e3.errcode, 10060031);
    const t0 = Date.now();
    await client.uploadShippingInfo(virtualUpload(trade, { uploadTime: new Date(t0) }));
    assert.deepEqual(
      await client.uploadShippingInfo(virtualUpload(trade, { uploadTime: new Date(t0 + 1000) })),
      { unchanged: true },
    );
    const corrected = virtualUpload(trade, {
      uploadTime: new Date(t0 + 2000),
      parcels: [{ itemDesc: '会员年卡*1' }],
    });
    await client.uploadShippingInfo(corrected);
    const order = await client.getOrder({ transactionId: trade.transactionId });
    assert.equal(order.shipping?.finishShippingCount, 2);
    const e4 = await rejection(
      client.uploadShippingInfo({
        ...corrected,
        uploadTime: new Date(t0 + 3000),
        parcels: [{ itemDesc: '其他*1' }],
      }),
    );
    assert.equal(e4.errcode, 10060003);
    const e5 = await rejection(
      client.uploadShippingInfo({
        ...corrected,
        logisticsType: 'express',
        deliveryMode: 'split',
        isAllDelivered: false,
        parcels: [{ trackingNo: 'SF1', expressCompany: 'YTO', itemDesc: 'x' }],
        uploadTime: new Date(t0 + 4000),
      }),
    );
    assert.equal(e5.errcode, 10060002);
  });

  test('the sandbox applies the protocol rules to what it receives', async (t) => {
    const sandbox = await sandboxFor(t);
    const token = await stableToken(sandbox);
    const trade = await paidTrade(sandbox, NOTIFY);
    const body = {
      order_key: { order_number_type: 2, transaction_id: trade.transactionId },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [{ item_desc: 'x', express_company: 'SF' }],
      upload_time: '2024-01-01T00:00:00+08:00',
      payer: { openid: trade.openid },
    };
    assert.equal((await platformCall(sandbox, UPLOAD, body, token)).errcode, 268485226);
    assert.equal((await platformCall(sandbox, UPLOAD, '{not json', token)).errcode, 47001);
    assert.equal((await platformCall(sandbox, UPLOAD, [], token)).errcode, 47001);
    const get = await fetch(`${sandbox.url}${UPLOAD}?access_token=${token}`);
    assert.equal(((await get.json()) as { errcode: number }).errcode, 43002);
    const big = await platformCall(sandbox, UPLOAD, { pad: 'x'.repeat(70_000) }, token);
    assert.equal(big.errcode, 47001);
  });

  test('notify_confirm_receive: express and shipped only, once, after the shipping time', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const virtual = await paidTrade(sandbox, NOTIFY);
    await client.uploadShippingInfo(virtualUpload(virtual));
    const key = { transactionId: virtual.transactionId };
    const later = new Date(Date.now() + 60_000);
    assert.equal((await rejection(client.notifyConfirmReceive(key, later))).errcode, 10060032);
    const express = await paidTrade(sandbox, NOTIFY);
    const ekey = { transactionId: express.transactionId };
    assert.equal((await rejection(client.notifyConfirmReceive(ekey, later))).errcode, 10060028);
    await client.uploadShippingInfo({
      ...virtualUpload(express),
      logisticsType: 'express',
      parcels: [{ trackingNo: 'ZT1', expressCompany: 'ZTO', itemDesc: '书*1' }],
    });
    const before = new Date(Date.now() - 3600_000);
    assert.equal((await rejection(client.notifyConfirmReceive(ekey, before))).errcode, 10060029);
    await client.notifyConfirmReceive(ekey, later);
    assert.equal((await rejection(client.notifyConfirmReceive(ekey, later))).errcode, 10060030);
  });

  test('get_delivery_list and is_trade_managed (switchable)', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const couriers = await client.getDeliveryList();
    assert.ok(couriers.some((c) => c.id === 'SF' && c.name === '顺丰速运'));
    await api(sandbox, 'POST', '/sandbox/v1/trade-management', { managed: false });
    assert.equal(await client.isTradeManaged(), false);
  });

  test('faults: an armed errcode (45011), system busy (-1)', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const trade = await paidTrade(sandbox, NOTIFY);
    await sandbox.setFaults({ platformErrcodes: { [UPLOAD]: { '45011': 1 } } });
    const limited = await rejection(client.uploadShippingInfo(virtualUpload(trade)));
    assert.equal(limited.errcode, 45011);
    assert.equal(limited.retryable, true);
    assert.equal(
      (await client.getOrder({ transactionId: trade.transactionId })).state,
      1,
      'not acted on',
    );
    await client.uploadShippingInfo(virtualUpload(trade));
    await sandbox.setFaults({ systemErrorRate: { '/wxa/sec/order/get_order': 1 } });
    const busy = await rejection(client.getOrder({ transactionId: trade.transactionId }));
    assert.equal(busy.errcode, -1);
    await assert.rejects(
      sandbox.setFaults({ platformErrcodes: { '/nope': { '1': 1 } } } as never),
      /unknown path/,
    );
  });
});

describe('sandbox platform: pushes', () => {
  test('the URL check must echo echostr; a wrong answer is refused', async (t) => {
    const sandbox = await sandboxFor(t);
    const receiver = await PushReceiver.start(t, { appId: sandbox.credentials.appId });
    const wrongToken = await api(sandbox, 'POST', '/sandbox/v1/push-config', {
      url: receiver.url,
      token: 'anotherToken',
      format: 'json',
    });
    assert.equal(wrongToken.status, 422);
    assert.equal((wrongToken.body.error as { code: string }).code, 'PUSH_URL_CHECK_FAILED');
    await receiver.register(sandbox);
    const config = await api(sandbox, 'GET', '/sandbox/v1/push-config');
    assert.deepEqual(config.body.pushConfig, {
      url: receiver.url,
      format: 'json',
      encrypted: false,
    });
  });

  test('reminders: remind_access_api and remind_shipping reach the merchant (plain)', async (t) => {
    const sandbox = await sandboxFor(t);
    const receiver = await PushReceiver.start(t, { appId: sandbox.credentials.appId });
    await receiver.register(sandbox);
    const trade = await paidTrade(sandbox, NOTIFY);
    for (const body of [
      { event: 'trade_manage_remind_access_api' },
      { event: 'trade_manage_remind_shipping', outTradeNo: trade.outTradeNo },
    ]) {
      assert.equal((await api(sandbox, 'POST', '/sandbox/v1/pushes', body)).status, 202);
    }
    await pushes(sandbox);
    assert.deepEqual(
      receiver.pushes.map((p) => p.event.type),
      ['trade_manage_remind_access_api', 'trade_manage_remind_shipping'],
    );
    const missing = await api(sandbox, 'POST', '/sandbox/v1/pushes', {
      event: 'trade_manage_remind_shipping',
    });
    assert.equal(missing.status, 400);
  });

  test('a merchant that does not answer success gets the push 4 times, then it is failed', async (t) => {
    const sandbox = await sandboxFor(t);
    const receiver = await PushReceiver.start(t, { appId: sandbox.credentials.appId });
    await receiver.register(sandbox);
    receiver.config.token = 'changedToken'; // the merchant now refuses every push
    await api(sandbox, 'POST', '/sandbox/v1/pushes', { event: 'trade_manage_remind_access_api' });
    const [push] = await pushes(sandbox);
    assert.equal(push?.status, 'failed');
    assert.equal(push?.attempts, 4);
    assert.equal(receiver.refused.length, 4);
  });
});

describe('sandbox platform: subscribe messages and phone numbers', () => {
  const data = {
    character_string1: { value: 'T20240101' },
    amount2: { value: '1.00元' },
    thing3: { value: '会员月卡' },
    time4: { value: '2024-01-01 12:00' },
  };

  test('43101 without a subscription; one message per acceptance; 40037, 47003', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const openid = sandbox.loginCode().openid;
    const message = { toOpenid: openid, templateId: 'sandbox-payment-success', data };
    const send = (m: object) => client.sendSubscribeMessage(m as never);
    assert.equal((await send(message)).sent, false);
    const sub = await api(sandbox, 'POST', '/sandbox/v1/subscriptions', {
      openid,
      templateIds: ['sandbox-payment-success'],
    });
    assert.deepEqual(sub.body.subscriptions, { 'sandbox-payment-success': 1 });
    assert.deepEqual(await send(message), { sent: true });
    const spent = await send(message);
    assert.ok(!spent.sent && spent.refusal === 'user-refused', JSON.stringify(spent));
    const unknown = await send({ ...message, templateId: 'no-such-template' });
    assert.ok(!unknown.sent && unknown.errcode === 40037, JSON.stringify(unknown));
    const extra = await send({ ...message, data: { ...data, thing9: { value: 'x' } } });
    assert.ok(!extra.sent && extra.errcode === 47003, JSON.stringify(extra));
    const log = await api<{ messages: { errcode: number }[] }>(
      sandbox,
      'GET',
      `/sandbox/v1/subscribe-messages?openid=${openid}`,
    );
    assert.deepEqual(
      log.body.messages.map((m) => m.errcode),
      [43101, 0, 43101],
    );
  });

  test('a phone code gives the number once, to its user', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const issued = await api<{ code: string }>(sandbox, 'POST', '/sandbox/v1/phone-code', {
      openid: 'oPhoneUser',
      phoneNumber: '13912345678',
    });
    assert.equal(
      (await rejection(client.getUserPhoneNumber(issued.body.code, 'oOther'))).errcode,
      40003,
    );
    const info = await client.getUserPhoneNumber(issued.body.code, 'oPhoneUser');
    assert.equal(info.purePhoneNumber, '13912345678');
    assert.equal((await rejection(client.getUserPhoneNumber(issued.body.code))).errcode, 40029);
    const late = await api<{ code: string }>(sandbox, 'POST', '/sandbox/v1/phone-code', {
      openid: 'oPhoneUser',
    });
    sandbox.advanceClock(5 * 60_000);
    assert.equal((await rejection(client.getUserPhoneNumber(late.body.code))).errcode, 40029);
  });
});
