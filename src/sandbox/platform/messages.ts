/**
 * Subscribe messages and phone numbers as the sandbox plays them. The user's side: accepting
 * templates in `wx.requestSubscribeMessage` (each acceptance allows one message, as a one-time
 * subscription does) and tapping the `getPhoneNumber` button (a code valid 5 minutes, once).
 * WeChat's side: `subscribeMessage.send` (checked with the protocol layer's
 * `subscribeBodyProblem`; 40037 for a template the sandbox does not have, 47003 for a key the
 * template lacks, 43101 without a subscription) and `getuserphonenumber`.
 */
import { randomBytes } from 'node:crypto';
import { subscribeBodyProblem } from '../../miniprogram-api/subscribe-message.js';
import type { SandboxCore } from '../core.js';
import { isObject, ok, type PlatformAnswer, PlatformRefusal, refuse } from './answers.js';

/** The templates of the sandbox's mini program: id → its keys (docs/sandbox.md). */
export const SANDBOX_TEMPLATES: Readonly<Record<string, readonly string[]>> = {
  // 支付成功通知: 订单号, 支付金额, 商品名称, 支付时间
  'sandbox-payment-success': ['character_string1', 'amount2', 'thing3', 'time4'],
  // 退款成功通知: 订单号, 退款金额, 退款时间
  'sandbox-refund-success': ['character_string1', 'amount2', 'time3'],
};

export const PHONE_CODE_TTL_MS = 5 * 60_000;
const OPENID = /^[A-Za-z0-9_-]{1,128}$/;

/** The user accepts `templateIds` (one message each); returns what each now allows. */
export function subscribe(
  core: SandboxCore,
  openid: string,
  templateIds: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of templateIds) {
    if (!SANDBOX_TEMPLATES[id]) throw new RangeError(`the sandbox has no template ${id}`);
    out[id] = core.state.platform.subscribe(openid, id, 1);
  }
  return out;
}

/** `POST /cgi-bin/message/subscribe/send`. */
export function sendSubscribeMessage(core: SandboxCore, body: unknown): PlatformAnswer {
  const problem = subscribeBodyProblem(body);
  if (problem) refuse(problem.errcode, problem.message);
  const {
    touser,
    template_id: templateId,
    data,
  } = body as {
    touser: string;
    template_id: string;
    data: Record<string, unknown>;
  };
  const keys = SANDBOX_TEMPLATES[templateId];
  if (!keys) refuse(40037, 'invalid template_id');
  const extra = Object.keys(data).find((k) => !keys.includes(k));
  if (extra) refuse(47003, `argument invalid! data.${extra} is not a key of the template`);
  const platform = core.state.platform;
  const sent = platform.spendSubscription(touser, templateId);
  platform.recordMessage({
    openid: touser,
    template_id: templateId,
    body: JSON.stringify(body),
    sent_at: core.clock.now(),
    errcode: sent ? 0 : 43101,
  });
  // Answered, not thrown: a refusal thrown would roll the record back with the transaction.
  if (!sent) return new PlatformRefusal(43101, 'user refuse to accept the msg').answer();
  return ok({ msgid: Number(randomBytes(4).readUInt32BE()) });
}

/** The user taps the getPhoneNumber button and consents: a code for the server. */
export function issuePhoneCode(core: SandboxCore, openid: string, phone: string): string {
  if (!OPENID.test(openid)) throw new RangeError('openid must be 1 to 128 of A-Z a-z 0-9 _ -');
  if (!/^[0-9]{5,20}$/.test(phone)) throw new RangeError('phoneNumber must be 5 to 20 digits');
  const code = randomBytes(32).toString('hex');
  core.state.platform.insertPhoneCode({
    code,
    openid,
    phone,
    created_at: core.clock.now(),
    used_at: null,
  });
  return code;
}

/** `POST /wxa/business/getuserphonenumber`. */
export function getUserPhoneNumber(core: SandboxCore, body: unknown): PlatformAnswer {
  if (!isObject(body)) refuse(47001, 'data format error');
  const { code, openid } = body;
  if (typeof code !== 'string' || code === '') refuse(41008, 'missing code');
  const row = core.state.platform.phoneCode(code);
  const now = core.clock.now();
  if (!row || now - row.created_at >= PHONE_CODE_TTL_MS) refuse(40029, 'invalid code');
  if (openid !== undefined && openid !== row.openid) refuse(40003, 'invalid openid');
  if (!core.state.platform.usePhoneCode(code, now)) refuse(40029, 'invalid code: used');
  return ok({
    phone_info: {
      phoneNumber: row.phone,
      purePhoneNumber: row.phone,
      countryCode: '86',
      watermark: { timestamp: Math.floor(now / 1000), appid: core.credentials.appId },
    },
  });
}
