import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildTemplateData,
  formatFen,
  MiniProgramApiError,
  type SubscribeValueType,
  subscribeBody,
  subscribeBodyProblem,
  subscribeValueProblem,
  templateKeyType,
} from '../../src/miniprogram-api/index.js';

describe('subscribe messages: value rules by type', () => {
  const valid: Record<SubscribeValueType, string[]> = {
    thing: ['TIT创意园', '抱'.repeat(20), 'a1!'],
    number: ['339208499', '3.14', '1'.repeat(32)],
    letter: ['abc', 'A'.repeat(32)],
    symbol: ['+', '%$#@!'],
    character_string: ['MP2024010112ABC', 'a-b_c.d/e', 'x'.repeat(32)],
    time: ['15:01', '2019年10月1日 15:01', '15:01~16:30', '2019-10-01 15:01:59'],
    date: [
      '2019年10月1日',
      '2019年10月1日 15:01',
      '2015年01月05日',
      '2019-10-01',
      '2019年10月1日~2019年10月3日',
    ],
    amount: ['¥12.50', '12.50元', '6000.00', '$1', '1234567890'],
    phone_number: ['+86-0766-66888866', '13812345678'],
    car_number: ['粤A8Z888挂', 'A12345', '京A12345'],
    name: ['张三', '张'.repeat(10), 'John Smith', 'Smith-Jones'],
    phrase: ['配送中', '已发货', '货物配送中'],
    enum: ['1'],
  };
  const invalid: Record<SubscribeValueType, string[]> = {
    thing: ['抱'.repeat(21), ''],
    number: ['12a', '-1', '1'.repeat(33), '1.'],
    letter: ['ab1', 'a'.repeat(33)],
    symbol: ['a', '++++++'],
    character_string: ['has space', 'x'.repeat(33), '中文'],
    time: ['3pm', '2019年10月1日'],
    date: ['15:01', 'yesterday'],
    amount: ['12.345', '12345678901', '¥¥1', 'abc'],
    phone_number: ['1'.repeat(18), 'tel:123'],
    car_number: ['粤A8Z888挂1', 'a12345', 'A1中2'],
    name: ['张'.repeat(11), '张三1', 'x'.repeat(21), 'Agent 007'],
    phrase: ['配送中了吗啊啊', 'abc', '配送1'],
    enum: ['x'.repeat(33)],
  };
  for (const type of Object.keys(valid) as SubscribeValueType[]) {
    test(`${type}`, () => {
      for (const v of valid[type])
        assert.equal(subscribeValueProblem(type, v), undefined, `${type}: ${v}`);
      for (const v of invalid[type]) assert.ok(subscribeValueProblem(type, v), `${type}: ${v}`);
      assert.ok(subscribeValueProblem(type, 'a\nb'), 'control characters');
    });
  }

  test('template keys are a type and a number', () => {
    assert.equal(templateKeyType('thing1'), 'thing');
    assert.equal(templateKeyType('character_string12'), 'character_string');
    assert.equal(templateKeyType('phone_number4'), 'phone_number');
    for (const bad of ['thing', 'keyword1', 'thing1a', '1thing', 'Thing1', '__proto__']) {
      assert.equal(templateKeyType(bad), undefined, bad);
    }
  });
});

