import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import {
  MemoryTokenStore,
  MiniProgramApiError,
  MiniProgramClient,
  TokenManager,
  type UploadShippingInfoRequest,
} from '../../src/miniprogram-api/index.js';
import { FAKE_APP, type FakeAnswer, FakeWechat } from './fake-wechat.js';

const PATHS = {
  upload: '/wxa/sec/order/upload_shipping_info',
  deliveryList: '/cgi-bin/express/delivery/open_msg/get_delivery_list',
  isTradeManaged: '/wxa/sec/order/is_trade_managed',
  getOrder: '/wxa/sec/order/get_order',
  notify: '/wxa/sec/order/notify_confirm_receive',
  subscribe: '/cgi-bin/message/subscribe/send',
  phone: '/wxa/business/getuserphonenumber',
};

async function setup(t: TestContext, baseUrl?: string) {
  const fake = await FakeWechat.start(t);
  const url = baseUrl ?? fake.url;
  const tokens = new TokenManager({
    ...FAKE_APP,
    baseUrl: fake.url,
    store: new MemoryTokenStore(),
  });
  const client = new MiniProgramClient({
    appId: FAKE_APP.appId,
    baseUrl: url,
    timeoutMs: 1500,
    tokens,
  });
  return { fake, client };
}

function answer(fake: FakeWechat, path: string, a: FakeAnswer | ((n: number) => FakeAnswer)): void {
  let n = 0;
  fake.routes.set(path, () => (typeof a === 'function' ? a(n++) : a));
}

async function rejectsWith(
  p: Promise<unknown>,
  kind: string,
  code: string,
): Promise<MiniProgramApiError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MiniProgramApiError, String(err));
  assert.deepEqual([err.kind, err.code], [kind, code], err.message);
  assert.ok(!err.message.includes('FAKE_TOKEN'), `the token leaked: ${err.message}`);
  return err;
}

const OUT_TRADE_NO = 'MP20240601120000ABCDEFGHIJKLMNOP';
const SHIPMENT: UploadShippingInfoRequest = {
  order: { mchId: '1900000109', outTradeNo: OUT_TRADE_NO },
  logisticsType: 'express',
  deliveryMode: 'unified',
  parcels: [
    {
      trackingNo: 'SF1234567890',
      expressCompany: 'SF',
      itemDesc: '抱枕*1',
      contact: { receiverContact: '138****5678' },
    },
  ],
  payerOpenid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  uploadTime: new Date('2024-06-01T04:00:00Z'),
};

