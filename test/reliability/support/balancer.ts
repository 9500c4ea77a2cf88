/**
 * A load balancer for the rolling-restart test, behaving like nginx's defaults with an active
 * health check: round robin over the instances whose `GET /readyz` answered 200 at the last
 * check (every `checkEveryMs`), over all of them when none did; keep-alive connections to each instance (an undici Pool); a
 * request whose connection is refused is passed to the next instance (nothing of it was sent,
 * so even a POST is safe to pass on: nginx's `proxy_next_upstream error`). Any other upstream
 * failure is answered 502 and counted: that is a request the restart lost.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool } from 'undici';

interface Upstream {
  url: string;
  pool: Pool;
  healthy: boolean;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

export interface Balancer {
  url: string;
  /** Requests answered 502 because an instance failed them after they were sent. */
  readonly lost: string[];
  /** Requests passed to the next instance because the connection was refused. */
  readonly passedOn: number;
  close(): Promise<void>;
}

export async function startBalancer(urls: string[], checkEveryMs = 100): Promise<Balancer> {
  const upstreams: Upstream[] = urls.map((url) => ({
    url,
    pool: new Pool(url, { connections: 32 }),
    healthy: false,
  }));
  const lost: string[] = [];
  let passedOn = 0;
  let next = 0;

  // An answer decides (200 in, anything else out), and so does a refused connection; a check
  // that times out on a busy machine leaves the instance as it was.
  const check = async (u: Upstream) => {
    try {
      const res = await fetch(`${u.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      u.healthy = res.status === 200;
    } catch (err) {
      if (refused(err)) u.healthy = false;
    }
  };
  await Promise.all(upstreams.map(check));
  const checker = setInterval(() => void Promise.all(upstreams.map(check)), checkEveryMs);

  /** The next healthy instance not tried yet; when none is healthy, any not tried (as nginx). */
  const pick = (tried: Set<Upstream>) => {
    const untried = upstreams.filter((u) => !tried.has(u));
    const healthy = untried.filter((u) => u.healthy);
    const from = healthy.length > 0 ? healthy : untried;
    return from.length > 0 ? from[next++ % from.length] : undefined;
  };

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(k) && typeof v === 'string') headers[k] = v;
    }
    const tried = new Set<Upstream>();
    for (let u = pick(tried); u; u = pick(tried)) {
      tried.add(u);
      try {
        const answer = await u.pool.request({
          method: req.method as 'GET',
          path: req.url!,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : null,
        });
        const body = Buffer.from(await answer.body.arrayBuffer());
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(answer.headers)) {
          if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
        }
        res.writeHead(answer.statusCode, out).end(body);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED') {
          passedOn++;
          u.healthy = false;
          continue;
        }
        lost.push(`${req.method} ${req.url} → ${u.url}: ${code ?? (err as Error).message}`);
        break;
      }
    }
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'no instance answered' } }));
  };

  const server: Server = createServer((req, res) => void forward(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    lost,
    get passedOn() {
      return passedOn;
    },
    async close() {
      clearInterval(checker);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(upstreams.map((u) => u.pool.close()));
    },
  };
}

/** Whether a fetch failed because nothing listens there (the instance is down). */
function refused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}
