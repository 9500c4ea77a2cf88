import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isMaskedPhone,
  isRfc3339,
  maskPhone,
  ORDER_STATES,
  orderStateName,
  rfc3339Beijing,
  shippingBodyProblem,
  shippingInfoBody,
  type UploadShippingInfoRequest,
} from '../../src/miniprogram-api/index.js';

const UPLOAD_TIME = new Date('2022-12-15T05:29:35.120Z');

function express(overrides: Partial<UploadShippingInfoRequest> = {}): UploadShippingInfoRequest {
  return {
    order: { transactionId: '4200001234202212151234567890' },
    logisticsType: 'express',
    deliveryMode: 'unified',
    parcels: [{ trackingNo: '323244567777', expressCompany: 'YTO', itemDesc: '微信红包抱枕*1个' }],
    payerOpenid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    uploadTime: UPLOAD_TIME,
    ...overrides,
  };
}

/** The errcode of the problem of a body built from `request` then changed by `edit`. */
function errcodeOf(
  request: UploadShippingInfoRequest,
  edit?: (body: Record<string, unknown>) => void,
): number | undefined {
  const body = JSON.parse(JSON.stringify(shippingInfoBody(request)));
  edit?.(body);
  return shippingBodyProblem(body)?.errcode;
}

describe('shipping info: the wire body', () => {
  test('by transaction_id, express, unified: the documented example shape', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(shippingInfoBody(express()))), {
      order_key: { order_number_type: 2, transaction_id: '4200001234202212151234567890' },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [
        { tracking_no: '323244567777', express_company: 'YTO', item_desc: '微信红包抱枕*1个' },
      ],
      upload_time: '2022-12-15T13:29:35.120+08:00',
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    });
    assert.equal(shippingBodyProblem(shippingInfoBody(express())), undefined);
  });

  test('by mchid + out_trade_no, split with is_all_delivered, SF with a masked contact', () => {
    const body = shippingInfoBody(
      express({
        order: { mchId: '1900000109', outTradeNo: 'MP20221215132935ABCDEFGHIJKLMNOP' },
        deliveryMode: 'split',
        isAllDelivered: false,
        parcels: [
          {
            trackingNo: 'SF1',
            expressCompany: 'SF',
            itemDesc: 'a',
            contact: { receiverContact: '189****1234' },
          },
          { trackingNo: 'YT2', expressCompany: 'YTO', itemDesc: 'b' },
        ],
      }),
    );
    assert.deepEqual(body.order_key, {
      order_number_type: 1,
      mchid: '1900000109',
      out_trade_no: 'MP20221215132935ABCDEFGHIJKLMNOP',
    });
    assert.equal(body.delivery_mode, 2);
    assert.equal(body.is_all_delivered, false);
    assert.deepEqual(body.shipping_list[0]?.contact, {
      consignor_contact: undefined,
      receiver_contact: '189****1234',
    });
    assert.equal(shippingBodyProblem(body), undefined);
  });

  test('virtual goods and pick-up need no tracking number', () => {
    for (const logisticsType of ['virtual', 'pick-up', 'same-city'] as const) {
      const request = express({ logisticsType, parcels: [{ itemDesc: '会员月卡*1' }] });
      assert.equal(errcodeOf(request), undefined, logisticsType);
    }
  });
});

