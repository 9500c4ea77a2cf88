/** What the HTTP app is built from: the domain, the store, and the settings of its gates. */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Payments } from '../payments/index.js';
import type { Store } from '../store/index.js';
import type { Metrics } from './metrics.js';
import type { RateLimits } from './plugins/rate-limits.js';

/** Whether the instance is being taken out of service (see ServerOptions.readiness). */
export interface Readiness {
  draining: boolean;
}

export interface ServerOptions {
  payments: Payments;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** Bearer token for /admin/v1; the admin API answers 403 to everything without one. */
  adminToken: string | undefined;
  /** Bearer token for /metrics; /metrics answers 403 to everything without one. */
  metricsToken: string | undefined;
  mode: 'demo' | 'live';
  /** The proxies whose X-Forwarded-For gives `request.ip` (Fastify's trustProxy; default none). */
  trustProxy?: false | string[];
  rateLimits: RateLimits;
  /** Extra plugins (the web pages, later features) registered after the core routes. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** Called with every route as it is registered, before the first one (tests list them). */
  onRoute?: (route: RouteOptions) => void;
  /**
   * Set once a shutdown begins: /readyz answers 503 (load balancers take the instance out) and
   * every answer closes its connection, while requests are still served.
   */
  readiness?: Readiness;
  /** Default REQUEST_TIMEOUT_MS and KEEP_ALIVE_TIMEOUT_MS. */
  timeouts?: { requestMs: number; keepAliveMs: number };
}
