/**
 * `minipay doctor`: tells a merchant, before going live, whether the configuration in the
 * environment works: one line per check, ✓ or ✗ with what to do, exit 1 on any ✗.
 */
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../../app/config.js';
import { type Report, reportLine, runChecks } from '../../doctor/index.js';
import { type Command, UsageError } from '../command.js';

const usage = `Usage: minipay doctor [options]

Checks the live configuration (the same MINIPAY_* variables as minipay start) before going
live, one line per check, and exits 1 if any fails:

  APIv2 key               32 letters and digits
  WeChat Pay credentials  orderquery of a made-up order: ORDERNOTEXIST, signed with the key
  mini program login      jscode2session with a made-up code: only the code is refused
  clock                   within a minute of the Date of WeChat Pay's answer
  notify URL              https, on a public host
  database                answers, and is migrated (or minipay start will migrate it)

The calls to WeChat change nothing. See docs/deploy.md.

Options:
  --probe-notify   also fetch <MINIPAY_NOTIFY_BASE_URL>/healthz from this machine (minipay
                   must already be serving behind that URL)
  -h, --help       show this help`;

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs every check on `config`; resolves to the exit code. */
export async function doctor(
  config: Config,
  options: { probeNotify?: boolean; now?: () => Date; say?: (line: string) => void } = {},
): Promise<number> {
  const say = options.say ?? write;
  if (config.mode === 'demo' || !config.merchant) {
    say(
      '✗ configuration: no merchant credentials, so minipay runs demo mode (WeChat played by the local sandbox). Set MINIPAY_APPID, MINIPAY_APPSECRET, MINIPAY_MCHID, MINIPAY_MCH_KEY and MINIPAY_NOTIFY_BASE_URL (docs/configuration.md)',
    );
    return 1;
  }
  say(
    `minipay doctor: mch_id ${config.merchant.mchId}, AppID ${config.merchant.appId}, WeChat Pay at ${config.wechatPayBaseUrl}`,
  );
  const reports: Report[] = await runChecks(
    {
      config,
      merchant: config.merchant,
      now: options.now ?? (() => new Date()),
      probeNotify: options.probeNotify ?? false,
    },
    undefined,
    (report) => say(reportLine(report)),
  );
  const failed = reports.filter((r) => !r.finding.ok).length;
  say(
    failed === 0
      ? 'minipay doctor: every check passed'
      : `minipay doctor: ${failed} of ${reports.length} checks failed; fix ${failed > 1 ? 'them' : 'it'} and run minipay doctor again`,
  );
  return failed === 0 ? 0 : 1;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Check the live configuration before going live (credentials, clock, notify URL, database)',
  usage,
  async run(argv) {
    let probeNotify: boolean | undefined;
    try {
      ({
        values: { 'probe-notify': probeNotify },
      } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: { 'probe-notify': { type: 'boolean' } },
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const problem of err.problems) write(`✗ configuration: ${problem}`);
        return 1;
      }
      throw err;
    }
    return doctor(config, { probeNotify });
  },
};