describe('shipping info calls', () => {
  test('upload_shipping_info sends the wire body with the access_token', async (t) => {
    const { fake, client } = await setup(t);
    assert.deepEqual(await client.uploadShippingInfo(SHIPMENT), { unchanged: false });
    const [sent] = fake.to(PATHS.upload);
    assert.equal(sent?.accessToken, 'FAKE_TOKEN_1');
    assert.deepEqual(sent?.body, {
      order_key: {
        order_number_type: 1,
        mchid: '1900000109',
        out_trade_no: OUT_TRADE_NO,
      },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [
        {
          tracking_no: 'SF1234567890',
          express_company: 'SF',
          item_desc: '抱枕*1',
          contact: { receiver_contact: '138****5678' },
        },
      ],
      upload_time: '2024-06-01T12:00:00.000+08:00',
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    });
  });

  test('the same info again (10060023) is a success: unchanged', async (t) => {
    const { fake, client } = await setup(t);
    answer(fake, PATHS.upload, { body: { errcode: 10060023, errmsg: '发货信息未更新' } });
    assert.deepEqual(await client.uploadShippingInfo(SHIPMENT), { unchanged: true });
  });

  test('a request WeChat would refuse is refused without a call', async (t) => {
    const { fake, client } = await setup(t);
    const noContact = {
      ...SHIPMENT,
      parcels: [{ trackingNo: 'SF1', expressCompany: 'SF', itemDesc: 'x' }],
    };
    const err = await rejectsWith(
      client.uploadShippingInfo(noContact),
      'rejected',
      'INVALID_REQUEST',
    );
    assert.match(err.message, /contact is required for SF/);
    assert.equal(fake.to(PATHS.upload).length, 0);
  });

  test("WeChat's errcodes become kinds and advice", async (t) => {
    const { fake, client } = await setup(t);
    const cases: [number, string][] = [
      [10060001, 'rejected'],
      [10060002, 'rejected'],
      [10060003, 'rejected'],
      [10060004, 'rejected'],
      [10060031, 'rejected'],
      [-1, 'retryable'],
      [10060012, 'retryable'],
      [10060019, 'retryable'],
      [40164, 'config'],
      [48001, 'config'],
      [45011, 'retryable'],
      [99999, 'rejected'],
    ];
    for (const [errcode, kind] of cases) {
      answer(fake, PATHS.upload, { body: { errcode, errmsg: `msg ${errcode} rid: 1` } });
      const err = await rejectsWith(client.uploadShippingInfo(SHIPMENT), kind, String(errcode));
      assert.equal(err.errcode, errcode);
      assert.equal(err.errmsg, `msg ${errcode} rid: 1`);
    }
    answer(fake, PATHS.upload, {
      body: { errcode: 45009, errmsg: 'reach max api daily quota limit' },
    });
    const quota = await rejectsWith(client.uploadShippingInfo(SHIPMENT), 'retryable', '45009');
    assert.ok(quota.retryAfterMs! > 0 && quota.retryAfterMs! <= 86_400_000);
  });

  test('get_delivery_list: about 1,400 couriers fit; a broken entry does not', async (t) => {
    const { fake, client } = await setup(t);
    const list = Array.from({ length: 1400 }, (_, i) => ({
      delivery_id: `C${i}`,
      delivery_name: `快递公司${i}`,
    }));
    answer(fake, PATHS.deliveryList, {
      body: { errcode: 0, delivery_list: list, count: list.length },
    });
    const couriers = await client.getDeliveryList();
    assert.equal(couriers.length, 1400);
    assert.deepEqual(couriers[1], { id: 'C1', name: '快递公司1' });
    answer(fake, PATHS.deliveryList, { body: { errcode: 0, delivery_list: [{ delivery_id: 7 }] } });
    await rejectsWith(client.getDeliveryList(), 'invalid', 'MALFORMED_RESPONSE');
    answer(fake, PATHS.deliveryList, { body: { errcode: 0 } });
    await rejectsWith(client.getDeliveryList(), 'invalid', 'MALFORMED_RESPONSE');
  });

  test('is_trade_managed sends the AppID and reads a boolean', async (t) => {
    const { fake, client } = await setup(t);
    answer(fake, PATHS.isTradeManaged, { body: { errcode: 0, is_trade_managed: true } });
    assert.equal(await client.isTradeManaged(), true);
    assert.deepEqual(fake.to(PATHS.isTradeManaged)[0]?.body, { appid: FAKE_APP.appId });
    answer(fake, PATHS.isTradeManaged, { body: { errcode: 0, is_trade_managed: 'yes' } });
    await rejectsWith(client.isTradeManaged(), 'invalid', 'MALFORMED_RESPONSE');
  });

  test('get_order: by merchant_id + merchant_trade_no, states named, times as dates', async (t) => {
    const { fake, client } = await setup(t);
    answer(fake, PATHS.getOrder, {
      body: {
        errcode: 0,
        errmsg: 'ok',
        order: {
          transaction_id: '4200001234202406011234567890',
          merchant_id: '1900000109',
          merchant_trade_no: 'MP1',
          description: '抱枕*1',
          paid_amount: 1999,
          openid: 'o1',
          trade_create_time: 1_717_214_400,
          pay_time: 1_717_214_460,
          order_state: 2,
          in_complaint: false,
          shipping: {
            delivery_mode: 1,
            logistics_type: 1,
            finish_shipping: true,
            goods_desc: '抱枕*1',
            finish_shipping_count: 1,
            shipping_list: [
              {
                tracking_no: 'SF1',
                express_company: 'SF',
                goods_desc: '抱枕*1',
                upload_time: 1_717_300_000,
                contact: { receiver_contact: '138****5678' },
              },
            ],
          },
        },
      },
    });
    const order = await client.getOrder({ mchId: '1900000109', outTradeNo: 'MP1' });
    assert.deepEqual(fake.to(PATHS.getOrder)[0]?.body, {
      merchant_id: '1900000109',
      merchant_trade_no: 'MP1',
    });
    assert.equal(order.state, 2);
    assert.equal(order.stateName, 'shipped');
    assert.equal(order.paidAmount, 1999);
    assert.deepEqual(order.payTime, new Date(1_717_214_460_000));
    assert.equal(order.shipping?.finishShipping, true);
    assert.deepEqual(order.shipping?.parcels[0], {
      trackingNo: 'SF1',
      expressCompany: 'SF',
      goodsDesc: '抱枕*1',
      uploadTime: new Date(1_717_300_000_000),
      consignorContact: undefined,
      receiverContact: '138****5678',
    });
    await client.getOrder({ transactionId: '4200001234202406011234567890' });
    assert.deepEqual(fake.to(PATHS.getOrder)[1]?.body, {
      transaction_id: '4200001234202406011234567890',
    });
    answer(fake, PATHS.getOrder, { body: { errcode: 0, order: { order_state: 'shipped' } } });
    await rejectsWith(client.getOrder({ transactionId: '1' }), 'invalid', 'MALFORMED_RESPONSE');
  });

  test('notify_confirm_receive sends the signing time in seconds', async (t) => {
    const { fake, client } = await setup(t);
    await client.notifyConfirmReceive({ transactionId: '42001' }, new Date(1_717_300_000_999));
    assert.deepEqual(fake.to(PATHS.notify)[0]?.body, {
      transaction_id: '42001',
      received_time: 1_717_300_000,
    });
    answer(fake, PATHS.notify, { body: { errcode: 10060030, errmsg: '支付单已使用提醒收货机会' } });
    await rejectsWith(
      client.notifyConfirmReceive({ transactionId: '42001' }, new Date()),
      'rejected',
      '10060030',
    );
  });
});