describe("shipping info: WeChat's rules, with the errcode WeChat answers", () => {
  const cases: [
    string,
    number,
    UploadShippingInfoRequest,
    ((b: Record<string, unknown>) => void)?,
  ][] = [
    [
      'an empty object',
      10060014,
      express(),
      (b) => {
        for (const k of Object.keys(b)) delete b[k];
      },
    ],
    [
      'order_number_type 3',
      268485194,
      express(),
      (b) => ((b.order_key as Record<string, unknown>).order_number_type = 3),
    ],
    ['no transaction_id', 268485195, express({ order: { transactionId: '' } })],
    ['no mchid', 268485196, express({ order: { mchId: '', outTradeNo: 'MP1' } })],
    ['no out_trade_no', 268485197, express({ order: { mchId: '1900000109', outTradeNo: '' } })],
    ['mchid not digits', 10060014, express({ order: { mchId: 'abc', outTradeNo: 'MP1' } })],
    [
      'out_trade_no over 32',
      10060014,
      express({ order: { mchId: '1', outTradeNo: 'x'.repeat(33) } }),
    ],
    ['logistics_type 5', 10060005, express(), (b) => (b.logistics_type = 5)],
    ['logistics_type "1"', 10060005, express(), (b) => (b.logistics_type = '1')],
    ['delivery_mode 3', 268485224, express(), (b) => (b.delivery_mode = 3)],
    ['no parcel', 10060014, express({ parcels: [] })],
    [
      '16 parcels',
      10060024,
      express({
        deliveryMode: 'split',
        isAllDelivered: true,
        parcels: Array(16).fill({ trackingNo: 't', expressCompany: 'YTO', itemDesc: 'x' }),
      }),
    ],
    [
      'unified with 2 parcels',
      268485228,
      express({
        parcels: Array(2).fill({ trackingNo: 't', expressCompany: 'YTO', itemDesc: 'x' }),
      }),
    ],
    [
      'split for same-city',
      10060006,
      express({ logisticsType: 'same-city', deliveryMode: 'split', isAllDelivered: true }),
    ],
    ['split without is_all_delivered', 10060007, express({ deliveryMode: 'split' })],
    [
      'empty item_desc',
      10060008,
      express({ parcels: [{ trackingNo: 't', expressCompany: 'YTO', itemDesc: '  ' }] }),
    ],
    [
      'item_desc of 121 characters',
      10060009,
      express({
        parcels: [{ trackingNo: 't', expressCompany: 'YTO', itemDesc: '抱'.repeat(121) }],
      }),
    ],
    [
      'express without tracking_no',
      268485226,
      express({ parcels: [{ expressCompany: 'YTO', itemDesc: 'x' }] }),
    ],
    [
      'express without express_company',
      268485227,
      express({ parcels: [{ trackingNo: 't', itemDesc: 'x' }] }),
    ],
    [
      'tracking_no of 129 bytes',
      10060026,
      express({ parcels: [{ trackingNo: 't'.repeat(129), expressCompany: 'YTO', itemDesc: 'x' }] }),
    ],
    [
      'express_company of 129 bytes',
      10060025,
      express({ parcels: [{ trackingNo: 't', expressCompany: 'Y'.repeat(129), itemDesc: 'x' }] }),
    ],
    [
      'SF without contact',
      10060014,
      express({ parcels: [{ trackingNo: 't', expressCompany: 'SF', itemDesc: 'x' }] }),
    ],
    [
      'SF with an empty contact',
      10060014,
      express({ parcels: [{ trackingNo: 't', expressCompany: 'SF', itemDesc: 'x', contact: {} }] }),
    ],
    [
      'an unmasked phone',
      10060014,
      express({
        parcels: [
          {
            trackingNo: 't',
            expressCompany: 'SF',
            itemDesc: 'x',
            contact: { consignorContact: '18912341234' },
          },
        ],
      }),
    ],
    [
      'upload_time without offset',
      268485216,
      express(),
      (b) => (b.upload_time = '2022-12-15T13:29:35'),
    ],
    [
      'upload_time not a date',
      268485216,
      express(),
      (b) => (b.upload_time = '2022-02-30T13:29:35+08:00'),
    ],
    ['no payer', 10060014, express({ payerOpenid: '' })],
    ['openid of 129 bytes', 10060014, express({ payerOpenid: 'o'.repeat(129) })],
  ];
  for (const [name, errcode, request, edit] of cases) {
    test(`${name} → ${errcode}`, () => assert.equal(errcodeOf(request, edit), errcode));
  }

  test('limits hold at their edge: 15 parcels, 120 characters, 128 bytes', () => {
    const parcel = {
      trackingNo: 't'.repeat(128),
      expressCompany: 'Y'.repeat(128),
      itemDesc: '抱'.repeat(120),
    };
    const request = express({
      deliveryMode: 'split',
      isAllDelivered: true,
      parcels: Array(15).fill(parcel),
    });
    assert.equal(errcodeOf(request), undefined);
  });

  test('hostile bodies get an errcode, never an exception', () => {
    for (const body of [
      null,
      1,
      'x',
      [],
      { order_key: [] },
      { order_key: { order_number_type: 2, transaction_id: {} } },
    ]) {
      assert.equal(typeof shippingBodyProblem(body)?.errcode, 'number');
    }
    const listOfJunk = JSON.parse(JSON.stringify(shippingInfoBody(express())));
    listOfJunk.shipping_list = [null];
    assert.equal(shippingBodyProblem(listOfJunk)?.errcode, 10060014);
  });
});

describe('shipping info: formats', () => {
  test('upload_time is RFC 3339 with +08:00', () => {
    assert.equal(rfc3339Beijing(UPLOAD_TIME), '2022-12-15T13:29:35.120+08:00');
    assert.equal(rfc3339Beijing(new Date('2023-12-31T16:00:00Z')), '2024-01-01T00:00:00.000+08:00');
    assert.ok(isRfc3339('2022-12-15T13:29:35.120+08:00'));
    assert.ok(isRfc3339('2022-12-15T05:29:35Z'));
    assert.ok(!isRfc3339('2022-12-15 13:29:35+08:00'));
    assert.ok(!isRfc3339('2022-12-15T24:00:00+08:00'));
    assert.ok(!isRfc3339('2022-12-15T13:29:35+25:00'));
    assert.throws(() => rfc3339Beijing(new Date(Number.NaN)), RangeError);
  });

  test('masked phones: the documented examples pass, unmasked and malformed do not', () => {
    for (const ok of [
      '189****1234',
      '021-****1234',
      '****1234',
      '0**2-***1234',
      '0**2-******23-10',
      '****123-8008',
      '+86-177****1234',
    ]) {
      assert.ok(isMaskedPhone(ok), ok);
    }
    for (const bad of [
      '18912341234',
      '189****12*4',
      '189****123',
      'abc****1234',
      '',
      '*'.repeat(1021) + '1234',
    ]) {
      assert.ok(!isMaskedPhone(bad), bad);
    }
    assert.equal(maskPhone('13812345678'), '138****5678');
    assert.equal(maskPhone('+86 138-1234-5678'), '138****5678');
    assert.equal(maskPhone('6688866'), '****8866');
    assert.ok(isMaskedPhone(maskPhone('13812345678')));
    assert.throws(() => maskPhone('123'), RangeError);
  });

  test('order states 1..6 have names; others are unknown', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(orderStateName), [
      'to_be_shipped',
      'shipped',
      'receipt_confirmed',
      'completed',
      'refunded',
      'settlement_pending',
    ]);
    assert.equal(ORDER_STATES[6].label, '资金待结算');
    assert.equal(orderStateName(7), 'unknown');
    assert.equal(orderStateName(0), 'unknown');
  });
});
