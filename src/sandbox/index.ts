/**
 * minipay's WeChat sandbox: a local, faithful simulator of the WeChat side of mini program
 * payments (login, APIv2 and APIv3 pay endpoints, the user's payment, notifications, refunds,
 * bills, faults). See docs/sandbox.md.
 *
 * ```ts
 * const sandbox = await startSandbox({ timeScale: 1000, seed: 7 });
 * // point the merchant's api.weixin.qq.com and api.mch.weixin.qq.com base URLs at sandbox.url
 * await sandbox.close();
 * ```
 */
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { SandboxClock } from './clock.js';
import { FaultSwitch, type SandboxConfig, type SandboxCore } from './core.js';
import { type Credentials, resolveCredentials } from './credentials.js';
import { CLOCK_OFFSET_KEY, type NotifyFormat, type ProbeResult, SandboxEngine } from './engine.js';
import type { Faults } from './faults.js';
import { buildSandboxApp, type SandboxApp, type SandboxTls } from './http/app.js';
import type { NotificationLogEntry } from './notifier.js';
import { WECHAT_NOTIFY_FORMAT } from './notify-format.js';
import type { PushSettings } from './platform/push-sender.js';
import type { PushRow } from './state/platform-store.js';
import { SandboxState } from './state/sandbox-state.js';
import type { UserPaymentRequest, UserPaymentResult } from './user-payment.js';
import {
  type DemoMerchant,
  type PlatformView,
  type V3MerchantOptions,
  V3Platform,
} from './v3-platform.js';
import type { RefundView, TradeView } from './views.js';

export { type Credentials, DEMO_CREDENTIALS } from './credentials.js';
export type { ProbeResult } from './engine.js';
export {
  DOMAIN_FAILURES,
  type DomainFailure,
  FAULT_ENDPOINTS,
  type FaultEndpoint,
  type Faults,
  type RefundOutcome,
} from './faults.js';
export type { SandboxTls } from './http/app.js';
export {
  NOTIFY_MAX_ATTEMPTS,
  NOTIFY_RETRY_INTERVALS_MS,
  type NotificationAttempt,
  type NotificationLogEntry,
} from './notifier.js';
export type { PushSettings } from './platform/push-sender.js';
export type { PushRow } from './state/platform-store.js';
export {
  UserPaymentError,
  type UserPaymentRequest,
  type UserPaymentResult,
} from './user-payment.js';
export {
  type DemoMerchant,
  PLATFORM_MODES,
  type PlatformMode,
  type PlatformView,
  type V3MerchantOptions,
} from './v3-platform.js';
export type { RefundView, TradeView } from './views.js';

export interface SandboxOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Also serve the backup domain (api2.mch.weixin.qq.com) on this port (0: any free one), over
   * the same state; `backupUrl` is its address. None when absent.
   */
  backupPort?: number;
  /** Overrides of the demo credentials. */
  credentials?: Partial<Credentials>;
  /** Divides WeChat's notify retry schedule and refund delay (1000: 24h4m of retries in 87 s). */
  timeScale?: number;
  /** Seeds fault injection (same as `faults.seed`). */
  seed?: number;
  /** Initial fault settings, merged like `setFaults`. */
  faults?: Partial<Faults>;
  /** SQLite file to keep state in across restarts; in memory when absent. */
  stateFile?: string;
  /** pino logger; silent by default. */
  logger?: Logger;
  /**
   * closeorder refuses trades younger than this WeChat time: default 300000 (WeChat's 5
   * minutes), divided by `timeScale`; 0 turns the rule off.
   */
  closeMinAgeMs?: number;
  /**
   * Least WeChat time between two refunds of one trade: default 60000 (WeChat's minute),
   * divided by `timeScale`; 0 turns the rule off.
   */
  refundIntervalMs?: number;
  /** How long a merchant has to answer a notification, real ms; default 5000. */
  notifyTimeoutMs?: number;
  /** The refund notify URL "set in the merchant portal", for refunds without `notify_url`. */
  refundNotifyUrl?: string;
  /**
   * Serve HTTPS with this certificate; with `clientCa`, `/secapi/pay/refund` also requires a
   * client certificate signed by it, as WeChat requires the merchant's API certificate.
   * Plain HTTP (no client certificate anywhere) when absent.
   */
  tls?: SandboxTls;
  /**
   * APIv3: the merchant's certificate serial and public key (PEM: its API certificate or the
   * key), and the platform mode. Without a key the sandbox generates demo merchant material.
   */
  v3?: V3MerchantOptions;
  /** Internal, for tests: how v2 notifications are built and replies judged. */
  notifyFormat?: NotifyFormat;
}

