/**
 * The server's configuration: environment variables (and an optional JSON file named by
 * MINIPAY_CONFIG, whose keys are the same variable names; the environment wins), validated
 * up front with messages that say what to set. No merchant credentials at all → demo mode.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { CRASH_POINTS } from '../payments/lib/crash-points.js';
import { redactUrl } from '../payments/lib/url-redaction.js';
import { SUBSCRIBE_VALUES } from '../payments/messages/subscribe-settings.js';
import type { RateLimits } from '../server/plugins/rate-limits.js';
import {
  V3_VARIABLES,
  type WechatPayApiSetting,
  type WechatPayV3Credentials,
  wechatpayV3Config,
} from './wechatpay-v3-config.js';

export type SignType = 'MD5' | 'HMAC-SHA256';

export interface MerchantCredentials {
  appId: string;
  appSecret: string;
  mchId: string;
  /** The APIv2 key; absent on APIv3 alone (with it, v2 stays for the orders made with v2). */
  mchKey: string | undefined;
}

export interface Config {
  /** demo: no credentials given; the sandbox runs in-process. */
  mode: 'demo' | 'live';
  host: string;
  port: number;
  databaseUrl: string;
  /**
   * auto: `minipay start` runs pending migrations (one process, SQLite); off: it refuses a
   * database that is behind, for instances started after a separate `minipay migrate`.
   */
  migrate: 'auto' | 'off';
  /** Absent in demo mode (the sandbox's demo credentials are used). */
  merchant: MerchantCredentials | undefined;
  /** The API new orders are made with (MINIPAY_WECHATPAY_API; default v2). */
  wechatpayApi: WechatPayApiSetting;
  /** APIv3 credentials (live mode with MINIPAY_WECHATPAY_API=v3). */
  wechatpayV3: WechatPayV3Credentials | undefined;
  signType: SignType;
  /** Public base URL WeChat reaches us at; in demo mode derived from the listening address. */
  notifyBaseUrl: string | undefined;
  wechatPayBaseUrl: string;
  /**
   * WeChat Pay's backup domain, tried when `wechatPayBaseUrl` fails (connection, timeout,
   * 5xx): https://api2.mch.weixin.qq.com with the default main domain, else none unless set.
   */
  wechatPayBackupBaseUrl: string | undefined;
  wechatApiBaseUrl: string;
  /**
   * The backup of `wechatApiBaseUrl` (login, access_token, shipping, messages), tried when it
   * fails: https://api2.weixin.qq.com with the default main domain, else none unless set.
   */
  wechatApiBackupBaseUrl: string | undefined;
  /** A CA to trust for WeChat Pay's addresses (a private sandbox over HTTPS); else the system's. */
  wechatPayCaFile: string | undefined;
  /**
   * The merchant API client certificate (apiclient_cert.pem + apiclient_key.pem, or the
   * PKCS#12 apiclient_cert.p12): WeChat requires it for refunds and fund-flow bills (mutual TLS).
   */
  clientCertificate: ClientCertificateFiles | undefined;
  /** Where refunds are paid from (v2 `refund_account`); WeChat's default when unset. */
  refundAccount: 'UNSETTLED_FUNDS' | 'RECHARGE_FUNDS' | undefined;
  /** Bearer token for /admin/v1; generated and printed in demo mode when unset. */
  adminToken: string | undefined;
  /** Bearer token for /metrics; while unset /metrics serves nothing. */
  metricsToken: string | undefined;
  orderTtlSeconds: number;
  storeName: string;
  gatewayTimeoutMs: number;
  /** How often the expiry and pending-sweep jobs run (SQLite: in-process timers). */
  jobIntervalSeconds: number;
  logLevel: string;
  /**
   * The reverse proxies whose X-Forwarded-For is believed: their addresses, CIDR ranges or
   * range names (Fastify's trustProxy); false: none, the socket's address is the client's.
   */
  trustProxy: false | string[];
  /** Where events are POSTed (MINIPAY_WEBHOOK_URLS, or MINIPAY_WEBHOOK_URL for one). */
  webhookUrls: string[];
  /** Signing secret(s), new first while rotating (MINIPAY_WEBHOOK_SECRET, comma-separated). */
  webhookSecrets: string[];
  rateLimits: RateLimits;
  /** A whole request (headers and body) must arrive within this long. */
  requestTimeoutSeconds: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveSeconds: number;
  /** On SIGTERM, how long /readyz answers 503 while requests are still served, before stopping. */
  shutdownDrainSeconds: number;
  /** Sessions one user keeps (a login beyond them ends the oldest). */
  sessionsPerUser: number;
  /** `?sync=1` asks WeChat about an order at most once in this many seconds (0: every time). */
  syncIntervalSeconds: number;
  /**
   * Message push from WeChat (`/wechat/v1/events`): the Token, EncodingAESKey (safe mode) and
   * format of the mini program admin's 消息推送 page; none: the endpoint answers 503.
   */
  push: PushConfig | undefined;
  /** Subscribe messages on payment / refund success (docs/shipping.md); none when unset. */
  subscribe: SubscribeConfig | undefined;
}

