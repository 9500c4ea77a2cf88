/**
 * Helpers for driving a sandbox the way a merchant would: sign and post v2 XML, verify the
 * signed answers, receive notifications.
 */
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import {
  decodeXml,
  encodeXml,
  nonce,
  outTradeNo,
  type SignType,
  signV2,
  verifyV2,
  type XmlFields,
} from '../../src/wechatpay/index.js';

/** Starts a sandbox that is closed when the test ends. */
export async function sandboxFor(t: TestContext, options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox(options);
  t.after(() => sandbox.close());
  return sandbox;
}

export interface V2Result {
  status: number;
  text: string;
  fields: XmlFields;
  /** The answer's signature verified with the merchant key (false when it has none). */
  signed: boolean;
}

export interface SigningOptions {
  /** Default: the merchant's key. */
  key?: string;
  /** Default MD5. */
  signType?: SignType;
  /** Send `sign_type` even for MD5. */
  declare?: boolean;
}

/** A v2 request body as the merchant sends it: appid, mch_id, nonce_str, `fields`, signed. */
export function signedV2Body(
  sandbox: { credentials: { appId: string; mchId: string; mchKey: string } },
  fields: Record<string, string | number | undefined>,
  options: SigningOptions = {},
): string {
  const signType = options.signType ?? 'MD5';
  const message: Record<string, string | number | undefined> = {
    appid: sandbox.credentials.appId,
    mch_id: sandbox.credentials.mchId,
    nonce_str: nonce(),
    ...fields,
  };
  if (signType !== 'MD5' || options.declare) message.sign_type = signType;
  message.sign = signV2(message, options.key ?? sandbox.credentials.mchKey, signType);
  return encodeXml(message);
}

/** Signs `fields` (adding appid, mch_id, nonce_str) and posts them as XML. */
export async function v2(
  sandbox: Sandbox,
  path: string,
  fields: Record<string, string | number | undefined>,
  options: SigningOptions = {},
): Promise<V2Result> {
  return postRaw(sandbox, path, signedV2Body(sandbox, fields, options), options.signType);
}

/** `/secapi/pay/refund` of `refundFee` fen of a trade of `totalFee` fen. */
export function refundOf(
  sandbox: Sandbox,
  outTradeNo: string,
  outRefundNo: string,
  refundFee: number,
  totalFee = 1000,
): Promise<V2Result> {
  return v2(sandbox, '/secapi/pay/refund', {
    out_trade_no: outTradeNo,
    out_refund_no: outRefundNo,
    total_fee: totalFee,
    refund_fee: refundFee,
  });
}

/** Posts a body as it is and reads the answer. */
export async function postRaw(
  sandbox: Sandbox,
  path: string,
  body: string | Uint8Array | undefined,
  signType: SignType = 'MD5',
  init: { method?: string; contentType?: string } = {},
): Promise<V2Result> {
  const res = await fetch(sandbox.url + path, {
    method: init.method ?? 'POST',
    headers: { 'content-type': init.contentType ?? 'text/xml' },
    body,
  });
  const text = await res.text();
  const fields = text.startsWith('<xml>') ? decodeXml(text) : Object.create(null);
  const signed =
    fields.sign !== undefined && verifyV2(fields, sandbox.credentials.mchKey, signType);
  return { status: res.status, text, fields, signed };
}