/** A running sandbox. */
export interface Sandbox {
  /** `http://host:port`: the base URL for api.weixin.qq.com and api.mch.weixin.qq.com paths. */
  readonly url: string;
  /** The backup domain's base URL (api2.mch.weixin.qq.com), with `backupPort`. */
  readonly backupUrl: string | undefined;
  /** The credentials it plays WeChat for. */
  readonly credentials: Readonly<Credentials>;
  /** Merges fault settings (validated; throws on a bad one) and returns the result. */
  setFaults(change: Partial<Faults>): Promise<Faults>;
  /** The current fault settings. */
  faults(): Faults;
  /** The delivery log: every notification and every attempt. */
  notifications(): NotificationLogEntry[];
  /** A one-time `wx.login` code (for a new user unless `openid` is given). */
  loginCode(openid?: string): { code: string; openid: string };
  /** Plays `wx.requestPayment`; throws UserPaymentError where WeChat would refuse. */
  pay(request: UserPaymentRequest): UserPaymentResult;
  /** A trade as the sandbox sees it, with its refunds. */
  trade(outTradeNo: string): TradeView | undefined;
  /** A refund as the sandbox sees it. */
  refund(outRefundNo: string): RefundView | undefined;
  /** WeChat's v3 public material: mode, public key, platform certificates. */
  v3Platform(): PlatformView;
  /** The generated merchant key, certificate and serial (undefined when `v3.mchPublicKey` was given). */
  readonly demoMerchant: DemoMerchant | undefined;
  /** Rotates the platform certificate (certificate and both modes). */
  rotateV3(): Promise<PlatformView>;
  /** Sends a signature probe to `url` (the merchant should refuse it). */
  probe(url: string): Promise<ProbeResult>;
  /** Moves sandbox time forward (prepay and code expiry, time_expire, bills). */
  advanceClock(ms: number): void;
  /**
   * Saves the message push configuration (the admin console's 消息推送 page), after WeChat's
   * URL check of `url` passes; rejects with the reason when it does not.
   */
  configurePush(settings: PushSettings): Promise<void>;
  /** Every push sent to the event URL so far, once those under way have ended. */
  pushes(): Promise<PushRow[]>;
  /** Stops timers and the server; pending deliveries are dropped (a state file keeps them). */
  close(): Promise<void>;
}

const DEFAULT_NOTIFY_TIMEOUT_MS = 5000;
/** WeChat: "订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟". */
const CLOSE_MIN_AGE_MS = 5 * 60_000;
/** WeChat: refunds of one order at least a minute apart. */
const REFUND_INTERVAL_MS = 60_000;
/** Notifications are built and replies judged with the protocol layer (notify-format.ts). */
const NOTIFY_FORMAT: NotifyFormat = WECHAT_NOTIFY_FORMAT;

