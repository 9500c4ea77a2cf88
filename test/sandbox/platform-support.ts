/**
 * Helpers for the sandbox's mini program platform: the protocol layer's client pointed at a
 * sandbox, and a merchant's event URL on loopback that answers the URL check and reads each
 * push with `readPush` (so a push that does not verify is recorded as refused).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import {
  MemoryTokenStore,
  MiniProgramClient,
  PUSH_ACK,
  type PushConfig,
  readPush,
  TokenManager,
  type VerifiedPush,
  verifyPushUrl,
} from '../../src/miniprogram-api/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { api } from './support.js';

export const PUSH_TOKEN = 'sandboxPushToken1';
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

export function platformClient(sandbox: Sandbox, store = new MemoryTokenStore()) {
  const tokens = new TokenManager({
    appId: sandbox.credentials.appId,
    appSecret: sandbox.credentials.appSecret,
    baseUrl: sandbox.url,
    store,
    now: () => Date.now(),
  });
  const client = new MiniProgramClient({
    appId: sandbox.credentials.appId,
    tokens,
    baseUrl: sandbox.url,
  });
  return { tokens, client };
}

/** POSTs JSON to a platform path as a raw call (for errcodes the client would refuse first). */
export async function platformCall(
  sandbox: Sandbox,
  path: string,
  body: unknown,
  accessToken?: string,
): Promise<Record<string, unknown>> {
  const query = accessToken ? `?access_token=${encodeURIComponent(accessToken)}` : '';
  const res = await fetch(`${sandbox.url}${path}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

export async function stableToken(sandbox: Sandbox, force = false): Promise<string> {
  const answer = await platformCall(sandbox, '/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: sandbox.credentials.appId,
    secret: sandbox.credentials.appSecret,
    force_refresh: force,
  });
  if (typeof answer.access_token !== 'string') throw new Error(JSON.stringify(answer));
  return answer.access_token;
}

/** A merchant event URL that reads pushes with the protocol layer. */
export class PushReceiver {
  readonly pushes: VerifiedPush[] = [];
  readonly refused: string[] = [];
  private readonly server: Server;

  private constructor(readonly config: PushConfig) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
        try {
          if (req.method === 'GET') {
            res.end(verifyPushUrl(query, this.config));
            return;
          }
          this.pushes.push(readPush(query, Buffer.concat(chunks), this.config));
          res.end(PUSH_ACK);
        } catch (err) {
          this.refused.push((err as Error).message);
          res.statusCode = 400;
          res.end('refused');
        }
      });
    });
  }

  static async start(t: TestContext, config: Partial<PushConfig> & { appId: string }) {
    const receiver = new PushReceiver({ token: PUSH_TOKEN, format: 'json', ...config });
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    t.after(() => {
      receiver.server.closeAllConnections();
      receiver.server.close();
    });
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/wechat/v1/events`;
  }

  /** Saves this receiver as the sandbox's push configuration (the URL check runs). */
  async register(sandbox: Sandbox): Promise<void> {
    const r = await api(sandbox, 'POST', '/sandbox/v1/push-config', {
      url: this.url,
      token: this.config.token,
      format: this.config.format,
      ...(this.config.encodingAesKey ? { encodingAesKey: this.config.encodingAesKey } : {}),
    });
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  }
}
