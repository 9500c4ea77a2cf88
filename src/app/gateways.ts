/**
 * The payment gateway the configuration asks for: APIv2; APIv3 (verifying with WeChat Pay's
 * public key when it is configured, and with the platform certificates kept in the store for
 * any other serial: both modes at once, as WeChat's switch needs); or APIv3 with APIv2 kept
 * for the orders made under it (ApiSwitchGateway). Built once the store is open, because
 * certificate mode keeps its certificates there.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ApiSwitchGateway } from '../payments/gateway/api-switch-gateway.js';
import { GatewayError, type PaymentGateway } from '../payments/gateway/gateway.js';
import { StoreCertificateSource } from '../payments/gateway/platform-certificates.js';
import {
  WechatPayV2Gateway,
  type WechatPayV2GatewayOptions,
} from '../payments/gateway/wechatpay-v2-gateway.js';
import { WechatPayV3Gateway } from '../payments/gateway/wechatpay-v3-gateway.js';
import type { Metrics } from '../server/metrics.js';
import type { Store } from '../store/index.js';
import {
  bothVerifier,
  CertificateVerifier,
  createRsaSigner,
  downloadCertificates,
  loadApiV3Key,
  publicKeysVerifier,
  publicKeyVerifier,
  type Verifier,
  WechatPayV3Client,
} from '../wechatpay/v3/index.js';
import type { Config, MerchantCredentials } from './config.js';
import type { WechatPayV3Credentials } from './wechatpay-v3-config.js';

export type ClosableGateway = PaymentGateway & { close(): Promise<void> };

export interface GatewayInput {
  config: Config;
  merchant: MerchantCredentials;
  /** Present when new orders use APIv3. */
  v3: WechatPayV3Credentials | undefined;
  metrics: Metrics;
  logger: Logger;
}

/** The gateway for `input`, once `store` is open. */
export function createGateway(input: GatewayInput, store: Store): ClosableGateway {
  const v2 = input.merchant.mchKey === undefined ? undefined : v2Gateway(input);
  if (!input.v3) {
    if (!v2) throw new Error('APIv2 without MINIPAY_MCH_KEY: the configuration let it through');
    return v2;
  }
  const v3 = v3Gateway(input, input.v3, store);
  return v2 ? new ApiSwitchGateway(v3, v2) : v3;
}

/**
 * The APIv2 gateway, with the merchant API client certificate when configured. A file that
 * cannot be read, or a certificate that does not load (its key does not match, a wrong PKCS#12
 * password), is an error naming the variables to fix.
 */
export function v2Gateway({ config, merchant, metrics, logger }: GatewayInput): WechatPayV2Gateway {
  const tls = clientTls(config.clientCertificate, merchant);
  const caFile = config.wechatPayCaFile;
  const ca = caFile === undefined ? undefined : readSetting('MINIPAY_WECHATPAY_CA_FILE', caFile);
  try {
    return new WechatPayV2Gateway({
      appId: merchant.appId,
      mchId: merchant.mchId,
      mchKey: merchant.mchKey!,
      signType: config.signType,
      payBaseUrl: config.wechatPayBaseUrl,
      backupBaseUrl: config.wechatPayBackupBaseUrl,
      onFailover: (e) => {
        metrics.inc('minipay_wechatpay_failovers_total', { path: e.path, reason: e.reason });
        logger.warn(e, 'WeChat Pay request sent again to the other domain');
      },
      timeoutMs: config.gatewayTimeoutMs,
      tls,
      ca,
    });
  } catch (err) {
    if (!(err instanceof GatewayError) || err.kind !== 'config') throw err;
    const names =
      config.clientCertificate && 'p12File' in config.clientCertificate
        ? 'MINIPAY_MCH_P12_FILE / MINIPAY_MCH_P12_PASSWORD'
        : 'MINIPAY_MCH_CERT_FILE / MINIPAY_MCH_KEY_FILE';
    throw new Error(`${names}: ${err.message}`, { cause: err });
  }
}

type V2ClientTls = NonNullable<WechatPayV2GatewayOptions['tls']>;

function clientTls(
  files: Config['clientCertificate'],
  merchant: MerchantCredentials,
): V2ClientTls | undefined {
  if (!files) return undefined;
  if ('p12File' in files) {
    // WeChat's apiclient_cert.p12 is protected by the merchant number.
    return {
      pfx: readSetting('MINIPAY_MCH_P12_FILE', files.p12File),
      passphrase: files.p12Password ?? merchant.mchId,
    };
  }
  return {
    cert: readSetting('MINIPAY_MCH_CERT_FILE', files.certFile),
    key: readSetting('MINIPAY_MCH_KEY_FILE', files.keyFile),
  };
}

function readSetting(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
}

function v3Gateway(
  input: GatewayInput,
  v3: WechatPayV3Credentials,
  store: Store,
): WechatPayV3Gateway {
  const { config, merchant, metrics, logger } = input;
  const signer = createRsaSigner({ privateKey: v3.privateKeyPem, serialNo: v3.certSerial });
  const apiV3Key = loadApiV3Key(v3.apiV3Key);
  const client = (verifier: Verifier) =>
    new WechatPayV3Client({
      mchId: merchant.mchId,
      signer,
      verifier,
      baseUrl: config.wechatPayBaseUrl,
      backupBaseUrl: config.wechatPayBackupBaseUrl,
      timeoutMs: config.gatewayTimeoutMs,
    });
  const keys = [v3.publicKey, v3.nextPublicKey].flatMap((k) =>
    k ? [publicKeyVerifier({ keyId: k.id, publicKey: k.pem })] : [],
  );
  // The next key (a replacement under way) verifies too, each message by its Wechatpay-Serial.
  const publicKey = keys.length > 0 ? publicKeysVerifier(keys) : undefined;
  // The download verifies its own answer with a certificate it lists, or the public key.
  const downloader = client({ verify: () => Promise.reject(new Error('never used')) });
  const certificates = new CertificateVerifier(
    new StoreCertificateSource(store.db, () =>
      downloadCertificates(downloader, apiV3Key, { fallback: publicKey }),
    ),
    {
      onRefresh: ({ reason, serials, error }) => {
        metrics.inc('minipay_wechatpay_certificate_refreshes_total', {
          reason,
          outcome: error ? 'error' : 'ok',
        });
        if (error) logger.warn({ err: error, reason }, 'platform certificate refresh failed');
        else logger.info({ reason, serials }, 'platform certificates refreshed');
      },
    },
  );
  // With the public key, certificates are consulted only for a serial that is not its id
  // (WeChat's switch from certificates to the public key): nothing is downloaded otherwise.
  const verifier = publicKey ? bothVerifier(publicKey, certificates) : certificates;
  return new WechatPayV3Gateway({
    appId: merchant.appId,
    mchId: merchant.mchId,
    signer,
    verifier,
    apiV3Key,
    payBaseUrl: config.wechatPayBaseUrl,
    backupBaseUrl: config.wechatPayBackupBaseUrl,
    timeoutMs: config.gatewayTimeoutMs,
    onVerified: ({ mode }) => metrics.inc('minipay_wechatpay_verifications_total', { mode }),
  });
}
