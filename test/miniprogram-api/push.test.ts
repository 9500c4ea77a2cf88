import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  aesKeyOf,
  type BuildPushOptions,
  buildPush,
  checkPushConfig,
  encryptPushMessage,
  MiniProgramApiError,
  type PushConfig,
  type PushFormat,
  pushSignature,
  pushUrlCheck,
  readPush,
  verifyPushUrl,
} from '../../src/miniprogram-api/index.js';
import { OFFICIAL } from './vectors.js';

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APP = 'wx5a5db0c000000001';
const TOKEN = 'pushToken123';

function config(format: PushFormat, encrypted = true): PushConfig {
  return { token: TOKEN, appId: APP, format, encodingAesKey: encrypted ? KEY : undefined };
}

function options(format: PushFormat, encrypted = true): BuildPushOptions {
  return { ...config(format, encrypted), timestamp: 1_714_112_445, nonce: '415670741' };
}

const SETTLED = {
  ToUserName: 'gh_97417a04a28d',
  FromUserName: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
  CreateTime: 1_714_112_445,
  MsgType: 'event',
  Event: 'trade_manage_order_settlement',
  transaction_id: '4200001234202401011234567890',
  merchant_id: '1900000109',
  sub_merchant_id: '',
  merchant_trade_no: 'MP20240101120000ABCDEFGHIJKLMNOP',
  pay_time: 1_714_000_000,
  shipped_time: 1_714_010_000,
  confirm_receive_method: 2,
  confirm_receive_time: 1_714_100_000,
  settlement_time: 1_714_112_000,
};

