import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CallbackApi,
  fromTaro,
  fromUni,
  fromWx,
  type WxApi,
} from '../../src/client/adapters.js';
import { PlatformCallError } from '../../src/client/errors.js';

type Options = Record<string, unknown> & {
  success?: (res: unknown) => void;
  fail?: (err: { errMsg: string }) => void;
};

/** A callback-style API like wx: records every call; `answer` decides each outcome. */
function fakeApi(answer: (name: string, options: Options) => { ok: unknown } | { fail: string }) {
  const calls: { name: string; options: Options }[] = [];
  const storage = new Map<string, string>();
  // `never`: each wx method takes its own options type; this one records them all.
  const call = (name: string) => (raw: never) => {
    const options = raw as Options;
    calls.push({ name, options });
    const outcome = answer(name, options);
    if ('ok' in outcome) options.success?.(outcome.ok);
    else options.fail?.({ errMsg: outcome.fail });
  };
  const api: CallbackApi = {
    login: call('login'),
    request: call('request'),
    requestPayment: call('requestPayment'),
    getStorageSync: (key: string) => storage.get(key) ?? '',
    setStorageSync: (key: string, value: string) => storage.set(key, value),
    removeStorageSync: (key: string) => storage.delete(key),
  };
  return { api, calls };
}

const PARAMS = {
  timeStamp: '1',
  nonceStr: 'n',
  package: 'prepay_id=p',
  signType: 'MD5' as const,
  paySign: 'S',
};

describe('adapters', () => {
  test('fromWx maps login, request and storage onto wx callbacks', async () => {
    const { api, calls } = fakeApi((name) =>
      name === 'login'
        ? { ok: { code: 'c1', errMsg: 'login:ok' } }
        : { ok: { statusCode: 201, data: { a: 1 }, header: { 'X-Request-Id': 'r' } } },
    );
    const platform = fromWx(api as unknown as WxApi);
    assert.equal(await platform.login(), 'c1');
    const res = await platform.request({
      url: 'http://h/x',
      method: 'POST',
      header: { A: 'b' },
      data: { q: 1 },
      timeoutMs: 1234,
    });
    assert.deepEqual(res, { statusCode: 201, data: { a: 1 }, header: { 'X-Request-Id': 'r' } });
    const sent = calls.find((c) => c.name === 'request')?.options;
    assert.equal(sent?.url, 'http://h/x');
    assert.equal(sent?.method, 'POST');
    assert.equal(sent?.timeout, 1234);
    assert.deepEqual(sent?.data, { q: 1 });
    assert.equal(platform.storage.get('k'), undefined, "wx's empty string means absent");
    platform.storage.set('k', 'v');
    assert.equal(platform.storage.get('k'), 'v');
    platform.storage.remove('k');
    assert.equal(platform.storage.get('k'), undefined);
  });

  test('fail callbacks become PlatformCallError with the errMsg', async () => {
    const { api } = fakeApi((name) => ({ fail: `${name}:fail cancel` }));
    const platform = fromWx(api as unknown as WxApi);
    await assert.rejects(
      platform.requestPayment(PARAMS),
      (err) => err instanceof PlatformCallError && err.errMsg === 'requestPayment:fail cancel',
    );
    await assert.rejects(
      platform.request({ url: 'u', method: 'GET', header: {}, timeoutMs: 1 }),
      (err) => err instanceof PlatformCallError && err.errMsg === 'request:fail cancel',
    );
  });

  test('requestPayment passes exactly the five signed fields; uni-app adds its providers', async () => {
    const wx = fakeApi(() => ({ ok: { errMsg: 'requestPayment:ok' } }));
    await fromWx(wx.api as unknown as WxApi).requestPayment({ ...PARAMS });
    const { success: _s, fail: _f, ...wxArgs } = wx.calls[0]?.options ?? {};
    assert.deepEqual(wxArgs, PARAMS);

    const uni = fakeApi((name) => ({ ok: name === 'login' ? { code: 'u1' } : {} }));
    const platform = fromUni(uni.api);
    await platform.login();
    await platform.requestPayment(PARAMS);
    assert.equal(uni.calls[0]?.options.provider, 'weixin');
    const { success: _s2, fail: _f2, ...uniArgs } = uni.calls[1]?.options ?? {};
    assert.deepEqual(uniArgs, { provider: 'wxpay', ...PARAMS });
  });

  test('APIv3 parameters (signType RSA, a 344-character paySign) go through every adapter unchanged', async () => {
    const rsa = {
      ...PARAMS,
      signType: 'RSA' as const,
      paySign: `${'A1+/'.repeat(85)}ab==`,
    };
    for (const adapt of [fromWx, fromTaro, fromUni] as const) {
      const fake = fakeApi(() => ({ ok: { errMsg: 'requestPayment:ok' } }));
      await adapt(fake.api as unknown as WxApi).requestPayment(rsa);
      const { success: _s, fail: _f, provider: _p, ...args } = fake.calls[0]?.options ?? {};
      assert.deepEqual(args, rsa, adapt.name);
    }
  });

  test('an object without the APIs (Taro or uni-app on H5, passed whole) is refused by name', () => {
    // On H5 both frameworks link `Taro.request` etc. as named imports: the bare object is empty.
    assert.throws(
      () => fromTaro({ login: () => undefined } as unknown as CallbackApi),
      (err: Error) =>
        err instanceof TypeError &&
        err.message.includes('no request, getStorageSync, setStorageSync, removeStorageSync'),
    );
    const { api } = fakeApi(() => ({ ok: {} }));
    const { login: _login, requestPayment: _pay, ...withoutSheet } = api;
    // login and requestPayment may be played by `sandboxed` instead.
    assert.doesNotThrow(() => fromUni(withoutSheet as CallbackApi));
  });
});
