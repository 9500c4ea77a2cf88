/**
 * A loopback fake of api.weixin.qq.com for the client tests: stable_token with real token
 * rotation (normal mode returns the current token, force_refresh issues the next), a token
 * check on every other path, and per-path answers a test sets (errcodes, broken bodies,
 * hangs). It records every request.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export const FAKE_APP = {
  appId: 'wx5a5db0c000000001',
  appSecret: 'fakesecret000000000000000000001',
};

export interface FakeAnswer {
  status?: number;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (the client's deadline must fire). */
  hang?: boolean;
}

export interface FakeRequest {
  path: string;
  accessToken: string | undefined;
  body: Record<string, unknown>;
}

type Route = (body: Record<string, unknown>, request: FakeRequest) => FakeAnswer;

export class FakeWechat {
  readonly requests: FakeRequest[] = [];
  /** The token normal mode returns and every API accepts. */
  current = 'FAKE_TOKEN_1';
  expiresIn = 7200;
  private issued = 1;
  /** While set, every request waits for it before it is answered. */
  pause: Promise<void> | undefined;
  /** Answers by path; a path without one answers `{errcode:0, errmsg:'ok'}`. */
  readonly routes = new Map<string, Route>();
  private readonly server = createServer((req, res) => void this.handle(req, res));

  static async start(t: TestContext): Promise<FakeWechat> {
    const fake = new FakeWechat();
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    t.after(async () => {
      fake.server.closeAllConnections();
      await new Promise((r) => fake.server.close(r));
    });
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests to `path`. */
  to(path: string): FakeRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** stable_token calls, with their force_refresh. */
  get tokenCalls(): boolean[] {
    return this.to('/cgi-bin/stable_token').map((r) => r.body.force_refresh === true);
  }

  /** Someone else forces a refresh: the current token stops working. */
  rotate(): string {
    this.issued++;
    this.current = `FAKE_TOKEN_${this.issued}`;
    return this.current;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      body = {};
    }
    const request: FakeRequest = {
      path: url.pathname,
      accessToken: url.searchParams.get('access_token') ?? undefined,
      body,
    };
    this.requests.push(request);
    if (this.pause) await this.pause;
    const answer = this.answer(request);
    if (answer.hang) return;
    const payload =
      typeof answer.body === 'string' || Buffer.isBuffer(answer.body)
        ? answer.body
        : JSON.stringify(answer.body ?? { errcode: 0, errmsg: 'ok' });
    res.writeHead(answer.status ?? 200, {
      'content-type': 'application/json; charset=utf-8',
      ...answer.headers,
    });
    res.end(payload);
  }

  private answer(request: FakeRequest): FakeAnswer {
    const route = this.routes.get(request.path);
    if (request.path === '/cgi-bin/stable_token') {
      return route ? route(request.body, request) : this.stableToken(request.body);
    }
    if (request.accessToken !== this.current) {
      return {
        body: {
          errcode: 40001,
          errmsg: 'invalid credential, access_token is invalid or not latest',
        },
      };
    }
    return route ? route(request.body, request) : {};
  }

  private stableToken(body: Record<string, unknown>): FakeAnswer {
    if (body.appid !== FAKE_APP.appId) return { body: { errcode: 40013, errmsg: 'invalid appid' } };
    if (body.secret !== FAKE_APP.appSecret) {
      return {
        body: {
          errcode: 40001,
          errmsg: 'invalid credential, access_token is invalid or not latest',
        },
      };
    }
    if (body.force_refresh === true) this.rotate();
    return { body: { access_token: this.current, expires_in: this.expiresIn } };
  }
}

/** Waits until `predicate` holds (polling), failing after `limitMs`. */
export async function until(predicate: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