function rejects(fn: () => unknown, kind: string, code: string): MiniProgramApiError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof MiniProgramApiError, `expected a MiniProgramApiError, got ${caught}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('message push: the official example', () => {
  test('the URL check answers echostr', () => {
    const { urlCheck } = OFFICIAL;
    const query = { ...urlCheck };
    assert.equal(verifyPushUrl(query, { token: OFFICIAL.token }), urlCheck.echostr);
    rejects(() => verifyPushUrl(query, { token: 'BBBBB' }), 'invalid', 'BAD_SIGNATURE');
  });

  test('a plain push (JSON)', () => {
    const { plain } = OFFICIAL;
    const push = readPush(
      { signature: plain.signature, timestamp: plain.timestamp, nonce: plain.nonce },
      plain.body,
      { token: OFFICIAL.token, appId: OFFICIAL.appId, format: 'json' },
    );
    assert.equal(push.encrypted, false);
    assert.equal(push.timestamp, 1_714_037_059);
    assert.equal(push.event.type, 'generic');
    assert.equal(push.event.type === 'generic' && push.event.event, 'debug_demo');
    assert.equal(push.fields.debug_str, 'hello world');
  });

  test('a safe-mode push (JSON): msg_signature, decryption, AppID', () => {
    const { safe } = OFFICIAL;
    const query = {
      signature: safe.signature,
      timestamp: safe.timestamp,
      nonce: safe.nonce,
      openid: safe.openid,
      encrypt_type: 'aes',
      msg_signature: safe.msgSignature,
    };
    const body = JSON.stringify({ ToUserName: 'gh_97417a04a28d', Encrypt: safe.encrypt });
    const push = readPush(query, Buffer.from(body), {
      token: OFFICIAL.token,
      appId: OFFICIAL.appId,
      encodingAesKey: OFFICIAL.encodingAesKey,
      format: 'json',
    });
    assert.equal(push.encrypted, true);
    assert.equal(push.message, safe.message);
    assert.equal(push.openid, safe.openid);
    assert.equal(push.timestamp, 1_714_112_445);
    assert.equal(push.nonce, '415670741');
    assert.deepEqual(push.event.createTime, new Date(1_714_112_445_000));
    assert.equal(push.event.fromUserName, 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY');
  });
});

describe('message push: both formats, both modes, typed events', () => {
  for (const format of ['json', 'xml'] as const) {
    for (const encrypted of [true, false]) {
      test(`${format}, ${encrypted ? 'safe' : 'plain'} mode: the settlement event`, () => {
        const built = buildPush(SETTLED, options(format, encrypted));
        assert.equal(built.query.encrypt_type, encrypted ? 'aes' : undefined);
        assert.equal(built.body.includes('4200001234202401011234567890'), !encrypted);
        const push = readPush(built.query, built.body, config(format, encrypted));
        assert.equal(push.encrypted, encrypted);
        const event = push.event;
        assert.equal(event.type, 'trade_manage_order_settlement');
        if (event.type !== 'trade_manage_order_settlement') return;
        assert.equal(event.stage, 'settled');
        assert.equal(event.transactionId, SETTLED.transaction_id);
        assert.equal(event.merchantId, SETTLED.merchant_id);
        assert.equal(event.subMerchantId, undefined);
        assert.equal(event.merchantTradeNo, SETTLED.merchant_trade_no);
        assert.deepEqual(event.payTime, new Date(SETTLED.pay_time * 1000));
        assert.deepEqual(event.shippedTime, new Date(SETTLED.shipped_time * 1000));
        assert.equal(event.confirmReceiveMethod, 2);
        assert.deepEqual(event.confirmReceiveTime, new Date(SETTLED.confirm_receive_time * 1000));
        assert.deepEqual(event.settlementTime, new Date(SETTLED.settlement_time * 1000));
        assert.equal(event.estimatedSettlementTime, undefined);
        assert.equal(event.toUserName, 'gh_97417a04a28d');
      });
    }
  }

  test('settlement at shipment: stage shipped, with the estimated settlement time', () => {
    const shipped = {
      ...SETTLED,
      confirm_receive_method: undefined,
      confirm_receive_time: undefined,
      settlement_time: undefined,
      estimated_settlement_time: 1_714_700_000,
    };
    const push = readPush(...args(buildPush(shipped, options('xml')), config('xml')));
    assert.equal(
      push.event.type === 'trade_manage_order_settlement' && push.event.stage,
      'shipped',
    );
    assert.deepEqual(
      push.event.type === 'trade_manage_order_settlement' && push.event.estimatedSettlementTime,
      new Date(1_714_700_000_000),
    );
  });

  test('the two reminders, and anything else as a generic event', () => {
    const common = { ToUserName: 'gh_1', FromUserName: 'o_sys', CreateTime: 1_714_112_445 };
    const remindShipping = {
      ...common,
      MsgType: 'event',
      Event: 'trade_manage_remind_shipping',
      transaction_id: '4200000000000000000000000001',
      merchant_id: '1900000109',
      merchant_trade_no: 'MP1',
      pay_time: 1_714_000_000,
      msg: '请尽快发货',
    };
    let e = readPush(...args(buildPush(remindShipping, options('json')), config('json'))).event;
    assert.equal(e.type, 'trade_manage_remind_shipping');
    assert.equal(e.type === 'trade_manage_remind_shipping' && e.msg, '请尽快发货');
    const access = {
      ...common,
      MsgType: 'event',
      Event: 'trade_manage_remind_access_api',
      msg: '请接入',
    };
    e = readPush(...args(buildPush(access, options('xml')), config('xml'))).event;
    assert.equal(e.type === 'trade_manage_remind_access_api' && e.msg, '请接入');
    const popup = {
      ...common,
      MsgType: 'event',
      Event: 'subscribe_msg_popup_event',
      List: [{ TemplateId: 't1', SubscribeStatusString: 'accept', PopupScene: '0' }],
    };
    e = readPush(...args(buildPush(popup, options('json')), config('json'))).event;
    assert.equal(e.type, 'generic');
    assert.equal(e.type === 'generic' && e.event, 'subscribe_msg_popup_event');
    assert.deepEqual(e.fields.List, popup.List);
    const text = { ...common, MsgType: 'text', Content: '你好' };
    e = readPush(...args(buildPush(text, options('xml')), config('xml'))).event;
    assert.equal(e.type === 'generic' && e.msgType, 'text');
  });

  test('compatible mode: the plaintext beside Encrypt is never read', () => {
    const built = buildPush(SETTLED, options('json'));
    const envelope = JSON.parse(built.body);
    const forged = JSON.stringify({ ...SETTLED, transaction_id: 'FORGED', ...envelope });
    const push = readPush(built.query, forged, config('json'));
    assert.equal(
      push.event.type === 'trade_manage_order_settlement' && push.event.transactionId,
      SETTLED.transaction_id,
    );
  });

  test('plain mode authenticates only the query: a changed body still verifies', () => {
    const built = buildPush(SETTLED, options('json', false));
    const changed = JSON.stringify({ ...SETTLED, transaction_id: 'CHANGED' });
    const push = readPush(built.query, changed, config('json', false));
    assert.equal(push.encrypted, false);
    assert.equal(push.fields.transaction_id, 'CHANGED');
  });

  test('replays are the app’s decision: timestamp and nonce come back, an old push reads', () => {
    const old = { ...options('json'), timestamp: 1_000_000_000 };
    const built = buildPush(SETTLED, old);
    const first = readPush(built.query, built.body, config('json'));
    const again = readPush(built.query, built.body, config('json'));
    assert.equal(first.timestamp, 1_000_000_000);
    assert.deepEqual([again.timestamp, again.nonce], [first.timestamp, first.nonce]);
  });

  test('the sandbox side: pushUrlCheck builds a URL check the merchant side accepts', () => {
    const query = pushUrlCheck(TOKEN, {
      timestamp: 1_714_036_504,
      nonce: 'abc123',
      echostr: 'e42',
    });
    assert.equal(verifyPushUrl(query, { token: TOKEN }), 'e42');
  });
});

function args(
  built: ReturnType<typeof buildPush>,
  c: PushConfig,
): [Record<string, string>, string, PushConfig] {
  return [built.query, built.body, c];
}

/** A safe-mode push whose `Encrypt` is `encrypt`, correctly signed. */
function signedEnvelope(encrypt: string, format: PushFormat) {
  const timestamp = '1714112445';
  const nonce = '415670741';
  const query = {
    signature: pushSignature(TOKEN, timestamp, nonce),
    timestamp,
    nonce,
    encrypt_type: 'aes',
    msg_signature: pushSignature(TOKEN, timestamp, nonce, encrypt),
  };
  const body =
    format === 'json'
      ? JSON.stringify({ ToUserName: 'gh_1', Encrypt: encrypt })
      : `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  return { query, body };
}