/** Starts a sandbox and resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const config = resolveConfig(options);
  const credentials = resolveCredentials(options.credentials);
  const logger = options.logger ?? pino({ level: 'silent' });
  const state = new SandboxState(options.stateFile);
  let engine: SandboxEngine | undefined;
  try {
    checkMerchant(state, credentials, options.stateFile);
    const clock = new SandboxClock(Number(state.getMeta(CLOCK_OFFSET_KEY) ?? 0));
    const initialFaults =
      options.seed === undefined ? options.faults : { ...options.faults, seed: options.seed };
    const v3 = await V3Platform.load(state, credentials, options.v3 ?? {}, clock.now());
    const core: SandboxCore = {
      state,
      clock,
      credentials,
      config,
      faults: new FaultSwitch(state, initialFaults),
      v3,
    };
    engine = new SandboxEngine(core, options.notifyFormat ?? NOTIFY_FORMAT);
    const host = options.host ?? '127.0.0.1';
    const apps = [buildSandboxApp(engine, logger, options.tls)];
    if (options.backupPort !== undefined) {
      apps.push(buildSandboxApp(engine, logger.child({ domain: 'backup' }), options.tls, 'backup'));
    }
    const [url, backupUrl] = await listenAll(
      apps,
      host,
      [options.port ?? 0, options.backupPort],
      options.tls !== undefined,
    );
    engine.start();
    const running = engine;
    let closing: Promise<void> | undefined;
    return {
      url: url!,
      backupUrl,
      credentials: Object.freeze({ ...credentials }),
      setFaults: async (change) => running.setFaults(change),
      faults: () => core.faults.faults,
      notifications: () => running.notifications(),
      loginCode: (openid) => running.loginCode(openid),
      pay: (request) => running.pay(request),
      trade: (outTradeNo) => running.trade(outTradeNo),
      refund: (outRefundNo) => running.refund(outRefundNo),
      v3Platform: () => v3.view(),
      demoMerchant: v3.demoMerchant,
      rotateV3: () => running.rotateV3(),
      probe: (url) => running.probe(url),
      advanceClock: (ms) => running.advanceClock(ms),
      configurePush: (settings) => running.platform.pushes.configure(settings),
      pushes: async () => {
        await running.platform.pushes.idle();
        return running.platform.pushes.pushes();
      },
      close: () => {
        closing ??= (async () => {
          for (const { held } of apps) held.dropAll();
          await running.close();
          for (const { app } of apps) await app.close();
          state.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await engine?.close();
    state.close();
    throw err;
  }
}

/** Listens with each app on its port; resolves their base URLs (closing them all on failure). */
async function listenAll(
  apps: SandboxApp[],
  host: string,
  ports: (number | undefined)[],
  https: boolean,
): Promise<(string | undefined)[]> {
  const urls: (string | undefined)[] = [];
  try {
    for (const [i, { app }] of apps.entries()) {
      await app.listen({ host, port: ports[i] ?? 0 });
      const address = app.server.address() as AddressInfo;
      const name = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      urls.push(`${https ? 'https' : 'http'}://${name}:${address.port}`);
    }
  } catch (err) {
    for (const { app } of apps) await app.close();
    throw err;
  }
  return urls;
}

function resolveConfig(options: SandboxOptions): SandboxConfig {
  const timeScale = options.timeScale ?? 1;
  if (!(Number.isFinite(timeScale) && timeScale > 0 && timeScale <= 10_000_000)) {
    throw new RangeError('timeScale must be a number above 0 and at most 10000000 (1 = real time)');
  }
  const ms = (name: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`${name} must be a whole number of milliseconds ≥ 0`);
    return v;
  };
  const notifyTimeoutMs = ms('notifyTimeoutMs', options.notifyTimeoutMs, DEFAULT_NOTIFY_TIMEOUT_MS);
  if (notifyTimeoutMs === 0) throw new RangeError('notifyTimeoutMs must be above 0');
  if (
    options.refundNotifyUrl !== undefined &&
    !/^https?:\/\/[^?]+$/.test(options.refundNotifyUrl)
  ) {
    throw new RangeError('refundNotifyUrl must be an http(s) URL without a query string');
  }
  return {
    timeScale,
    closeMinAgeMs: ms('closeMinAgeMs', options.closeMinAgeMs, CLOSE_MIN_AGE_MS),
    refundIntervalMs: ms('refundIntervalMs', options.refundIntervalMs, REFUND_INTERVAL_MS),
    notifyTimeoutMs,
    refundNotifyUrl: options.refundNotifyUrl,
  };
}

const MERCHANT_KEY = 'merchant';

/** A state file belongs to one merchant; starting it with another would hide every trade. */
function checkMerchant(
  state: SandboxState,
  credentials: Credentials,
  file: string | undefined,
): void {
  const merchant = `${credentials.appId}/${credentials.mchId}`;
  const stored = state.getMeta(MERCHANT_KEY);
  if (stored && stored !== merchant) {
    throw new Error(
      `state file ${file} belongs to ${stored} (appId/mchId); start with those credentials or use another file`,
    );
  }
  state.setMeta(MERCHANT_KEY, merchant);
}
