/**
 * The notify URL WeChat Pay will POST to: https on a public host (checked offline), and, with
 * --probe-notify, a minipay answering at that host (fetched from this machine).
 */
import { isIP } from 'node:net';
import { NOTIFY_PATH } from '../app/runtime.js';
import { type Check, fail, pass } from './check.js';

const PROBE_TIMEOUT_MS = 10_000;

/** Hosts WeChat's servers cannot reach: loopback, private, link-local, local names. */
function privateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || /\.(localhost|local|internal|lan|home)$/.test(host)) return true;
  if (isIP(host) === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(host) === 6) return host === '::1' || /^(fc|fd|fe8|fe9|fea|feb)/.test(host);
  return false;
}

export const notifyUrlCheck: Check = {
  name: 'notify URL',
  async run({ config }) {
    const url = `${config.notifyBaseUrl}${NOTIFY_PATH}`;
    const { protocol, hostname } = new URL(url);
    if (protocol !== 'https:') {
      return fail(
        `${url} is not https: APIv3 accepts only https notify URLs, and over http the payment result crosses the internet unencrypted. Terminate TLS at a proxy (docs/deploy.md) and set MINIPAY_NOTIFY_BASE_URL=https://…`,
      );
    }
    if (privateHost(hostname)) {
      return fail(
        `${url} names a private host (${hostname}): WeChat's servers cannot reach it. Set MINIPAY_NOTIFY_BASE_URL to the public https address of the proxy in front of minipay`,
      );
    }
    return pass(
      `${url}: https on a public host (that WeChat's servers reach it only a payment shows; --probe-notify tries it from here)`,
    );
  },
};

export const notifyProbeCheck: Check = {
  name: 'notify URL reachable',
  applies: ({ probeNotify }) => probeNotify,
  async run({ config }) {
    const health = `${config.notifyBaseUrl}/healthz`;
    let answer: Response;
    try {
      answer = await fetch(health, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return fail(
        `could not fetch ${health} from here (${cause?.code ?? cause?.message ?? (err as Error).message}): check DNS, the proxy, and its TLS certificate (WeChat needs one from a public CA)`,
      );
    }
    const body = (await answer.text()).trim();
    if (answer.status !== 200 || body !== '{"ok":true}') {
      return fail(
        `${health} answered HTTP ${answer.status}, not minipay's health check: the proxy must pass ${config.notifyBaseUrl}/ (at least /wechatpay/ and /healthz) to minipay`,
      );
    }
    return pass(
      `minipay answers at ${config.notifyBaseUrl} from this machine (DNS, TLS, proxy); a firewall in front of it that refuses WeChat's servers cannot be seen from here`,
    );
  },
};

export const notifyChecks: Check[] = [notifyUrlCheck, notifyProbeCheck];