/** A JSON call to the sandbox's own API. */
export async function api<T = Record<string, unknown>>(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(sandbox.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export const NOTIFY_PATH = '/wechatpay/v2/notify';

/** A unifiedorder that succeeds: returns the out_trade_no, prepay_id and openid. */
export async function prepay(
  sandbox: Sandbox,
  notifyUrl: string,
  overrides: Record<string, string | number | undefined> = {},
  signType: SignType = 'MD5',
): Promise<{ outTradeNo: string; prepayId: string; openid: string }> {
  const openid = (overrides.openid as string | undefined) ?? sandbox.loginCode().openid;
  const no = (overrides.out_trade_no as string | undefined) ?? outTradeNo('T');
  const r = await v2(
    sandbox,
    '/pay/unifiedorder',
    {
      body: 'minipay test',
      out_trade_no: no,
      total_fee: 100,
      spbill_create_ip: '127.0.0.1',
      notify_url: notifyUrl,
      trade_type: 'JSAPI',
      openid,
      ...overrides,
    },
    { signType },
  );
  if (r.fields.result_code !== 'SUCCESS') throw new Error(`unifiedorder failed: ${r.text}`);
  return { outTradeNo: no, prepayId: r.fields.prepay_id!, openid };
}

/** `wx.requestPayment` parameters for a prepay, signed with `key` (default: the merchant's). */
export function payParams(
  sandbox: Sandbox,
  prepayId: string,
  options: { key?: string; signType?: SignType; appId?: string } = {},
) {
  const signType = options.signType ?? 'MD5';
  const params = {
    appId: options.appId ?? sandbox.credentials.appId,
    timeStamp: String(Math.floor(Date.now() / 1000)),
    nonceStr: nonce(),
    package: `prepay_id=${prepayId}`,
    signType,
  };
  const paySign = signV2(params, options.key ?? sandbox.credentials.mchKey, signType);
  return { ...params, paySign };
}

/** A prepaid and paid trade. */
export async function paidTrade(
  sandbox: Sandbox,
  notifyUrl: string,
  overrides: Record<string, string | number | undefined> = {},
): Promise<{ outTradeNo: string; transactionId: string; openid: string }> {
  const p = await prepay(sandbox, notifyUrl, overrides);
  const result = sandbox.pay({ ...payParams(sandbox, p.prepayId), openid: p.openid });
  return { outTradeNo: p.outTradeNo, transactionId: result.transactionId!, openid: p.openid };
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A merchant notify endpoint on loopback that records what arrives and answers via `reply`. */
export class NotifyReceiver {
  readonly received: Received[] = [];
  reply: (req: Received, n: number) => { status?: number; body?: string; hang?: boolean } = () => ({
    body: '<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>',
  });
  private waiters: { count: number; resolve: () => void }[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(t: TestContext): Promise<NotifyReceiver> {
    const r = new NotifyReceiver();
    r.server.listen(0, '127.0.0.1');
    await once(r.server, 'listening');
    t.after(() => r.close());
    return r;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${NOTIFY_PATH}`;
  }

  /** Resolves once `count` requests have arrived in all. */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const got: Received = {
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    };
    this.received.push(got);
    const answer = this.reply(got, this.received.length);
    for (const w of this.waiters.filter((w) => this.received.length >= w.count)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.received.length < w.count);
    if (answer.hang) return; // never answer
    res.writeHead(answer.status ?? 200, { 'content-type': 'text/xml' });
    res.end(answer.body ?? '');
  }
}

/** Resolves when `predicate` holds, polling every few ms (gives up after `limitMs`). */
export async function until(predicate: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A notification format for tests of the delivery machinery itself (what is sent does not
 * matter there): signed XML with the trade's fields, and "accepted" = 2xx + SUCCESS XML.
 */
export const TEST_NOTIFY_FORMAT: NonNullable<SandboxOptions['notifyFormat']> = {
  payment: (core, trade) => {
    const fields: Record<string, string | number> = {
      return_code: 'SUCCESS',
      appid: trade.appid,
      mch_id: trade.mch_id,
      nonce_str: nonce(),
      out_trade_no: trade.out_trade_no,
      total_fee: trade.total_fee,
      transaction_id: trade.transaction_id ?? '',
    };
    fields.sign = signV2(fields, core.credentials.mchKey, trade.sign_type as SignType);
    return encodeXml(fields);
  },
  refund: (_core, refund) =>
    encodeXml({
      return_code: 'SUCCESS',
      out_refund_no: refund.out_refund_no,
      refund_status: refund.status,
    }),
  accepted: (status, body) => {
    if (status < 200 || status > 299) return false;
    try {
      return decodeXml(body).return_code === 'SUCCESS';
    } catch {
      return false;
    }
  },
};

export const SUCCESS_REPLY =
  '<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>';
export const FAIL_REPLY = '<xml><return_code>FAIL</return_code><return_msg>busy</return_msg></xml>';
