/**
 * `minipay doctor` against the sandboxed WeChat: good credentials pass every check; a wrong
 * key, a wrong AppSecret, an http or private notify URL, a skewed clock and a missing or
 * unmigrated database each fail their own line, saying what to set.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Config, loadConfig } from '../../src/app/config.js';
import { doctor } from '../../src/cli/commands/doctor.js';
import { clientCertificateCheck } from '../../src/doctor/certificate-check.js';
import { databaseCheck } from '../../src/doctor/database-check.js';
import { CHECKS, type DoctorContext, runChecks } from '../../src/doctor/index.js';
import { v2KeyCheck } from '../../src/doctor/key-checks.js';
import { notifyProbeCheck } from '../../src/doctor/notify-url-checks.js';
import { v3CredentialsCheck } from '../../src/doctor/wechat-v3-checks.js';
import { DEMO_CREDENTIALS, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/index.js';
import { migrations } from '../../src/store/migrations.js';
import { minipay } from '../support/cli.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { startTestServer } from '../support/server.js';
import { describeOnStores } from '../support/stores.js';

const GOOD = {
  MINIPAY_APPID: DEMO_CREDENTIALS.appId,
  MINIPAY_APPSECRET: DEMO_CREDENTIALS.appSecret,
  MINIPAY_MCHID: DEMO_CREDENTIALS.mchId,
  MINIPAY_MCH_KEY: DEMO_CREDENTIALS.mchKey,
  MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
};

describe('minipay doctor against the sandbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-doctor-'));
  const migrated = `sqlite:${join(dir, 'migrated.sqlite')}`;
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ timeScale: 1000 });
    const store = openStore(migrated);
    await store.migrate();
    await store.close();
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (changes: Record<string, string> = {}) => ({
    ...GOOD,
    MINIPAY_WECHATPAY_BASE_URL: sandbox.url,
    MINIPAY_WECHAT_API_BASE_URL: sandbox.url,
    MINIPAY_DATABASE_URL: migrated,
    ...changes,
  });

  async function check(changes: Record<string, string> = {}, now?: () => Date) {
    const lines: string[] = [];
    const code = await doctor(loadConfig(env(changes)), { now, say: (l) => lines.push(l) });
    // "✓ name: finding" → "✓ finding"
    const line = (name: string) => {
      const found = lines.find((l) => l.slice(2).startsWith(`${name}: `)) ?? '';
      return found.slice(0, 2) + found.slice(name.length + 4);
    };
    return { code, lines, line };
  }

  test('good credentials: every check passes, one ✓ line each, exit 0', async () => {
    const { code, lines, line } = await check();
    assert.equal(code, 0, lines.join('\n'));
    // Neither the probe, APIv3 nor the client certificate (none configured here) has a line.
    const checks = CHECKS.filter(
      (c) => c !== notifyProbeCheck && c !== v3CredentialsCheck && c !== clientCertificateCheck,
    );
    assert.equal(lines.filter((l) => l.startsWith('✓ ')).length, checks.length);
    assert.match(
      line('WeChat Pay credentials'),
      /^✓ .*answered ORDERNOTEXIST, signed with this key/,
    );
    assert.match(line('mini program login'), /^✓ .*refused only the made-up login code \(40029\)/);
    assert.match(line('clock'), /^✓ within \d+ s of WeChat Pay’s/);
    assert.match(line('database'), /^✓ .*answers and is migrated/);
    assert.match(lines.at(-1) ?? '', /every check passed/);
  });

  test('a wrong APIv2 key: WeChat Pay refuses the signature; the line names MINIPAY_MCH_KEY', async () => {
    const { code, line } = await check({ MINIPAY_MCH_KEY: 'X'.repeat(32) });
    assert.equal(code, 1);
    assert.match(
      line('WeChat Pay credentials'),
      /^✗ WeChat Pay refused the signature \(签名错误\): MINIPAY_MCH_KEY is not the APIv2 key of mch_id 1900000109/,
    );
    assert.match(line('mini program login'), /^✓/, 'the other checks still run and pass');
  });

  test('a wrong AppSecret: jscode2session says 40125 and the line names MINIPAY_APPSECRET', async () => {
    const { code, line } = await check({ MINIPAY_APPSECRET: 'wrongsecret0000000000000000000000' });
    assert.equal(code, 1);
    assert.match(
      line('mini program login'),
      /^✗ WeChat says the AppSecret is wrong \(40125\): set MINIPAY_APPSECRET/,
    );
    assert.match(line('WeChat Pay credentials'), /^✓/);
  });

  test('an http notify URL, and an https one on a private host, fail', async () => {
    // On a public host http does not even load (docs/wechat-rules.md); on loopback it loads,
    // for a local sandbox, and the doctor says it will not do for WeChat.
    assert.throws(
      () => loadConfig(env({ MINIPAY_NOTIFY_BASE_URL: 'http://pay.example.com' })),
      /MINIPAY_NOTIFY_BASE_URL must be https/,
    );
    const http = await check({ MINIPAY_NOTIFY_BASE_URL: 'http://127.0.0.1:8080' });
    assert.equal(http.code, 1);
    assert.match(
      http.line('notify URL'),
      /^✗ http:\/\/127\.0\.0\.1:8080\/wechatpay\/v2\/notify is not https/,
    );
    for (const host of ['127.0.0.1', '192.168.1.20', 'localhost', '[::1]']) {
      const local = await check({ MINIPAY_NOTIFY_BASE_URL: `https://${host}:8443` });
      assert.match(local.line('notify URL'), /^✗ .*names a private host/, host);
    }
  });

  test('a missing SQLite file fails the database line, and doctor does not create it', async () => {
    const missing = join(dir, 'nowhere', 'minipay.sqlite');
    const { code, line } = await check({ MINIPAY_DATABASE_URL: `sqlite:${missing}` });
    assert.equal(code, 1);
    assert.match(
      line('database'),
      /^✗ the SQLite database .* does not exist: check MINIPAY_DATABASE_URL/,
    );
    assert.equal(existsSync(missing), false, 'doctor created no database');
  });

  test('a clock more than a minute off WeChat Pay’s fails, either way', async () => {
    const ahead = await check({}, () => new Date(Date.now() + 10 * 60_000));
    assert.match(
      ahead.line('clock'),
      /^✗ 10 min 0 s ahead of WeChat Pay’s: .*APIv3 refuses requests more than 5 minutes off/,
    );
    const behind = await check({}, () => new Date(Date.now() - 3 * 60_000));
    assert.match(behind.line('clock'), /^✗ 3 min 0 s behind WeChat Pay’s/);
  });

  test('the key check on its own: a key of the wrong length fails, naming MINIPAY_MCH_KEY', async () => {
    const config = loadConfig(env());
    const context = {
      config,
      merchant: config.merchant!,
      now: () => new Date(),
      probeNotify: false,
    };
    const [short] = await runChecks(
      { ...context, merchant: { ...context.merchant, mchKey: 'k'.repeat(31) } },
      [v2KeyCheck],
    );
    assert.equal(short?.finding.ok, false);
    assert.match(
      short?.finding.message ?? '',
      /^MINIPAY_MCH_KEY has 31 characters; an APIv2 key is 32/,
    );
  });

  test('demo mode (no credentials) is refused before any check', async () => {
    const lines: string[] = [];
    const code = await doctor(loadConfig({}), { say: (l) => lines.push(l) });
    assert.equal(code, 1);
    assert.deepEqual(lines.length, 1);
    assert.match(
      lines[0] ?? '',
      /^✗ configuration: no merchant credentials, so minipay runs demo mode/,
    );
  });

  test('--probe-notify: passes when minipay answers behind the URL, fails when nothing does', async (t) => {
    const server = await startTestServer({
      databaseUrl: `sqlite:${join(dir, 'probe.sqlite')}`,
      gateway: new MemoryGateway(),
    });
    t.after(() => server.close());
    const context = (notifyBaseUrl: string): DoctorContext => {
      const config = loadConfig(env({ MINIPAY_NOTIFY_BASE_URL: notifyBaseUrl }));
      return { config, merchant: config.merchant!, now: () => new Date(), probeNotify: true };
    };
    const [up] = await runChecks(context(server.url), [notifyProbeCheck]);
    assert.match(
      up?.finding.message ?? '',
      /^minipay answers at http:\/\/127\.0\.0\.1:\d+ from this machine/,
    );
    assert.equal(up?.finding.ok, true);
    const [down] = await runChecks(context('http://127.0.0.1:9'), [notifyProbeCheck]);
    assert.equal(down?.finding.ok, false);
    assert.match(
      down?.finding.message ?? '',
      /could not fetch http:\/\/127\.0\.0\.1:9\/healthz from here/,
    );
    const withoutFlag = await runChecks({ ...context(server.url), probeNotify: false }, [
      notifyProbeCheck,
    ]);
    assert.deepEqual(withoutFlag, [], 'the probe runs only when asked');
  });

  test('WeChat Pay unreachable: the credential and clock lines say so', async () => {
    const { code, line } = await check({
      MINIPAY_WECHATPAY_BASE_URL: 'http://127.0.0.1:9',
    });
    assert.equal(code, 1);
    assert.match(
      line('WeChat Pay credentials'),
      /^✗ could not reach WeChat Pay at http:\/\/127\.0\.0\.1:9/,
    );
    assert.match(
      line('clock'),
      /^✗ could not reach WeChat Pay at http:\/\/127\.0\.0\.1:9 to read its clock/,
    );
  });

  test('the command: a bad key length is a configuration line; good settings exit 0', async () => {
    const bad = minipay(['doctor'], env({ MINIPAY_MCH_KEY: 'short' }));
    assert.equal((await once(bad.child, 'exit'))[0], 1);
    assert.match(
      bad.output().stdout,
      /^✗ configuration: MINIPAY_MCH_KEY must be the APIv2 key \(32 letters or digits\)$/m,
    );
    const good = minipay(['doctor'], env());
    assert.equal((await once(good.child, 'exit'))[0], 0, good.output().stdout);
    assert.match(good.output().stdout, /^✓ WeChat Pay credentials: /m);
  });
});

describeOnStores('minipay doctor: the database line', (stores) => {
  const context = (databaseUrl: string, migrate: Config['migrate']): DoctorContext => {
    const config = loadConfig({
      ...GOOD,
      MINIPAY_DATABASE_URL: databaseUrl,
      MINIPAY_MIGRATE: migrate,
    });
    return { config, merchant: config.merchant!, now: () => new Date(), probeNotify: false };
  };

  test('an unmigrated database fails with MINIPAY_MIGRATE=off, passes with auto (start migrates)', async () => {
    const url = await stores.freshUrl();
    if (stores.kind === 'sqlite') await openStore(url).close(); // an empty file, no tables
    const [off] = await runChecks(context(url, 'off'), [databaseCheck]);
    assert.equal(off?.finding.ok, false);
    assert.match(
      off?.finding.message ?? '',
      /is not migrated: \d+ migrations pending \(0001_initial, .*run `minipay migrate`/,
    );
    const [auto] = await runChecks(context(url, 'auto'), [databaseCheck]);
    assert.equal(auto?.finding.ok, true);
    assert.match(auto?.finding.message ?? '', /migrations pending .*which minipay start runs/);
    const store = openStore(url);
    assert.deepEqual((await store.schema()).applied, [], 'doctor migrated nothing');
    await store.migrate();
    await store.close();
    const [done] = await runChecks(context(url, 'off'), [databaseCheck]);
    const latest = Object.keys(migrations('sqlite')).at(-1)!;
    assert.ok(done?.finding.message.endsWith(`answers and is migrated (${latest})`));
  });

  test('a database that does not answer fails, naming MINIPAY_DATABASE_URL', async () => {
    const url =
      stores.kind === 'postgres'
        ? 'postgres://minipay:wrong@127.0.0.1:9/none'
        : `sqlite:${join(tmpdir(), 'minipay-doctor-none', 'x.sqlite')}`;
    const [finding] = await runChecks(context(url, 'auto'), [databaseCheck]);
    assert.equal(finding?.finding.ok, false);
    assert.match(finding?.finding.message ?? '', /MINIPAY_DATABASE_URL/);
  });
});