describe('subscribe messages and phone numbers', () => {
  const message = {
    toOpenid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    templateId: 'TEMPLATE_1',
    page: 'pages/order/order?id=1',
    data: { thing1: { value: '抱枕' }, amount2: { value: '19.99元' } },
  };

  test('sent; refusals are results with their errcode; failures throw', async (t) => {
    const { fake, client } = await setup(t);
    assert.deepEqual(await client.sendSubscribeMessage(message), { sent: true });
    assert.deepEqual(fake.to(PATHS.subscribe)[0]?.body, {
      touser: message.toOpenid,
      template_id: 'TEMPLATE_1',
      page: 'pages/order/order?id=1',
      data: message.data,
    });
    for (const [errcode, refusal] of [
      [43101, 'user-refused'],
      [47003, 'bad-data'],
      [40037, 'bad-template'],
      [40003, 'bad-openid'],
      [41030, 'bad-page'],
    ] as const) {
      answer(fake, PATHS.subscribe, { body: { errcode, errmsg: 'refused' } });
      const result = await client.sendSubscribeMessage(message);
      assert.equal(result.sent, false);
      if (!result.sent) assert.deepEqual([result.refusal, result.errcode], [refusal, errcode]);
    }
    answer(fake, PATHS.subscribe, { body: { errcode: -1, errmsg: 'system error' } });
    await rejectsWith(client.sendSubscribeMessage(message), 'retryable', '-1');
    answer(fake, PATHS.subscribe, { body: { errcode: 43108, errmsg: 'concurrent' } });
    await rejectsWith(client.sendSubscribeMessage(message), 'retryable', '43108');
  });

  test('data WeChat would refuse is a refusal without a call', async (t) => {
    const { fake, client } = await setup(t);
    const result = await client.sendSubscribeMessage({
      ...message,
      data: { phrase1: { value: '已经支付成功' } },
    });
    assert.equal(result.sent, false);
    if (!result.sent) {
      assert.equal(result.refusal, 'bad-data');
      assert.equal(result.errcode, undefined);
    }
    assert.equal(fake.to(PATHS.subscribe).length, 0);
  });

  test('getuserphonenumber: the code (and openid) sent, the watermark checked', async (t) => {
    const { fake, client } = await setup(t);
    const phoneInfo = (appid: string) => ({
      body: {
        errcode: 0,
        errmsg: 'ok',
        phone_info: {
          phoneNumber: '13812345678',
          purePhoneNumber: '13812345678',
          countryCode: '86',
          watermark: { timestamp: 1_717_214_400, appid },
        },
      },
    });
    answer(fake, PATHS.phone, phoneInfo(FAKE_APP.appId));
    const info = await client.getUserPhoneNumber('e31968a7f94cc5ee25fafc2aef2773f0', 'o1');
    assert.equal(info.purePhoneNumber, '13812345678');
    assert.deepEqual(fake.to(PATHS.phone)[0]?.body, {
      code: 'e31968a7f94cc5ee25fafc2aef2773f0',
      openid: 'o1',
    });
    answer(fake, PATHS.phone, phoneInfo('wx0000000000000099'));
    await rejectsWith(client.getUserPhoneNumber('abc'), 'invalid', 'WRONG_APPID');
    answer(fake, PATHS.phone, { body: { errcode: 40029, errmsg: 'invalid code' } });
    await rejectsWith(client.getUserPhoneNumber('abc'), 'rejected', '40029');
    await rejectsWith(client.getUserPhoneNumber('bad code!'), 'rejected', '40029');
    assert.equal(fake.to(PATHS.phone).length, 3);
  });
});