describe('subscribe messages: filling a template from configuration', () => {
  const mapping = {
    character_string1: 'outTradeNo',
    thing2: 'productName',
    amount3: 'totalFee',
    date4: 'paidAt',
    phrase5: 'status',
  };
  const values = {
    outTradeNo: 'MP20240101120000ABCDEFGHIJKLMNOP',
    productName: '一件名字特别特别特别特别长的商品（限量版）',
    totalFee: 1250,
    paidAt: new Date('2024-01-01T04:05:00Z'),
    status: '已支付',
    unused: 'x',
  };

  test('each key gets its value, formatted for its type', () => {
    assert.deepEqual(buildTemplateData(mapping, values), {
      character_string1: { value: 'MP20240101120000ABCDEFGHIJKLMNOP' },
      thing2: { value: '一件名字特别特别特别特别长的商品（限量…' },
      amount3: { value: '12.50元' },
      date4: { value: '2024年1月1日 12:05' },
      phrase5: { value: '已支付' },
    });
    assert.equal([...buildTemplateData(mapping, values).thing2!.value].length, 20);
  });

  test('a mapping that names no value, or a key that is no type, is a config error', () => {
    for (const bad of [{ thing1: 'nothing' }, { keyword1: 'productName' }] as Record<
      string,
      string
    >[]) {
      assert.throws(
        () => buildTemplateData(bad, values),
        (err: unknown) =>
          err instanceof MiniProgramApiError &&
          err.kind === 'config' &&
          err.code === 'TEMPLATE_MAPPING',
      );
    }
  });

  test('a value that breaks its rule is refused as bad template data (never cut)', () => {
    assert.throws(
      () => buildTemplateData({ character_string1: 'v' }, { v: 'x'.repeat(33) }),
      (err: unknown) =>
        err instanceof MiniProgramApiError &&
        err.kind === 'rejected' &&
        err.code === 'BAD_TEMPLATE_DATA',
    );
    assert.throws(
      () => buildTemplateData({ phrase1: 'v' }, { v: '已经支付成功' }),
      MiniProgramApiError,
    );
  });

  test('fen as money', () => {
    assert.equal(formatFen(0), '0.00元');
    assert.equal(formatFen(5), '0.05元');
    assert.equal(formatFen(123456), '1234.56元');
    assert.throws(() => formatFen(1.5), RangeError);
    assert.throws(() => formatFen(-1), RangeError);
  });
});

describe('subscribe messages: the wire body', () => {
  const message = {
    toOpenid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    templateId: 'W25vrVdFrfC1CBXlJG7aGYk0B8y3hR5jLvsTg2Xmhrs',
    page: 'pages/order/order?id=42',
    data: { thing1: { value: '抱枕' } },
    miniprogramState: 'formal' as const,
    lang: 'zh_CN' as const,
  };

  test('the documented shape; a good message has no problem', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(subscribeBody(message))), {
      touser: message.toOpenid,
      template_id: message.templateId,
      page: 'pages/order/order?id=42',
      data: { thing1: { value: '抱枕' } },
      miniprogram_state: 'formal',
      lang: 'zh_CN',
    });
    assert.equal(subscribeBodyProblem(subscribeBody(message)), undefined);
  });

  test('each refusal carries the errcode WeChat gives', () => {
    const body = () => JSON.parse(JSON.stringify(subscribeBody(message)));
    const cases: [number, (b: Record<string, unknown>) => void][] = [
      [40003, (b) => (b.touser = '')],
      [40037, (b) => (b.template_id = 'bad id!')],
      [41030, (b) => (b.page = 'https://evil.example/')],
      [47003, (b) => (b.miniprogram_state = 'beta')],
      [47003, (b) => (b.lang = 'fr')],
      [47003, (b) => (b.data = {})],
      [47003, (b) => (b.data = { thing1: { value: 'x'.repeat(21) } })],
      [47003, (b) => (b.data = { keyword1: { value: 'x' } })],
      [47003, (b) => (b.data = { thing1: 'x' })],
      [47003, (b) => (b.data = { thing1: { value: 7 } })],
    ];
    for (const [errcode, edit] of cases) {
      const b = body();
      edit(b);
      assert.equal(subscribeBodyProblem(b)?.errcode, errcode, JSON.stringify(b));
    }
    assert.match(
      subscribeBodyProblem({ ...body(), data: { thing3: { value: 'x'.repeat(21) } } })!.message,
      /data\.thing3\.value invalid/,
    );
    assert.equal(subscribeBodyProblem(null)?.errcode, 47001);
  });
});
