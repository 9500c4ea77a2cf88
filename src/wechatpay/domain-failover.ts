/**
 * WeChat Pay's two API domains (api.mch.weixin.qq.com and the backup api2.mch.weixin.qq.com):
 * a request whose exchange is lost (timeout, network) or answered 5xx goes once to the other
 * domain, and the backup stays first for a while after that, as WeChat's own SDKs do.
 * Shared by the APIv2 and APIv3 clients.
 */
import { WechatPayError } from './errors.js';

/** One request moved to the other domain after its exchange failed. */
export interface FailoverEvent {
  /** The API path, e.g. `/pay/orderquery`, without its query string. */
  path: string;
  /** The base URL that failed and the one the request went to. */
  from: string;
  to: string;
  /** Why: `TIMEOUT`, `NETWORK` or `HTTP_5xx`. */
  reason: string;
}

/** WeChat's own Java SDK goes back to the main domain 3 minutes after switching away. */
export const FAILOVER_HOLD_MS = 3 * 60_000;

export class DomainFailover {
  /** Until when the backup domain is tried first (ms since the epoch). */
  private preferBackupUntil = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly backupBaseUrl: string | undefined,
    private readonly holdMs = FAILOVER_HOLD_MS,
    private readonly onFailover?: (event: FailoverEvent) => void,
  ) {}

  /** Sends to the preferred domain, and once more to the other when that exchange fails. */
  async send<T extends { status: number }>(
    path: string,
    send: (base: string) => Promise<T>,
    discard?: (res: T) => void,
  ): Promise<T> {
    const [first, second] = this.domains();
    let reason: string;
    try {
      const res = await send(first);
      if (res.status < 500 || second === undefined) return res;
      discard?.(res);
      reason = `HTTP_${res.status}`;
    } catch (err) {
      const lost =
        err instanceof WechatPayError && (err.code === 'TIMEOUT' || err.code === 'NETWORK');
      if (!lost || second === undefined) throw err;
      reason = err.code;
    }
    this.preferBackupUntil = first === this.baseUrl ? Date.now() + this.holdMs : 0;
    this.onFailover?.({ path: path.split('?')[0]!, from: first, to: second, reason });
    return send(second);
  }

  /** The domains to try, in order: the backup first while a recent failover holds. */
  private domains(): [string, string | undefined] {
    if (this.backupBaseUrl === undefined) return [this.baseUrl, undefined];
    return Date.now() < this.preferBackupUntil
      ? [this.backupBaseUrl, this.baseUrl]
      : [this.baseUrl, this.backupBaseUrl];
  }
}