describe('hostile and broken answers', () => {
  test('every broken answer is a typed error, and none shows the token', async (t) => {
    const { fake, client } = await setup(t);
    const cases: [FakeAnswer, string, string][] = [
      [{ body: 'not json' }, 'invalid', 'MALFORMED_RESPONSE'],
      [{ body: '[1,2]' }, 'invalid', 'MALFORMED_RESPONSE'],
      [{ body: 'null' }, 'invalid', 'MALFORMED_RESPONSE'],
      [{ body: Buffer.from([0x7b, 0xff, 0x7d]) }, 'invalid', 'MALFORMED_RESPONSE'],
      [{ body: { errcode: '40001', errmsg: 'x' } }, 'invalid', 'MALFORMED_RESPONSE'],
      [{ body: { errcode: 1.5 } }, 'invalid', 'MALFORMED_RESPONSE'],
      [{ body: `{"errcode":0,"pad":"${'x'.repeat(70_000)}"}` }, 'invalid', 'RESPONSE_TOO_LARGE'],
      [{ body: '{}', headers: { 'content-length': '99999999' } }, 'invalid', 'RESPONSE_TOO_LARGE'],
      [{ status: 500, body: 'oops' }, 'retryable', 'HTTP_500'],
      [{ status: 502, body: '<html>bad gateway</html>' }, 'retryable', 'HTTP_502'],
      [{ status: 429, body: '' }, 'retryable', 'HTTP_429'],
      [{ status: 404, body: 'not found' }, 'config', 'HTTP_404'],
      [{ hang: true }, 'retryable', 'TIMEOUT'],
    ];
    for (const [a, kind, code] of cases) {
      answer(fake, PATHS.isTradeManaged, a);
      await rejectsWith(client.isTradeManaged(), kind, code);
    }
  });

  test('a long errmsg with control characters is cleaned and shortened', async (t) => {
    const { fake, client } = await setup(t);
    answer(fake, PATHS.isTradeManaged, {
      body: { errcode: 40097, errmsg: `bad\n\u0007${'x'.repeat(500)}` },
    });
    const err = await rejectsWith(client.isTradeManaged(), 'rejected', '40097');
    assert.equal(err.errmsg?.length, 201);
    assert.ok(!err.message.includes('\n') && !err.message.includes('\u0007'));
  });

  test('nothing listening is a retryable network error', async (t) => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const { client } = await setup(t, `http://127.0.0.1:${port}`);
    await rejectsWith(client.isTradeManaged(), 'retryable', 'NETWORK');
  });

  test('a token refused mid-flow is refreshed and the call made again', async (t) => {
    const { fake, client } = await setup(t);
    answer(fake, PATHS.isTradeManaged, { body: { errcode: 0, is_trade_managed: true } });
    await client.isTradeManaged();
    fake.rotate();
    await client.isTradeManaged();
    assert.deepEqual(
      fake.to(PATHS.isTradeManaged).map((r) => r.accessToken),
      ['FAKE_TOKEN_1', 'FAKE_TOKEN_1', 'FAKE_TOKEN_2'],
    );
  });

  test('a base URL with a query or credentials is refused at construction', () => {
    const tokens = { withToken: <T>(): Promise<T> => Promise.reject(new Error('unused')) };
    for (const baseUrl of ['ftp://x', 'https://u:p@x', 'https://x/?a=1', 'not a url']) {
      assert.throws(
        () => new MiniProgramClient({ appId: FAKE_APP.appId, baseUrl, tokens }),
        TypeError,
      );
    }
  });
});
