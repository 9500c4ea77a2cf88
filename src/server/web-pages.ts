/**
 * The web pages: the browser demo (/demo/) and the admin console (/admin/), built by Vite from
 * web/ into dist/web (`npm run build`) and served here as static files, plus /demo/config.json
 * (what the demo page needs to know). In demo mode the sandbox's user-side endpoints are
 * forwarded under /demo/sandbox/v1/ so the demo page, on this origin, can play the WeChat user
 * (log in, the cashier, pay); live mode has no such routes.
 */
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packageRoot } from './package-root.js';

/** Where `npm run build` puts the pages: <package root>/dist/web (from src/ or dist/src/). */
export function webRoot(): string {
  return join(packageRoot(), 'dist', 'web');
}

/** The page shell may load only what this server serves (and frame its own cashier proxy). */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Sandbox paths the demo page may reach: only what a WeChat user (or the cashier) does. */
const SANDBOX_USER_ROUTES = [
  ['POST', '/login-code'],
  ['POST', '/pay'],
  ['POST', '/confirm-receipt'],
  ['GET', '/cashier'],
  ['GET', '/prepays/:prepayId'],
] as const;

/** Answer headers worth passing on from the sandbox (the cashier's CSP among them). */
const FORWARDED_HEADERS = ['content-type', 'content-security-policy', 'referrer-policy'];

/** What the pages need to know of the running system (launch()'s context is one). */
export interface WebPagesContext {
  config: { mode: 'demo' | 'live' };
  /** Demo mode's in-process sandbox: where it listens and the AppID it plays. */
  sandbox: { url: string; credentials: { appId: string } } | undefined;
}

export interface WebPagesOptions {
  /** The built pages (default: dist/web under the package root). */
  root?: string;
}

/** The Fastify plugin `minipay start` registers; see launch()'s `plugins`. */
export function webPages(options: WebPagesOptions = {}) {
  return async (app: FastifyInstance, context: WebPagesContext): Promise<void> => {
    const root = options.root ?? webRoot();
    servePages(app, root);
    app.get('/demo/config.json', { schema: { hide: true } }, async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      if (context.config.mode !== 'demo' || !context.sandbox) return { mode: 'live' };
      return {
        mode: 'demo',
        appId: context.sandbox.credentials.appId,
        sandboxBase: '/demo',
      };
    });
    if (context.config.mode === 'demo' && context.sandbox) {
      forwardSandboxUserRoutes(app, context.sandbox.url);
    }
  };
}

function servePages(app: FastifyInstance, root: string): void {
  if (!existsSync(join(root, 'demo', 'index.html'))) {
    // Not built (a source checkout before `npm run build`): say so instead of a bare 404.
    const notBuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web pages are not built yet: run `npm run build` (or `npm start`).\n');
    for (const path of ['/demo/', '/admin/']) app.get(path, { schema: { hide: true } }, notBuilt);
    return;
  }
  const assets = join(root, 'assets') + sep;
  app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per built file (no catch-all): unknown /admin/v1/... paths keep the API's 404.
    wildcard: false,
    index: ['index.html'],
    redirect: false,
    schemaHide: true,
    setHeaders(reply: FastifyReply, path: string) {
      if (path.startsWith(assets) || path.startsWith('/assets/')) {
        // Vite puts a content hash in every asset name.
        reply.header('cache-control', 'public, max-age=31536000, immutable');
      } else {
        reply.header('cache-control', 'no-cache');
      }
      if (path.endsWith('.html')) {
        reply.header('content-security-policy', PAGE_CSP);
        reply.header('referrer-policy', 'no-referrer');
        reply.header('x-content-type-options', 'nosniff');
      }
    },
  });
  // `/demo` and `/admin` without the slash: relative asset URLs need the directory form.
  for (const page of ['demo', 'admin']) {
    app.get(`/${page}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect(`/${page}/`, 301),
    );
  }
}

function forwardSandboxUserRoutes(app: FastifyInstance, sandboxUrl: string): void {
  for (const [method, path] of SANDBOX_USER_ROUTES) {
    app.route({
      method,
      url: `/demo/sandbox/v1${path}`,
      schema: { hide: true },
      handler: async (request, reply) => {
        const params = request.params as Record<string, string>;
        const sandboxPath = path.replace(/:(\w+)/g, (_, name: string) =>
          encodeURIComponent(params[name] ?? ''),
        );
        const at = request.url.indexOf('?');
        const target = `${sandboxUrl}/sandbox/v1${sandboxPath}${at >= 0 ? request.url.slice(at) : ''}`;
        let answer: Response;
        try {
          answer = await fetch(target, {
            method,
            headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
            body: method === 'POST' ? JSON.stringify(request.body ?? {}) : undefined,
            signal: AbortSignal.timeout(15_000),
          });
        } catch (err) {
          request.log.warn({ err }, 'demo: the sandbox did not answer');
          return reply.code(502).send({
            error: { code: 'SANDBOX_UNAVAILABLE', message: 'the demo sandbox did not answer' },
          });
        }
        for (const name of FORWARDED_HEADERS) {
          const value = answer.headers.get(name);
          if (value) reply.header(name, value);
        }
        return reply.code(answer.status).send(Buffer.from(await answer.arrayBuffer()));
      },
    });
  }
}
