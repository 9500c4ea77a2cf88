/**
 * Message push (消息推送) from the sandbox, playing WeChat, to the merchant's event URL: the
 * URL check WeChat runs when the configuration is saved (GET with `echostr`), and each push
 * (POST), signed and, with an EncodingAESKey, encrypted in safe mode, built by the protocol
 * layer's `buildPush`. A push is accepted when the merchant answers 200 with `success` or an
 * empty body; otherwise WeChat retries, three times (the push page's "总共重试三次").
 * Every push is recorded with its outcome (`GET /sandbox/v1/pushes`).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  buildPush,
  checkPushConfig,
  type PushFormat,
  pushUrlCheck,
} from '../../miniprogram-api/push.js';
import type { SandboxCore } from '../core.js';
import type { PushRow, PushStatus } from '../state/platform-store.js';

export interface PushSettings {
  url: string;
  /** The push Token, 3..32 letters and digits. */
  token: string;
  /** With it, safe mode (encrypted); without, plain mode. */
  encodingAesKey?: string;
  format: PushFormat;
}

/** One delivery plus WeChat's three retries. */
export const PUSH_ATTEMPTS = 4;
const REPLY_LOG_CHARS = 256;
const PUSH_SETTINGS_KEY = 'pushSettings';

export class PushUrlCheckError extends Error {
  override readonly name = 'PushUrlCheckError';
}

export class PushSender {
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly core: SandboxCore) {
    this.agent = new Agent({ connect: { timeout: core.config.notifyTimeoutMs } });
  }

  settings(): PushSettings | undefined {
    const stored = this.core.state.getMeta(PUSH_SETTINGS_KEY);
    return stored ? (JSON.parse(stored) as PushSettings) : undefined;
  }

  /** Saves the configuration after WeChat's URL check passes, as the admin console does. */
  async configure(settings: PushSettings): Promise<void> {
    checkPushConfig({ ...settings, appId: this.core.credentials.appId });
    const query = pushUrlCheck(settings.token, {
      timestamp: Math.floor(this.core.clock.now() / 1000),
      nonce: String(randomBytes(4).readUInt32BE()),
      echostr: randomBytes(9).readBigUInt64BE().toString(),
    });
    let answer: string;
    try {
      const res = await request(`${settings.url}?${new URLSearchParams(query)}`, {
        method: 'GET',
        dispatcher: this.agent,
        headersTimeout: this.core.config.notifyTimeoutMs,
        bodyTimeout: this.core.config.notifyTimeoutMs,
      });
      answer = (await res.body.text()).trim();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    } catch (err) {
      throw new PushUrlCheckError(`the URL check failed: ${(err as Error).message}`);
    }
    if (answer !== query.echostr) {
      throw new PushUrlCheckError(
        `the URL check failed: the server answered ${JSON.stringify(answer.slice(0, 64))}, not the echostr`,
      );
    }
    this.core.state.setMeta(PUSH_SETTINGS_KEY, JSON.stringify(settings));
  }

  /** Records and sends a push (in the background; `idle()` waits for it). */
  send(event: string, transactionId: string | null, message: Record<string, unknown>): number {
    const settings = this.settings();
    const id = this.core.state.platform.insertPush({
      event,
      transaction_id: transactionId,
      message: JSON.stringify(message),
      url: settings?.url ?? null,
      status: settings ? 'pending' : 'unconfigured',
      attempts: 0,
      http_status: null,
      reply: null,
      error: settings ? null : 'no event URL is configured (POST /sandbox/v1/push-config)',
      created_at: this.core.clock.now(),
    });
    if (settings && !this.closed) {
      const running = this.deliver(id, message, settings).finally(() =>
        this.inFlight.delete(running),
      );
      this.inFlight.add(running);
    }
    return id;
  }

  pushes(): PushRow[] {
    return this.core.state.platform.pushes();
  }

  /** Resolves when every push under way has ended. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    await this.agent.close();
  }

  private async deliver(
    id: number,
    message: Record<string, unknown>,
    settings: PushSettings,
  ): Promise<void> {
    let last: {
      status: PushStatus;
      http: number | null;
      reply: string | null;
      error: string | null;
    } = { status: 'failed', http: null, reply: null, error: null };
    let attempt = 0;
    while (attempt < PUSH_ATTEMPTS && !this.closed) {
      attempt++;
      last = await this.attempt(message, settings);
      if (last.status === 'delivered') break;
    }
    this.core.state.platform.updatePush(id, {
      status: last.status,
      attempts: attempt,
      http_status: last.http,
      reply: last.reply,
      error: last.error,
    });
  }

  private async attempt(message: Record<string, unknown>, settings: PushSettings) {
    const built = buildPush(message, {
      ...settings,
      appId: this.core.credentials.appId,
      timestamp: Math.floor(this.core.clock.now() / 1000),
      nonce: String(randomBytes(4).readUInt32BE()),
      openid: typeof message.FromUserName === 'string' ? message.FromUserName : undefined,
    });
    try {
      const res = await request(`${settings.url}?${new URLSearchParams(built.query)}`, {
        method: 'POST',
        body: built.body,
        headers: { 'content-type': built.contentType },
        dispatcher: this.agent,
        headersTimeout: this.core.config.notifyTimeoutMs,
        bodyTimeout: this.core.config.notifyTimeoutMs,
      });
      const reply = (await res.body.text()).slice(0, REPLY_LOG_CHARS);
      const accepted = res.statusCode === 200 && ['', 'success'].includes(reply.trim());
      return {
        status: accepted ? ('delivered' as const) : ('failed' as const),
        http: res.statusCode,
        reply,
        error: null,
      };
    } catch (err) {
      return { status: 'failed' as const, http: null, reply: null, error: (err as Error).message };
    }
  }
}
