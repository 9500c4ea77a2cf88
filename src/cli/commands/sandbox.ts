/**
 * `minipay sandbox`: runs the local WeChat simulator until SIGINT/SIGTERM, printing the
 * credentials and URLs a merchant server needs to use it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import {
  PLATFORM_MODES,
  type PlatformMode,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
} from '../../sandbox/index.js';
import { type Command, UsageError, untilStopSignal } from '../command.js';

const usage = `Usage: minipay sandbox [options]

Runs a local simulator of WeChat's side of mini program payments: jscode2session, the
APIv2 and APIv3 pay endpoints, the user's wx.requestPayment (and a cashier page), payment and refund
notifications on WeChat's retry schedule, bills and fault injection. See docs/sandbox.md.

Options:
  --port N                 port to listen on (default 0: any free port)
  --backup-port N          also serve the backup domain (api2.mch.weixin.qq.com) here,
                           over the same state (0: any free port)
  --host H                 interface to listen on (default 127.0.0.1)
  --appid A                mini program AppID       (default: the demo credentials)
  --appsecret S            mini program AppSecret
  --mchid M                WeChat Pay merchant number
  --mch-key K              APIv2 key (32 letters or digits)
  --api-v3-key K           APIv3 key (32 letters or digits)
  --mch-serial S           the merchant API certificate serial (APIv3 serial_no)
  --mch-public-key F       the merchant API certificate or public key, PEM: verifies every
                           v3 request and RSA paySign (without it and --mch-serial the
                           sandbox generates a demo merchant key: GET /sandbox/v1/v3/merchant)
  --platform-mode M        public_key (default), certificate or both: how WeChat signs
  --time-scale X           divide WeChat's notify schedule and refund delay by X (default 1)
  --seed N                 seed for fault injection (default: random, printed)
  --state-file F           keep state in this SQLite file across restarts (default: memory)
  --refund-notify-url U    refund notify URL "set in the merchant portal"
  --close-min-age-ms N     closeorder refuses trades younger than N ms of WeChat time
                           (default 300000, WeChat's 5 minutes, divided by --time-scale; 0: off)
  --refund-interval-ms N   refunds of one trade at least N ms of WeChat time apart
                           (default 60000, WeChat's minute, divided by --time-scale; 0: off)
  --notify-timeout-ms N    how long the merchant has to answer a notification (default 5000)
  --tls-cert F --tls-key F serve HTTPS with this PEM certificate and key
  --client-ca F            with HTTPS: /secapi/pay/refund requires a client certificate
                           signed by this PEM CA (like WeChat's merchant API certificate)
  -h, --help               show this help

Example:
  minipay sandbox --port 8091 --time-scale 60 --state-file ./sandbox.sqlite`;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value))
    throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

/** Turns the command line into sandbox options (throws UsageError on a bad one). */
export function sandboxOptions(argv: string[]): SandboxOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'backup-port': { type: 'string' },
        host: { type: 'string' },
        appid: { type: 'string' },
        appsecret: { type: 'string' },
        mchid: { type: 'string' },
        'mch-key': { type: 'string' },
        'api-v3-key': { type: 'string' },
        'mch-serial': { type: 'string' },
        'mch-public-key': { type: 'string' },
        'platform-mode': { type: 'string' },
        'time-scale': { type: 'string' },
        seed: { type: 'string' },
        'state-file': { type: 'string' },
        'refund-notify-url': { type: 'string' },
        'close-min-age-ms': { type: 'string' },
        'refund-interval-ms': { type: 'string' },
        'notify-timeout-ms': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'client-ca': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const str = (name: string) => values[name] as string | undefined;
  const port = integer('port', str('port'));
  if (port !== undefined && port > 65535) throw new UsageError('--port must be 0 to 65535');
  const backupPort = integer('backup-port', str('backup-port'));
  if (backupPort !== undefined && backupPort > 65535) {
    throw new UsageError('--backup-port must be 0 to 65535');
  }
  let timeScale: number | undefined;
  if (str('time-scale') !== undefined) {
    timeScale = Number(str('time-scale'));
    if (!(Number.isFinite(timeScale) && timeScale > 0)) {
      throw new UsageError(`--time-scale must be a number above 0, got "${str('time-scale')}"`);
    }
  }
  if (Boolean(str('tls-cert')) !== Boolean(str('tls-key'))) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (str('client-ca') && !str('tls-cert')) {
    throw new UsageError('--client-ca needs HTTPS: give --tls-cert and --tls-key too');
  }
  const tlsCert = str('tls-cert');
  const tlsKey = str('tls-key');
  const clientCa = str('client-ca');
  return {
    ...(tlsCert && tlsKey
      ? {
          tls: {
            cert: readPem('tls-cert', tlsCert),
            key: readPem('tls-key', tlsKey),
            ...(clientCa ? { clientCa: readPem('client-ca', clientCa) } : {}),
          },
        }
      : {}),
    host: str('host'),
    port,
    backupPort,
    credentials: {
      appId: str('appid'),
      appSecret: str('appsecret'),
      mchId: str('mchid'),
      mchKey: str('mch-key'),
      apiV3Key: str('api-v3-key'),
    },
    v3: v3Options(str),
    timeScale,
    seed: integer('seed', str('seed')),
    stateFile: str('state-file'),
    refundNotifyUrl: str('refund-notify-url'),
    closeMinAgeMs: integer('close-min-age-ms', str('close-min-age-ms')),
    refundIntervalMs: integer('refund-interval-ms', str('refund-interval-ms')),
    notifyTimeoutMs: integer('notify-timeout-ms', str('notify-timeout-ms')),
  };
}

