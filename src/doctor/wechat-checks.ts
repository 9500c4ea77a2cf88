/**
 * Harmless calls to WeChat that prove the credentials, and the clock against WeChat's:
 * - orderquery of a made-up out_trade_no: WeChat answers ORDERNOTEXIST in an answer signed
 *   with the merchant's key only when mch_id, AppID and the APIv2 key are right (a wrong key
 *   gets an unsigned 签名错误);
 * - jscode2session with a made-up code: 40029 (invalid code) once AppID and AppSecret are
 *   accepted, 40125 for a wrong AppSecret, 40013 for a wrong AppID;
 * - the Date header of an answer of WeChat Pay's host, against this machine's clock.
 * Sources and caveats: docs/deploy.md, "minipay doctor".
 */
import { randomBytes } from 'node:crypto';
import { exchange } from '../wechatpay/http.js';
import { code2Session, WechatPayError, WechatPayV2Client } from '../wechatpay/index.js';
import { type Check, type Finding, fail, pass } from './check.js';

const TIMEOUT_MS = 10_000;

/** An out_trade_no no merchant system makes (minipay's own start with MP). */
const madeUpTradeNo = () => `DOCTOR${Date.now()}${randomBytes(4).toString('hex')}`;
const MADE_UP_LOGIN_CODE = 'minipay-doctor-made-up-code';

export const payCredentialsCheck: Check = {
  name: 'WeChat Pay credentials',
  applies: ({ merchant }) => merchant.mchKey !== undefined,
  async run({ config, merchant }) {
    const client = new WechatPayV2Client({
      baseUrl: config.wechatPayBaseUrl,
      appId: merchant.appId,
      mchId: merchant.mchId,
      key: merchant.mchKey!,
      signType: config.signType,
      timeoutMs: TIMEOUT_MS,
      retry: { attempts: 0 },
    });
    try {
      await client.orderQuery({ outTradeNo: madeUpTradeNo() });
      return pass(`mch_id ${merchant.mchId} and the APIv2 key work (orderquery answered, signed)`);
    } catch (err) {
      return payFinding(err, config.wechatPayBaseUrl, merchant.mchId, config.signType);
    } finally {
      await client.close();
    }
  },
};

function payFinding(err: unknown, baseUrl: string, mchId: string, signType: string): Finding {
  if (!(err instanceof WechatPayError)) return fail(`orderquery failed: ${(err as Error).message}`);
  if (err.code === 'ORDERNOTEXIST') {
    return pass(
      `mch_id ${mchId}, the AppID and the APIv2 key work: orderquery of a made-up order answered ORDERNOTEXIST, signed with this key (${signType})`,
    );
  }
  if (err.code === 'SIGNERROR') {
    return fail(
      `WeChat Pay refused the signature (${err.description ?? 'SIGNERROR'}): MINIPAY_MCH_KEY is not the APIv2 key of mch_id ${mchId}${signType === 'HMAC-SHA256' ? ', or the key does not sign HMAC-SHA256 (try MINIPAY_SIGN_TYPE=MD5)' : ''}. Copy the key from the merchant platform (账户中心 → API安全 → APIv2密钥)`,
    );
  }
  if (err.code === 'BAD_SIGNATURE' || err.code === 'WRONG_MERCHANT') {
    return fail(
      `the answer from ${baseUrl} is not signed for this merchant: check that MINIPAY_WECHATPAY_BASE_URL is WeChat Pay and that no proxy rewrites its answers (${err.message})`,
    );
  }
  if (err.kind === 'ambiguous') {
    return fail(`could not reach WeChat Pay at ${baseUrl}: ${err.message}`);
  }
  return fail(err.message);
}

export const loginCredentialsCheck: Check = {
  name: 'mini program login',
  async run({ config, merchant }) {
    const options = {
      baseUrl: config.wechatApiBaseUrl,
      appId: merchant.appId,
      appSecret: merchant.appSecret,
      timeoutMs: TIMEOUT_MS,
    };
    try {
      await code2Session(options, MADE_UP_LOGIN_CODE);
      return fail(
        `jscode2session accepted a made-up code: ${config.wechatApiBaseUrl} (MINIPAY_WECHAT_API_BASE_URL) is not WeChat`,
      );
    } catch (err) {
      return loginFinding(err, config.wechatApiBaseUrl);
    }
  },
};

function loginFinding(err: unknown, baseUrl: string): Finding {
  if (!(err instanceof WechatPayError)) {
    return fail(`jscode2session failed: ${(err as Error).message}`);
  }
  switch (err.code) {
    case '40029':
      return pass(
        'the AppID and AppSecret are accepted: jscode2session refused only the made-up login code (40029)',
      );
    case '40125':
      return fail(
        'WeChat says the AppSecret is wrong (40125): set MINIPAY_APPSECRET to the mini program’s AppSecret (mp.weixin.qq.com → 开发管理 → 开发设置; resetting it there ends the old one)',
      );
    case '40013':
      return fail(
        'WeChat says the AppID is wrong (40013): set MINIPAY_APPID to the mini program’s AppID',
      );
    default:
      return err.kind === 'ambiguous'
        ? fail(`could not reach ${baseUrl}: ${err.message}`)
        : fail(`jscode2session answered ${err.code}: ${err.message}`);
  }
}

/** APIv3 refuses requests whose timestamp is more than 5 minutes off; stay well inside. */
export const MAX_CLOCK_SKEW_MS = 60_000;

export const clockCheck: Check = {
  name: 'clock',
  async run(context) {
    const base = context.config.wechatPayBaseUrl;
    const sent = context.now().getTime();
    let date: string | string[] | undefined;
    try {
      // Any answer carries the Date; this one is refused unread (orderquery wants a POST).
      ({
        headers: { date },
      } = await exchange({
        method: 'GET',
        url: `${base}/pay/orderquery`,
        timeoutMs: TIMEOUT_MS,
        maxBytes: 64 * 1024,
        what: 'clock check',
      }));
    } catch (err) {
      return fail(
        `could not reach WeChat Pay at ${base} to read its clock: ${(err as Error).message}`,
      );
    }
    const theirs = typeof date === 'string' ? Date.parse(date) : Number.NaN;
    if (Number.isNaN(theirs)) {
      return fail(`${base} answered without a Date header: check the clock yourself (NTP)`);
    }
    // Date has whole seconds: WeChat's time lies in [theirs, theirs + 1 s).
    const skew = (sent + context.now().getTime()) / 2 - (theirs + 500);
    return clockFinding(skew);
  },
};

function clockFinding(skewMs: number): Finding {
  const off = duration(Math.abs(skewMs));
  if (Math.abs(skewMs) <= MAX_CLOCK_SKEW_MS) {
    return pass(`within ${off} of WeChat Pay’s (the Date of its answer)`);
  }
  return fail(
    `${off} ${skewMs > 0 ? 'ahead of' : 'behind'} WeChat Pay’s: order expiry times shift and APIv3 refuses requests more than 5 minutes off. Synchronise it (NTP: timedatectl set-ntp true, or chrony)`,
  );
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The calls to WeChat, in the order printed. */
export const wechatChecks: Check[] = [payCredentialsCheck, loginCredentialsCheck, clockCheck];