describe('message push: hostile input', () => {
  const good = () => buildPush(SETTLED, options('json'));

  test('a wrong msg_signature, and an Encrypt changed after signing', () => {
    const built = good();
    rejects(
      () => readPush({ ...built.query, msg_signature: 'a'.repeat(40) }, built.body, config('json')),
      'invalid',
      'BAD_SIGNATURE',
    );
    const env = JSON.parse(built.body);
    const flipped = `${env.Encrypt[0] === 'A' ? 'B' : 'A'}${env.Encrypt.slice(1)}`;
    const body = JSON.stringify({ ...env, Encrypt: flipped });
    rejects(() => readPush(built.query, body, config('json')), 'invalid', 'BAD_SIGNATURE');
    rejects(
      () => readPush(built.query, built.body, { ...config('json'), token: 'anotherToken' }),
      'invalid',
      'BAD_SIGNATURE',
    );
  });

  test('a correctly signed push for another AppID', () => {
    const encrypt = encryptPushMessage(JSON.stringify(SETTLED), {
      encodingAesKey: KEY,
      appId: 'wx0000000000000099',
    });
    const { query, body } = signedEnvelope(encrypt, 'json');
    rejects(() => readPush(query, body, config('json')), 'invalid', 'WRONG_APPID');
  });

  test('a correctly signed push with bad padding', () => {
    const key = aesKeyOf(KEY);
    const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const plain = Buffer.alloc(64, 0x41);
    plain[63] = 0;
    const encrypt = Buffer.concat([c.update(plain), c.final()]).toString('base64');
    const { query, body } = signedEnvelope(encrypt, 'xml');
    rejects(() => readPush(query, body, config('xml')), 'invalid', 'BAD_PADDING');
  });

  test('plain pushes are refused when a key is configured; encrypted ones need the key', () => {
    const plain = buildPush(SETTLED, options('json', false));
    rejects(() => readPush(plain.query, plain.body, config('json')), 'invalid', 'NOT_ENCRYPTED');
    const built = good();
    rejects(
      () => readPush(built.query, built.body, config('json', false)),
      'config',
      'NO_ENCODING_AES_KEY',
    );
    rejects(
      () => readPush({ ...built.query, encrypt_type: 'rsa' }, built.body, config('json')),
      'invalid',
      'BAD_PARAMETER',
    );
  });

  test('missing, repeated and malformed query parameters', () => {
    const { query, body } = good();
    const without = (name: string) =>
      Object.fromEntries(Object.entries(query).filter(([k]) => k !== name));
    for (const name of ['timestamp', 'nonce', 'msg_signature']) {
      rejects(() => readPush(without(name), body, config('json')), 'invalid', 'MISSING_PARAMETER');
    }
    rejects(
      () => readPush({ ...query, nonce: [query.nonce!, 'x'] }, body, config('json')),
      'invalid',
      'BAD_PARAMETER',
    );
    for (const [name, value] of [
      ['timestamp', '1714112445.5'],
      ['timestamp', '-1'],
      ['nonce', 'a b'],
      ['nonce', 'x'.repeat(65)],
      ['msg_signature', 'z'.repeat(40)],
      ['openid', '<script>'],
    ] as const) {
      rejects(
        () => readPush({ ...query, [name]: value }, body, config('json')),
        'invalid',
        'BAD_PARAMETER',
      );
    }
  });

  test('the URL check refuses an echostr that is not plain letters and digits', () => {
    const query = pushUrlCheck(TOKEN, { timestamp: 1, nonce: 'n1', echostr: 'ok' });
    for (const echostr of ['<script>alert(1)</script>', '', 'a'.repeat(129)]) {
      rejects(
        () => verifyPushUrl({ ...query, echostr }, { token: TOKEN }),
        'invalid',
        'BAD_PARAMETER',
      );
    }
    rejects(
      () => verifyPushUrl({ ...query, echostr: undefined }, { token: TOKEN }),
      'invalid',
      'MISSING_PARAMETER',
    );
  });

  test('oversized bodies are refused before any parsing', () => {
    const { query } = good();
    const huge = `{"Encrypt":"${'A'.repeat(70_000)}"}`;
    rejects(() => readPush(query, huge, config('json')), 'invalid', 'TOO_LARGE');
    rejects(
      () => readPush(query, Buffer.from('{}'), { ...config('json'), maxBytes: 1 }),
      'invalid',
      'TOO_LARGE',
    );
  });

  test('DOCTYPE, entities and comments in the XML envelope are refused', () => {
    const { query } = buildPush(SETTLED, options('xml'));
    const cases = [
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>',
      '<xml><!-- c --><Encrypt>x</Encrypt></xml>',
    ];
    for (const body of cases) {
      rejects(() => readPush(query, body, config('xml')), 'invalid', 'XML_FORBIDDEN_MARKUP');
    }
    rejects(
      () => readPush(query, '<xml><Encrypt>&xxe;</Encrypt></xml>', config('xml')),
      'invalid',
      'XML_MALFORMED',
    );
  });

  test('hostile XML inside a correctly encrypted and signed message is refused too', () => {
    const inner =
      '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>event</MsgType><Event>&e;</Event></xml>';
    const encrypt = encryptPushMessage(inner, { encodingAesKey: KEY, appId: APP });
    const { query, body } = signedEnvelope(encrypt, 'xml');
    rejects(() => readPush(query, body, config('xml')), 'invalid', 'XML_FORBIDDEN_MARKUP');
  });

  test('nested XML (some events other than trade management) is refused: use JSON for those', () => {
    const inner =
      '<xml><MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent><List><TemplateId>t</TemplateId></List></SubscribeMsgPopupEvent></xml>';
    const encrypt = encryptPushMessage(inner, { encodingAesKey: KEY, appId: APP });
    const { query, body } = signedEnvelope(encrypt, 'xml');
    rejects(() => readPush(query, body, config('xml')), 'invalid', 'XML_MALFORMED');
  });

  test('bodies that are not JSON objects, not UTF-8, or lack Encrypt', () => {
    const { query } = good();
    for (const body of ['', 'not json', '[1,2]', 'null', '"Encrypt"']) {
      rejects(() => readPush(query, body, config('json')), 'invalid', 'MALFORMED_MESSAGE');
    }
    rejects(
      () => readPush(query, '{"ToUserName":"gh"}', config('json')),
      'invalid',
      'MALFORMED_MESSAGE',
    );
    rejects(
      () => readPush(query, '{"Encrypt":17}', config('json')),
      'invalid',
      'MALFORMED_MESSAGE',
    );
    rejects(
      () => readPush(query, Buffer.from([0x7b, 0xff, 0x7d]), config('json')),
      'invalid',
      'NOT_UTF8',
    );
    const xml = buildPush(SETTLED, options('xml')).query;
    rejects(
      () => readPush(xml, Buffer.from([0x3c, 0x78, 0xff, 0x3e]), config('xml')),
      'invalid',
      'NOT_UTF8',
    );
  });

  test('a verified message without MsgType, and a trade event without its order ids', () => {
    const noType = buildPush({ ToUserName: 'gh', CreateTime: 1 }, options('json'));
    rejects(
      () => readPush(noType.query, noType.body, config('json')),
      'invalid',
      'MALFORMED_MESSAGE',
    );
    const noIds = buildPush({ ...SETTLED, transaction_id: undefined }, options('xml'));
    rejects(() => readPush(noIds.query, noIds.body, config('xml')), 'invalid', 'MALFORMED_MESSAGE');
  });

  test('__proto__ in a JSON message stays a plain field', () => {
    const built = buildPush(
      JSON.parse('{"MsgType":"event","Event":"x","__proto__":{"polluted":1}}'),
      options('json'),
    );
    const push = readPush(built.query, built.body, config('json'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(push.event.type, 'generic');
  });

  test('a push configuration that cannot work is a config error', () => {
    assert.doesNotThrow(() => checkPushConfig(config('json')));
    for (const bad of [
      { ...config('json'), token: 'ab' },
      { ...config('json'), token: 'has space' },
      { ...config('json'), encodingAesKey: 'short' },
      { ...config('json'), format: 'yaml' as PushFormat },
    ]) {
      assert.throws(
        () => checkPushConfig(bad),
        (err: unknown) => err instanceof MiniProgramApiError && err.kind === 'config',
      );
    }
  });
});
