/**
 * Helpers for the protocol layer's integration tests: a v2 client for a sandbox, a paid trade,
 * and a tiny fake WeChat that answers what a test tells it to (tampered signatures, error
 * codes the sandbox never produces, HTTP failures).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import {
  buildRequestPayment,
  decodeXml,
  encodeXml,
  nonce,
  outTradeNo,
  type SignType,
  signV2,
  WechatPayError,
  type WechatPayErrorKind,
  WechatPayV2Client,
  type WechatPayV2ClientOptions,
  type XmlFields,
} from '../../src/wechatpay/index.js';
import { listenUntilEnd } from '../support/listen.js';

/** What `f` throws, which must be a WechatPayError. */
export function thrownBy(f: () => unknown): WechatPayError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof WechatPayError, String(err));
    return err;
  }
  assert.fail('expected a WechatPayError');
}

/** `f` refuses its input as `invalid`, with `code` (or a code matching it). */
export function refusal(f: () => unknown, code: string | RegExp): void {
  const err = thrownBy(f);
  assert.equal(err.kind, 'invalid');
  if (typeof code === 'string') assert.equal(err.code, code);
  else assert.match(err.code, code);
}

export async function sandboxFor(t: TestContext, options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox(options);
  t.after(() => sandbox.close());
  return sandbox;
}

export function clientFor(
  t: TestContext,
  sandbox: Sandbox,
  options: Partial<WechatPayV2ClientOptions> = {},
): WechatPayV2Client {
  const c = sandbox.credentials;
  const client = new WechatPayV2Client({
    baseUrl: sandbox.url,
    appId: c.appId,
    mchId: c.mchId,
    key: c.mchKey,
    signType: 'MD5',
    timeoutMs: 5000,
    retry: { attempts: 2, delayMs: 10 },
    ...options,
  });
  t.after(() => client.close());
  return client;
}

export const NOTIFY_URL = 'http://127.0.0.1:9/wechatpay/notify';

/** A unifiedorder for a new user; returns the request and prepay_id. */
export async function order(
  client: WechatPayV2Client,
  sandbox: Sandbox,
  overrides: Partial<Parameters<WechatPayV2Client['unifiedOrder']>[0]> = {},
) {
  const request = {
    body: 'minipay test',
    outTradeNo: outTradeNo('T'),
    totalFee: 100,
    spbillCreateIp: '127.0.0.1',
    notifyUrl: NOTIFY_URL,
    openid: sandbox.loginCode().openid,
    ...overrides,
  };
  const res = await client.unifiedOrder(request);
  return { request, prepayId: res.prepayId };
}

/** Plays the user paying a prepay, with parameters signed by the protocol layer. */
export function pay(
  sandbox: Sandbox,
  prepayId: string,
  openid: string,
  signType: SignType = 'MD5',
) {
  const c = sandbox.credentials;
  const params = buildRequestPayment({ appId: c.appId, prepayId, key: c.mchKey, signType });
  return sandbox.pay({ ...params, openid });
}

/** Asserts `promise` rejects with a WechatPayError of this kind and code. */
export async function rejectsWith(
  promise: Promise<unknown>,
  kind: WechatPayErrorKind,
  code: string,
): Promise<WechatPayError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    assert.ok(err instanceof WechatPayError, `expected WechatPayError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.code, code, err.message);
    return true;
  });
  return caught as WechatPayError;
}

export interface FakeAnswer {
  status?: number;
  body: string | Buffer;
  /** Writes the answer itself instead (a body cut short, sent slowly). */
  write?: (res: ServerResponse) => void;
}

/** A fake api.mch.weixin.qq.com: each request is decoded and handed to `answer`. */
export class FakeWechat {
  readonly requests: XmlFields[] = [];
  answer: (fields: XmlFields, n: number) => FakeAnswer = () => ({ body: '' });
  private readonly server = createServer((req, res) => void this.handle(req, res));

  static async start(t: TestContext): Promise<FakeWechat> {
    const fake = new FakeWechat();
    fake.url = await listenUntilEnd(t, fake.server);
    return fake;
  }

  /** Its base URL, once started. */
  url = '';

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fields = decodeXml(Buffer.concat(chunks));
    this.requests.push(fields);
    const a = this.answer(fields, this.requests.length);
    if (a.write) return a.write(res);
    res.writeHead(a.status ?? 200, { 'content-type': 'text/xml' });
    res.end(a.body);
  }
}

export const FAKE = {
  appId: 'wx5a5db0c000000001',
  mchId: '1900000109',
  key: 'fakewechatkey0000000000000000001',
};

/** A signed answer as WeChat would send it (result_code SUCCESS unless `extra` says FAIL). */
export function signedAnswer(
  extra: Record<string, string | number>,
  key = FAKE.key,
  signType: SignType = 'MD5',
): string {
  const fields: Record<string, string | number> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: FAKE.appId,
    mch_id: FAKE.mchId,
    nonce_str: nonce(),
    result_code: 'SUCCESS',
    ...extra,
  };
  return encodeXml({ ...fields, sign: signV2(fields, key, signType) });
}

export function fakeClient(
  t: TestContext,
  fake: FakeWechat,
  options: Partial<WechatPayV2ClientOptions> = {},
) {
  const client = new WechatPayV2Client({
    baseUrl: fake.url,
    ...FAKE,
    timeoutMs: 2000,
    retry: { attempts: 2, delayMs: 5 },
    ...options,
  });
  t.after(() => client.close());
  return client;
}
