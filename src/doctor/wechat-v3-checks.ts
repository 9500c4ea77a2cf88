/**
 * The APIv3 credentials against WeChat, with harmless calls (MINIPAY_WECHATPAY_API=v3):
 * - certificate mode: `GET /v3/certificates`. WeChat answers only a request signed with the
 *   merchant key of the serial sent (else 401 SIGN_ERROR); each certificate decrypts only with
 *   the right APIv3 key; the answer verifies with one of them.
 * - public key mode: a query of a made-up out_trade_no. WeChat answers ORDER_NOT_EXIST to a
 *   request it authenticated, signed with its public key: verified, it proves the merchant key,
 *   the serial and WeChat's public key and id. (The APIv3 key is proven by the first
 *   notification: nothing else WeChat sends is encrypted with it in this mode.)
 */
import { randomBytes } from 'node:crypto';
import { WechatPayError } from '../wechatpay/errors.js';
import {
  createRsaSigner,
  downloadCertificates,
  loadApiV3Key,
  publicKeyVerifier,
  queryByOutTradeNo,
  type Verifier,
  WechatPayV3Client,
  WechatPayV3Error,
} from '../wechatpay/v3/index.js';
import { type Check, type Finding, fail, pass } from './check.js';

const TIMEOUT_MS = 10_000;

export const v3CredentialsCheck: Check = {
  name: 'WeChat Pay APIv3 credentials',
  applies: ({ config }) => config.wechatpayV3 !== undefined,
  async run({ config, merchant }) {
    const v3 = config.wechatpayV3!;
    const signer = createRsaSigner({ privateKey: v3.privateKeyPem, serialNo: v3.certSerial });
    const client = (verifier: Verifier) =>
      new WechatPayV3Client({
        mchId: merchant.mchId,
        signer,
        verifier,
        baseUrl: config.wechatPayBaseUrl,
        timeoutMs: TIMEOUT_MS,
        retry: { attempts: 0 },
      });
    if (!v3.publicKey) {
      const c = client({ verify: () => Promise.reject(new Error('not used')) });
      try {
        const list = await downloadCertificates(c, loadApiV3Key(v3.apiV3Key));
        return pass(
          `WeChat accepted the request signature (serial ${v3.certSerial}) and ${list.length} platform certificate(s) decrypted with the APIv3 key: ${list.map((x) => x.serialNo).join(', ')}`,
        );
      } catch (err) {
        return finding(err, v3.certSerial, 'certificate');
      } finally {
        await c.close();
      }
    }
    const verifier = publicKeyVerifier({ keyId: v3.publicKey.id, publicKey: v3.publicKey.pem });
    const c = client(verifier);
    try {
      await queryByOutTradeNo(c, `DOCTOR${Date.now()}${randomBytes(4).toString('hex')}`);
      return fail(`WeChat Pay at ${config.wechatPayBaseUrl} answered a made-up order as found`);
    } catch (err) {
      if (err instanceof WechatPayV3Error && err.code === 'ORDER_NOT_EXIST' && err.verified) {
        return pass(
          `WeChat accepted the request signature (serial ${v3.certSerial}) and its answer verified with the public key ${v3.publicKey.id} (a made-up order: ORDER_NOT_EXIST)`,
        );
      }
      return finding(err, v3.certSerial, 'public_key');
    } finally {
      await c.close();
    }
  },
};

function finding(err: unknown, serial: string, mode: 'certificate' | 'public_key'): Finding {
  if (!(err instanceof WechatPayError)) return fail(`the call failed: ${(err as Error).message}`);
  switch (err.code) {
    case 'SIGN_ERROR':
      return fail(
        `WeChat refused the request signature: MINIPAY_MCH_PRIVATE_KEY_FILE is not the key of the certificate with serial ${serial} (MINIPAY_MCH_CERT_SERIAL), or this machine's clock is off (${err.message})`,
      );
    case 'BAD_CIPHERTEXT':
      return fail(
        'the platform certificates do not decrypt: MINIPAY_API_V3_KEY is not this merchant’s APIv3 key (账户中心 → API安全 → APIv3密钥)',
      );
    case 'RESOURCE_NOT_EXISTS':
    case 'NOT_FOUND':
      return fail(
        `WeChat has no platform certificate for this merchant (无可用的平台证书): it verifies with the WeChat Pay public key; set MINIPAY_WECHATPAY_PUBLIC_KEY_FILE and MINIPAY_WECHATPAY_PUBLIC_KEY_ID (${err.message})`,
      );
    case 'UNKNOWN_SERIAL':
    case 'BAD_SIGNATURE':
      return fail(
        mode === 'public_key'
          ? `WeChat's answer does not verify with the configured public key: check MINIPAY_WECHATPAY_PUBLIC_KEY_FILE and MINIPAY_WECHATPAY_PUBLIC_KEY_ID against 账户中心 → API安全 → 微信支付公钥 (${err.message})`
          : `the certificates answer does not verify: ${err.message}`,
      );
    default:
      return err.kind === 'ambiguous'
        ? fail(`could not reach WeChat Pay: ${err.message}`)
        : fail(`${err.code}: ${err.message}`);
  }
}