export interface SubscribeTemplateConfig {
  templateId: string;
  /** Template key → value name, from `thing3=productName,amount2=totalFen`. */
  fields: Record<string, string>;
}

export interface SubscribeConfig {
  paid?: SubscribeTemplateConfig;
  refunded?: SubscribeTemplateConfig;
  page?: string;
  miniprogramState?: 'developer' | 'trial' | 'formal';
}

export interface PushConfig {
  token: string;
  encodingAesKey: string | undefined;
  format: 'json' | 'xml';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const CREDENTIALS = [
  ['MINIPAY_APPID', /^wx[0-9a-f]{16}$/, 'the mini program AppID ("wx" + 16 hex digits)'],
  ['MINIPAY_APPSECRET', /^[0-9A-Za-z]{16,64}$/, 'the mini program AppSecret'],
  ['MINIPAY_MCHID', /^[0-9]{8,10}$/, 'the WeChat Pay merchant number (8-10 digits)'],
  ['MINIPAY_MCH_KEY', /^[0-9A-Za-z]{32}$/, 'the APIv2 key (32 letters or digits)'],
] as const;
/** Any of these means live mode (the APIv3 ones included). */
const LIVE_VARIABLES = [...CREDENTIALS.map(([name]) => name), ...V3_VARIABLES];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const WECHATPAY_BASE_URL = 'https://api.mch.weixin.qq.com';
/** WeChat's disaster-recovery domain for api.mch.weixin.qq.com (docs/wechat-rules.md). */
const WECHATPAY_BACKUP_BASE_URL = 'https://api2.mch.weixin.qq.com';
const WECHAT_API_BASE_URL = 'https://api.weixin.qq.com';
/** WeChat's disaster-recovery domain for api.weixin.qq.com (docs/wechat-rules.md). */
const WECHAT_API_BACKUP_BASE_URL = 'https://api2.weixin.qq.com';
const REFUND_ACCOUNTS = ['REFUND_SOURCE_UNSETTLED_FUNDS', 'REFUND_SOURCE_RECHARGE_FUNDS'];
/** Hosts only a local sandbox can reach us at: http is fine there. */
const LOOPBACK = /^(localhost|127(\.[0-9]{1,3}){3}|\[::1\])$/;

/** Reads the configuration; throws ConfigError listing every problem at once. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const source = { ...fileValues(env.MINIPAY_CONFIG), ...definedOnly(env) };
  const problems: string[] = [];
  const get = (name: string) => {
    const v = source[name]?.trim();
    return v === '' ? undefined : v;
  };

  const api = get('MINIPAY_WECHATPAY_API') ?? 'v2';
  if (api !== 'v2' && api !== 'v3') {
    problems.push(`MINIPAY_WECHATPAY_API must be v2 or v3, got "${api.slice(0, 20)}"`);
  }
  const live = LIVE_VARIABLES.some((name) => get(name) !== undefined);
  let merchant: MerchantCredentials | undefined;
  let wechatpayV3: WechatPayV3Credentials | undefined;
  if (live) {
    for (const [name, pattern, what] of CREDENTIALS) {
      const v = get(name);
      // On v3 the APIv2 key is optional: given, v2 stays for orders made under v2.
      if (v === undefined && name === 'MINIPAY_MCH_KEY' && api === 'v3') continue;
      if (v === undefined)
        problems.push(
          `${name} is not set: set it to ${what} (or unset every merchant variable for demo mode)`,
        );
      else if (!pattern.test(v)) problems.push(`${name} must be ${what}`);
    }
    merchant = {
      appId: get('MINIPAY_APPID') ?? '',
      appSecret: get('MINIPAY_APPSECRET') ?? '',
      mchId: get('MINIPAY_MCHID') ?? '',
      mchKey: get('MINIPAY_MCH_KEY'),
    };
    if (api === 'v3') wechatpayV3 = wechatpayV3Config(get, problems);
    else if (V3_VARIABLES.some((name) => get(name) !== undefined)) {
      problems.push(
        'APIv3 credentials are set but MINIPAY_WECHATPAY_API is not v3: set MINIPAY_WECHATPAY_API=v3 to use them (new orders then use v3; with MINIPAY_MCH_KEY kept, orders made under v2 stay on v2)',
      );
    }
  }
  const mode = merchant ? 'live' : 'demo';

  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = get(name);
    if (v === undefined) return fallback;
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
      return fallback;
    }
    return Number(v);
  };
  const url = (name: string, fallback: string | undefined) => {
    const v = get(name) ?? fallback;
    if (v === undefined) return undefined;
    if (!/^https?:\/\/[^\s?#]+$/.test(v)) {
      problems.push(`${name} must be an http(s) URL without query or fragment, got "${v}"`);
    }
    return v.replace(/\/+$/, '');
  };

  const signType = (get('MINIPAY_SIGN_TYPE') ?? 'MD5').toUpperCase();
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
    problems.push('MINIPAY_SIGN_TYPE must be MD5 or HMAC-SHA256');
  }
  const notifyBaseUrl = url('MINIPAY_NOTIFY_BASE_URL', undefined);
  if (mode === 'live' && notifyBaseUrl === undefined) {
    problems.push(
      'MINIPAY_NOTIFY_BASE_URL is not set: set it to the public https URL WeChat can reach this server at (e.g. https://pay.example.com)',
    );
  }
  if (mode === 'live' && notifyBaseUrl?.startsWith('http:') && !isLoopback(notifyBaseUrl)) {
    problems.push(
      'MINIPAY_NOTIFY_BASE_URL must be https: WeChat Pay requires an https notify_url (http is allowed only on a loopback address, for a local sandbox)',
    );
  }
  /** A main domain and its backup: WeChat's backup by default when the main is WeChat's. */
  const domains = (name: string, wechatMain: string, wechatBackup: string) => {
    const main = url(`${name}_BASE_URL`, wechatMain)!;
    const backup = url(`${name}_BACKUP_BASE_URL`, main === wechatMain ? wechatBackup : undefined);
    if (backup !== undefined && backup === main) {
      problems.push(
        `${name}_BACKUP_BASE_URL must differ from ${name}_BASE_URL (WeChat: ${wechatBackup})`,
      );
    }
    return [main, backup] as const;
  };
  const [wechatPayBaseUrl, wechatPayBackupBaseUrl] = domains(
    'MINIPAY_WECHATPAY',
    WECHATPAY_BASE_URL,
    WECHATPAY_BACKUP_BASE_URL,
  );
  const [wechatApiBaseUrl, wechatApiBackupBaseUrl] = domains(
    'MINIPAY_WECHAT_API',
    WECHAT_API_BASE_URL,
    WECHAT_API_BACKUP_BASE_URL,
  );
  const refundAccount = get('MINIPAY_REFUND_ACCOUNT');
  if (refundAccount !== undefined && !REFUND_ACCOUNTS.includes(refundAccount)) {
    problems.push(`MINIPAY_REFUND_ACCOUNT must be ${REFUND_ACCOUNTS.join(' or ')}`);
  }
  const adminToken = get('MINIPAY_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push(
      'MINIPAY_ADMIN_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 24`)',
    );
  }
  const metricsToken = get('MINIPAY_METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) {
    problems.push(
      'MINIPAY_METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 24`)',
    );
  }
  const logLevel = get('MINIPAY_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`MINIPAY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const databaseUrl = get('MINIPAY_DATABASE_URL') ?? 'sqlite:./data/minipay.sqlite';
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    problems.push(
      'MINIPAY_DATABASE_URL must be sqlite:<file> or postgres://user:pass@host:5432/db',
    );
  }
  const migrate = get('MINIPAY_MIGRATE') ?? 'auto';
  if (migrate !== 'auto' && migrate !== 'off') {
    problems.push(
      `MINIPAY_MIGRATE must be auto (start-up migrates the database) or off (run \`minipay migrate\` before starting), got "${migrate}"`,
    );
  }
  const host = get('MINIPAY_HOST') ?? '127.0.0.1';
  const crashAt = get('MINIPAY_CRASH_AT');
  if (crashAt !== undefined && !(CRASH_POINTS as readonly string[]).includes(crashAt)) {
    problems.push(
      `MINIPAY_CRASH_AT (a reliability-test hook; leave it unset) must be one of ${CRASH_POINTS.join(', ')}`,
    );
  }
  const { webhookUrls, webhookSecrets } = webhookConfig(get, problems);
  const push = pushConfig(get, problems);
  const subscribe = subscribeConfig(get, problems);
  const certificate = clientCertificate(get, mode === 'live', problems);
  const wechatPayCaFile = get('MINIPAY_WECHATPAY_CA_FILE');
  if (wechatPayCaFile !== undefined && !isFile(wechatPayCaFile)) {
    problems.push(`MINIPAY_WECHATPAY_CA_FILE: no file at ${wechatPayCaFile}`);
  }

  const config: Config = {
    mode,
    host,
    port: int('MINIPAY_PORT', 8080, 0, 65535),
    databaseUrl,
    migrate: migrate === 'off' ? 'off' : 'auto',
    merchant,
    wechatpayApi: api === 'v3' ? 'v3' : 'v2',
    wechatpayV3,
    signType: signType as SignType,
    notifyBaseUrl,
    wechatPayBaseUrl,
    wechatPayBackupBaseUrl,
    wechatApiBaseUrl,
    wechatApiBackupBaseUrl,
    wechatPayCaFile,
    clientCertificate: certificate,
    refundAccount: REFUND_ACCOUNTS.includes(refundAccount ?? '')
      ? (refundAccount!.slice('REFUND_SOURCE_'.length) as Config['refundAccount'])
      : undefined,
    adminToken,
    metricsToken,
    orderTtlSeconds: int('MINIPAY_ORDER_TTL_SECONDS', 1800, 300, 7200),
    storeName: get('MINIPAY_STORE_NAME') ?? 'minipay',
    gatewayTimeoutMs: int('MINIPAY_GATEWAY_TIMEOUT_MS', 10_000, 100, 60_000),
    jobIntervalSeconds: int('MINIPAY_JOB_INTERVAL_SECONDS', 30, 1, 3600),
    logLevel,
    trustProxy: trustProxy(get('MINIPAY_TRUST_PROXY'), problems),
    webhookUrls,
    webhookSecrets,
    rateLimits: {
      loginPerMinute: int('MINIPAY_RATE_LIMIT_LOGIN', 60, 0, 100_000),
      adminFailuresPerMinute: int('MINIPAY_RATE_LIMIT_ADMIN_FAILURES', 20, 0, 100_000),
      orderActionsPerMinute: int('MINIPAY_RATE_LIMIT_ORDERS', 30, 0, 100_000),
    },
    syncIntervalSeconds: int('MINIPAY_SYNC_INTERVAL_SECONDS', 3, 0, 300),
    sessionsPerUser: int('MINIPAY_SESSIONS_PER_USER', 10, 1, 1000),
    requestTimeoutSeconds: int('MINIPAY_REQUEST_TIMEOUT_SECONDS', 30, 1, 300),
    keepAliveSeconds: int('MINIPAY_KEEP_ALIVE_SECONDS', 30, 1, 600),
    push,
    subscribe,
    shutdownDrainSeconds: int('MINIPAY_SHUTDOWN_DRAIN_SECONDS', 0, 0, 300),
    ...overrides,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** MINIPAY_PUSH_TOKEN, MINIPAY_PUSH_ENCODING_AES_KEY and MINIPAY_PUSH_FORMAT, checked together. */
function pushConfig(
  get: (name: string) => string | undefined,
  problems: string[],
): PushConfig | undefined {
  const token = get('MINIPAY_PUSH_TOKEN');
  const encodingAesKey = get('MINIPAY_PUSH_ENCODING_AES_KEY');
  const format = get('MINIPAY_PUSH_FORMAT') ?? 'json';
  if (format !== 'json' && format !== 'xml') {
    problems.push(
      `MINIPAY_PUSH_FORMAT must be json or xml (the push page's 数据格式), got "${format}"`,
    );
  }
  if (token === undefined) {
    if (encodingAesKey !== undefined) {
      problems.push('MINIPAY_PUSH_ENCODING_AES_KEY is set without MINIPAY_PUSH_TOKEN: set both');
    }
    return undefined;
  }
  if (!/^[A-Za-z0-9]{3,32}$/.test(token)) {
    problems.push('MINIPAY_PUSH_TOKEN must be the push Token: 3 to 32 letters and digits');
  }
  if (encodingAesKey !== undefined && !/^[A-Za-z0-9]{43}$/.test(encodingAesKey)) {
    problems.push(
      'MINIPAY_PUSH_ENCODING_AES_KEY must be the 43 letters and digits of the push page',
    );
  }
  return { token, encodingAesKey, format: format === 'xml' ? 'xml' : 'json' };
}

/** MINIPAY_SUBSCRIBE_{PAID,REFUND}_{TEMPLATE,FIELDS}, _PAGE and _STATE, checked together. */
function subscribeConfig(
  get: (name: string) => string | undefined,
  problems: string[],
): SubscribeConfig | undefined {
  const template = (kind: 'PAID' | 'REFUND', allowed: readonly string[]) => {
    const id = get(`MINIPAY_SUBSCRIBE_${kind}_TEMPLATE`);
    const fields = get(`MINIPAY_SUBSCRIBE_${kind}_FIELDS`);
    if (id === undefined && fields === undefined) return undefined;
    if (id === undefined || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) {
      problems.push(
        `MINIPAY_SUBSCRIBE_${kind}_TEMPLATE must be the template id of the mini program admin (订阅消息)`,
      );
      return undefined;
    }
    const mapping: Record<string, string> = {};
    for (const pair of (fields ?? '').split(',').filter((p) => p.trim() !== '')) {
      const [key = '', value = ''] = pair.split('=').map((x) => x.trim());
      if (!/^[a-z_]+[0-9]{1,3}$/.test(key) || !allowed.includes(value)) {
        problems.push(
          `MINIPAY_SUBSCRIBE_${kind}_FIELDS: "${pair.slice(0, 40)}" must be key=value with a template key (thing3) and one of ${allowed.join(', ')}`,
        );
        continue;
      }
      mapping[key] = value;
    }
    if (Object.keys(mapping).length === 0) {
      problems.push(
        `MINIPAY_SUBSCRIBE_${kind}_FIELDS must map the template's keys, e.g. thing3=productName,amount2=totalFen`,
      );
    }
    return { templateId: id, fields: mapping };
  };
  const paid = template(
    'PAID',
    SUBSCRIBE_VALUES.filter((v) => !v.startsWith('refund')),
  );
  const refunded = template('REFUND', SUBSCRIBE_VALUES);
  const page = get('MINIPAY_SUBSCRIBE_PAGE');
  if (page !== undefined && !/^[A-Za-z0-9_\-./]{1,512}$/.test(page)) {
    problems.push(
      'MINIPAY_SUBSCRIBE_PAGE must be a page path of the mini program, e.g. pages/orders/index',
    );
  }
  const state = get('MINIPAY_SUBSCRIBE_STATE');
  if (state !== undefined && !['developer', 'trial', 'formal'].includes(state)) {
    problems.push('MINIPAY_SUBSCRIBE_STATE must be developer, trial or formal');
  }
  if (!paid && !refunded) return undefined;
  return {
    ...(paid && { paid }),
    ...(refunded && { refunded }),
    ...(page && { page }),
    ...(state && { miniprogramState: state as SubscribeConfig['miniprogramState'] }),
  };
}

/** Where the merchant API client certificate is: PEM files, or a PKCS#12 and its password. */
export type ClientCertificateFiles =
  | { certFile: string; keyFile: string }
  | { p12File: string; p12Password: string | undefined };

/**
 * MINIPAY_MCH_CERT_FILE + MINIPAY_MCH_KEY_FILE, or MINIPAY_MCH_P12_FILE (+ MINIPAY_MCH_P12_PASSWORD,
 * WeChat's being the merchant number): files that must exist, one form, merchants only.
 */
function clientCertificate(
  get: (name: string) => string | undefined,
  live: boolean,
  problems: string[],
): ClientCertificateFiles | undefined {
  const certFile = get('MINIPAY_MCH_CERT_FILE');
  const keyFile = get('MINIPAY_MCH_KEY_FILE');
  const p12File = get('MINIPAY_MCH_P12_FILE');
  const p12Password = get('MINIPAY_MCH_P12_PASSWORD');
  if (get('MINIPAY_WECHATPAY_API') === 'v3') {
    // APIv3 signs with the same files (apiclient_key.pem as MINIPAY_MCH_PRIVATE_KEY_FILE) and
    // checks them itself; the certificate file is optional there, so is mutual TLS.
    const key = keyFile ?? get('MINIPAY_MCH_PRIVATE_KEY_FILE');
    if (certFile !== undefined && key !== undefined) return { certFile, keyFile: key };
    return p12File === undefined ? undefined : { p12File, p12Password };
  }
  const given = [certFile, keyFile, p12File, p12Password].some((v) => v !== undefined);
  if (!given) return undefined;
  const before = problems.length;
  if (!live) {
    problems.push(
      'MINIPAY_MCH_CERT_FILE, MINIPAY_MCH_KEY_FILE and MINIPAY_MCH_P12_FILE go with the merchant variables (demo mode uses none)',
    );
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push(
      'MINIPAY_MCH_CERT_FILE and MINIPAY_MCH_KEY_FILE go together: apiclient_cert.pem and apiclient_key.pem from the merchant platform',
    );
  }
  if (p12File !== undefined && (certFile !== undefined || keyFile !== undefined)) {
    problems.push(
      'give the merchant API certificate once: MINIPAY_MCH_CERT_FILE + MINIPAY_MCH_KEY_FILE, or MINIPAY_MCH_P12_FILE, not both',
    );
  }
  if (p12Password !== undefined && p12File === undefined) {
    problems.push('MINIPAY_MCH_P12_PASSWORD is the password of MINIPAY_MCH_P12_FILE: set that too');
  }
  const files = {
    MINIPAY_MCH_CERT_FILE: certFile,
    MINIPAY_MCH_KEY_FILE: keyFile,
    MINIPAY_MCH_P12_FILE: p12File,
  };
  for (const [name, file] of Object.entries(files)) {
    if (file !== undefined && !isFile(file)) problems.push(`${name}: no file at ${file}`);
  }
  if (problems.length > before) return undefined;
  return p12File !== undefined
    ? { p12File, p12Password }
    : { certFile: certFile!, keyFile: keyFile! };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Names proxy-addr (Fastify's trustProxy) takes for well-known ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * MINIPAY_TRUST_PROXY: unset, `0` or `false` → off; else a comma list of the proxies' addresses,
 * CIDR ranges or range names. Refused: `true` (every hop) and a hop count, which cannot tell a
 * proxy from a client that connects directly: either lets any client choose its address (the
 * per-address rate limits and WeChat's spbill_create_ip), so Fastify fails closed on a count.
 */
function trustProxy(value: string | undefined, problems: string[]): false | string[] {
  if (value === undefined || value === '0' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true' || /^[0-9]+$/.test(value)) {
    problems.push(
      `MINIPAY_TRUST_PROXY=${value} would believe X-Forwarded-For from whoever connects, so a client could choose its own address (rate limits, WeChat's spbill_create_ip): give the proxies' addresses instead, e.g. 127.0.0.1 for nginx on this machine, 10.0.0.5,10.0.1.0/24 or loopback`,
    );
    return false;
  }
  const list = value.split(',').map((x) => x.trim());
  const bad = list.filter((x) => !PROXY_RANGE_NAMES.includes(x) && !isAddressOrRange(x));
  if (bad.length > 0) {
    problems.push(
      `MINIPAY_TRUST_PROXY must be a comma list of proxy addresses, CIDR ranges or ${PROXY_RANGE_NAMES.join(' / ')}; not one: ${bad.map((x) => JSON.stringify(x.slice(0, 50))).join(', ')}`,
    );
    return false;
  }
  return list;
}

function isAddressOrRange(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

const MAX_WEBHOOK_URLS = 10;
const MIN_WEBHOOK_SECRET = 16;

/** MINIPAY_WEBHOOK_URLS (or _URL) and MINIPAY_WEBHOOK_SECRET, checked together. */
function webhookConfig(
  get: (name: string) => string | undefined,
  problems: string[],
): { webhookUrls: string[]; webhookSecrets: string[] } {
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  const many = get('MINIPAY_WEBHOOK_URLS');
  const one = get('MINIPAY_WEBHOOK_URL');
  if (many !== undefined && one !== undefined) {
    problems.push('set MINIPAY_WEBHOOK_URLS or MINIPAY_WEBHOOK_URL, not both');
  }
  const webhookUrls = [...new Set(list(many ?? one))];
  for (const u of webhookUrls) {
    const shown = redactUrl(u).slice(0, 100);
    if (!/^https?:\/\/[^\s,]+$/.test(u) || !URL.canParse(u)) {
      problems.push(`MINIPAY_WEBHOOK_URLS: "${shown}" is not an http(s) URL`);
    } else if (new URL(u).username || new URL(u).password) {
      problems.push(
        `MINIPAY_WEBHOOK_URLS: "${shown}" has a user:password@ part, which fetch cannot send; take it out (receivers check the Minipay-Signature header; a token can go in the path or query)`,
      );
    }
  }
  if (webhookUrls.length > MAX_WEBHOOK_URLS) {
    problems.push(`MINIPAY_WEBHOOK_URLS: at most ${MAX_WEBHOOK_URLS} URLs`);
  }
  const webhookSecrets = list(get('MINIPAY_WEBHOOK_SECRET'));
  if (webhookUrls.length > 0 && webhookSecrets.length === 0) {
    problems.push(
      'MINIPAY_WEBHOOK_SECRET is not set: webhooks are signed; set a random secret of at least 16 characters (e.g. `openssl rand -hex 32`) and give it to the receivers',
    );
  }
  if (webhookSecrets.length > 2) {
    problems.push('MINIPAY_WEBHOOK_SECRET: at most two secrets (the new one, then the old one)');
  }
  if (webhookSecrets.some((x) => x.length < MIN_WEBHOOK_SECRET)) {
    problems.push(
      `MINIPAY_WEBHOOK_SECRET must be at least ${MIN_WEBHOOK_SECRET} characters per secret`,
    );
  }
  return { webhookUrls, webhookSecrets };
}

function isLoopback(url: string): boolean {
  return URL.canParse(url) && LOOPBACK.test(new URL(url).hostname);
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (k.startsWith('MINIPAY_') && v !== undefined) out[k] = v;
  return out;
}

function fileValues(path: string | undefined): Record<string, string> {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([
      `MINIPAY_CONFIG: cannot read ${path} as JSON (${(err as Error).message})`,
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`MINIPAY_CONFIG: ${path} must hold a JSON object of MINIPAY_* keys`]);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!k.startsWith('MINIPAY_'))
      throw new ConfigError([`MINIPAY_CONFIG: unknown key "${k}" in ${path}`]);
    out[k] = String(v);
  }
  return out;
}
