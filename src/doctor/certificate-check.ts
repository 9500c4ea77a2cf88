/**
 * The merchant API client certificate (MINIPAY_MCH_CERT_FILE + MINIPAY_MCH_KEY_FILE, or
 * MINIPAY_MCH_P12_FILE), checked offline: it loads, the key is the certificate's, it is the
 * merchant's (WeChat issues it to the merchant number) and not expired or about to expire.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type Check, fail, pass } from './check.js';

const DAY_MS = 86_400_000;
/** Fewer days left than this is a failure: renew it on the merchant platform first. */
const RENEW_WITHIN_DAYS = 30;

export const clientCertificateCheck: Check = {
  name: 'merchant API certificate',
  applies: ({ config }) => config.clientCertificate !== undefined,
  async run({ config, merchant, now }) {
    const files = config.clientCertificate!;
    try {
      if ('p12File' in files) {
        createSecureContext({
          pfx: readFileSync(files.p12File),
          passphrase: files.p12Password ?? merchant.mchId,
        });
        return pass(`${files.p12File} loads (its dates are not read from a PKCS#12 here)`);
      }
      const cert = new X509Certificate(readFileSync(files.certFile));
      if (!cert.checkPrivateKey(createPrivateKey(readFileSync(files.keyFile)))) {
        return fail(
          `MINIPAY_MCH_KEY_FILE is not the key of MINIPAY_MCH_CERT_FILE: give apiclient_key.pem and apiclient_cert.pem of the same download`,
        );
      }
      const left = Math.floor((Date.parse(cert.validTo) - now().getTime()) / DAY_MS);
      if (left < RENEW_WITHIN_DAYS) {
        return fail(
          left < 0
            ? `the certificate expired on ${cert.validTo}: WeChat refuses refunds with it; download a new one (账户中心 → API安全)`
            : `the certificate expires in ${left} days (${cert.validTo}): renew it on the merchant platform before it does`,
        );
      }
      if (!cert.subject.includes(merchant.mchId)) {
        return fail(
          `the certificate is not issued to merchant ${merchant.mchId} (subject: ${cert.subject.replaceAll('\n', ', ')}): check MINIPAY_MCHID and the files`,
        );
      }
      return pass(`issued to ${merchant.mchId}, its key matches, ${left} days left`);
    } catch (err) {
      return fail(`the certificate does not load: ${(err as Error).message}`);
    }
  },
};
