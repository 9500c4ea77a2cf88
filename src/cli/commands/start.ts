/**
 * `minipay start`: the merchant server. Configuration comes from MINIPAY_* environment
 * variables (see docs/configuration.md); with no merchant credentials it runs demo mode.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from '../../app/config.js';
import { isLoopback, type Launched, launch } from '../../app/launch.js';
import { createLogger } from '../../app/logger.js';
import { webPages } from '../../server/web-pages.js';
import { type Command, UsageError, untilStopSignal } from '../command.js';

const usage = `Usage: minipay start [options]

Starts the merchant server: the mini program API (/api/v1), WeChat Pay notifications
(/wechatpay/v2/*), the admin API (/admin/v1) and the web pages (/demo/, /admin/).

With no merchant credentials in the environment it runs demo mode: an in-process WeChat Pay
sandbox, a demo catalogue and SQLite under ./data/. For real, set MINIPAY_APPID,
MINIPAY_APPSECRET, MINIPAY_MCHID, MINIPAY_MCH_KEY and MINIPAY_NOTIFY_BASE_URL (and
MINIPAY_DATABASE_URL=postgres://… for PostgreSQL). Every variable: docs/configuration.md.

It migrates the database at start-up, unless MINIPAY_MIGRATE=off (or --no-migrate): then it
refuses a database that is behind (run \`minipay migrate\` first). It always refuses a
database migrated by a newer minipay.

Options (each overrides its environment variable):
  --port N       port to listen on (MINIPAY_PORT, default 8080; 0 picks a free one)
  --host H       interface to listen on (MINIPAY_HOST, default 127.0.0.1)
  --no-migrate   do not migrate at start-up (MINIPAY_MIGRATE=off)
  --unsafe-public-demo
                 let demo mode listen on an address other machines reach (refused without it:
                 the demo merchant key is public, so anyone could forge its payments)
  -h, --help     show this help`;

/** Command-line overrides of the configuration, and the demo's flag (UsageError on a bad one). */
export function startOverrides(argv: string[]): {
  env: Record<string, string>;
  unsafePublicDemo: boolean;
} {
  let values: {
    port?: string;
    host?: string;
    'no-migrate'?: boolean;
    'unsafe-public-demo'?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'no-migrate': { type: 'boolean' },
        'unsafe-public-demo': { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const env: Record<string, string> = {};
  if (values.port !== undefined) env.MINIPAY_PORT = values.port;
  if (values.host !== undefined) env.MINIPAY_HOST = values.host;
  if (values['no-migrate']) env.MINIPAY_MIGRATE = 'off';
  return { env, unsafePublicDemo: values['unsafe-public-demo'] === true };
}

function banner(launched: Launched): string {
  const { url } = launched.server;
  const c: Config = launched.config;
  const lines =
    c.mode === 'demo'
      ? [
          'minipay is running in demo mode (no merchant credentials: WeChat is the local sandbox)',
          ...(isLoopback(c.host)
            ? [
                "Its merchant key is the sandbox's public demo key, so it listens on this machine only.",
              ]
            : [
                `WARNING: listening on ${c.host} (--unsafe-public-demo): the demo merchant key is public,`,
                'so anyone who can reach this server can forge payment notifications and mark orders paid.',
              ]),
          '',
          `  Demo (mini program) ${url}/demo/`,
          `  Admin console       ${url}/admin/   (sign in with the admin token below)`,
          '',
          `  Admin API token     ${launched.adminToken}   (Authorization: Bearer …)`,
          `  Sandbox (WeChat)    ${launched.sandbox?.url}   cashier: ${launched.sandbox?.url}/sandbox/v1/cashier`,
          '',
        ]
      : [
          'minipay is running (live: WeChat Pay merchant credentials configured)',
          '',
          `  Admin console       ${url}/admin/   (sign in with MINIPAY_ADMIN_TOKEN)`,
          '',
        ];
  return [
    ...lines,
    `  Mini program API    ${url}/api/v1`,
    `  Notify URL          ${c.notifyBaseUrl ?? url}/wechatpay/v2/notify`,
    `  API description     ${url}/openapi.json`,
    `  Health              ${url}/healthz  ${url}/readyz`,
    `  Metrics             ${url}/metrics   ${c.metricsToken ? '(Authorization: Bearer MINIPAY_METRICS_TOKEN)' : '(off until MINIPAY_METRICS_TOKEN is set)'}`,
    `  Database            ${c.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the merchant server (demo mode with an in-process sandbox when unconfigured)',
  usage,
  async run(argv) {
    const { env: overrides, unsafePublicDemo } = startOverrides(argv);
    let config: Config;
    try {
      config = loadConfig({ ...process.env, ...overrides });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`minipay start: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    // Logs go to stderr, so stdout carries only the banner (scripts read the URLs from it).
    const logger = createLogger(config.logLevel, pino.destination(2));
    let launched: Launched;
    try {
      launched = await launch(config, { logger, plugins: [webPages()], unsafePublicDemo });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason =
        e.code === 'EADDRINUSE'
          ? `port ${config.port} is in use; pick another with --port or MINIPAY_PORT`
          : e.message;
      process.stderr.write(`minipay start: could not start: ${reason}\n`);
      return 1;
    }
    process.stdout.write(banner(launched));
    await untilStopSignal();
    await drain(launched, config.shutdownDrainSeconds);
    process.stderr.write('minipay start: stopping (finishing requests in flight)\n');
    await launched.close();
    return 0;
  },
};

/**
 * MINIPAY_SHUTDOWN_DRAIN_SECONDS: the load balancer sees /readyz fail and stops sending new
 * requests here before the listener closes, so a rolling restart loses none.
 */
async function drain(launched: Launched, seconds: number): Promise<void> {
  if (seconds === 0) return;
  process.stderr.write(
    `minipay start: draining for ${seconds} s (/readyz answers 503, requests are still served)\n`,
  );
  launched.server.drain();
  await sleep(seconds * 1000);
}