function v3Options(str: (name: string) => string | undefined): SandboxOptions['v3'] {
  const mode = str('platform-mode');
  if (mode !== undefined && !(PLATFORM_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--platform-mode must be one of ${PLATFORM_MODES.join(', ')}`);
  }
  const serial = str('mch-serial');
  const keyFile = str('mch-public-key');
  if (Boolean(serial) !== Boolean(keyFile)) {
    throw new UsageError(
      '--mch-serial and --mch-public-key go together (the serial names that key)',
    );
  }
  return {
    platformMode: mode as PlatformMode | undefined,
    mchSerial: serial,
    mchPublicKey: keyFile ? readPem('mch-public-key', keyFile) : undefined,
  };
}

function readPem(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(
      `cannot read --${name} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

function banner(sandbox: Sandbox, options: SandboxOptions): string {
  const c = sandbox.credentials;
  const u = sandbox.url;
  return [
    'minipay sandbox: a local WeChat Pay simulator',
    `  listening on ${u}`,
    ...(sandbox.backupUrl
      ? [`  backup domains (api2.weixin.qq.com, api2.mch.weixin.qq.com) on ${sandbox.backupUrl}`]
      : []),
    '',
    'Point your merchant server at it (minipay start reads these):',
    `  MINIPAY_WECHAT_API_BASE_URL=${u}    # instead of https://api.weixin.qq.com`,
    `  MINIPAY_WECHATPAY_BASE_URL=${u}     # instead of https://api.mch.weixin.qq.com`,
    ...(sandbox.backupUrl
      ? [
          `  MINIPAY_WECHAT_API_BACKUP_BASE_URL=${sandbox.backupUrl}  # instead of https://api2.weixin.qq.com`,
          `  MINIPAY_WECHATPAY_BACKUP_BASE_URL=${sandbox.backupUrl}   # instead of https://api2.mch.weixin.qq.com`,
        ]
      : []),
    `  MINIPAY_APPID=${c.appId}`,
    `  MINIPAY_APPSECRET=${c.appSecret}`,
    `  MINIPAY_MCHID=${c.mchId}`,
    `  MINIPAY_MCH_KEY=${c.mchKey}`,
    'For APIv3 (MINIPAY_WECHATPAY_API=v3), platform mode ' + sandbox.v3Platform().mode + ':',
    `  MINIPAY_API_V3_KEY=${c.apiV3Key}`,
    ...(sandbox.demoMerchant
      ? [
          `  MINIPAY_MCH_CERT_SERIAL=${sandbox.demoMerchant.serialNo}`,
          `  MINIPAY_MCH_PRIVATE_KEY_FILE=<privateKeyPem of GET ${u}/sandbox/v1/v3/merchant, saved>`,
        ]
      : []),
    `  MINIPAY_WECHATPAY_PUBLIC_KEY_ID=${sandbox.v3Platform().publicKeyId}`,
    `  MINIPAY_WECHATPAY_PUBLIC_KEY_FILE=<publicKeyPem of GET ${u}/sandbox/v1/v3/platform, saved>`,
    '',
    'Play the user:',
    `  POST ${u}/sandbox/v1/login-code       wx.login → a code for jscode2session`,
    `  POST ${u}/sandbox/v1/pay              wx.requestPayment with the payment parameters`,
    `  GET  ${u}/sandbox/v1/cashier?…        the same, as a page with Pay and Cancel`,
    'Inspect and steer:',
    `  GET  ${u}/sandbox/v1/notifications    every notification and delivery attempt`,
    `  GET  ${u}/sandbox/v1/trades/<out_trade_no>`,
    `  POST ${u}/sandbox/v1/faults           drop, duplicate, delay, reorder, SYSTEMERROR, timeouts,`,
    '                                          err_codes, a failing main domain',
    '',
    `Time scale ${options.timeScale ?? 1} · fault seed ${sandbox.faults().seed} · state ${options.stateFile ?? 'in memory (lost on exit)'}`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'Run the local WeChat Pay simulator (login, pay, notifications, refunds, faults)',
  usage,
  async run(argv) {
    const options = sandboxOptions(argv);
    const logger = pino({ level: process.env.MINIPAY_LOG_LEVEL ?? 'info' }, pino.destination(2));
    let sandbox: Sandbox;
    try {
      sandbox = await startSandbox({ ...options, logger });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason =
        e.code === 'EADDRINUSE'
          ? `port ${options.port} is in use; pick another with --port`
          : e.message;
      process.stderr.write(`minipay sandbox: could not start: ${reason}\n`);
      return 1;
    }
    process.stdout.write(banner(sandbox, options));
    await untilStopSignal();
    process.stderr.write('minipay sandbox: stopping\n');
    await sandbox.close();
    return 0;
  },
};
