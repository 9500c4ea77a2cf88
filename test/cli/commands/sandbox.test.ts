import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/cli/command.js';
import { sandboxOptions } from '../../../src/cli/commands/sandbox.js';
import { minipay } from '../../support/cli.js';

describe('minipay sandbox (command line)', () => {
  test('parses every option', () => {
    const o = sandboxOptions([
      '--port',
      '8091',
      '--host',
      '0.0.0.0',
      '--appid',
      'wx1234567890abcdef',
      '--appsecret',
      'S',
      '--mchid',
      '1234567890',
      '--mch-key',
      'K',
      '--time-scale',
      '0.5',
      '--seed',
      '42',
      '--state-file',
      '/tmp/x.sqlite',
      '--refund-notify-url',
      'http://h/r',
      '--close-min-age-ms',
      '300000',
      '--refund-interval-ms',
      '0',
      '--backup-port',
      '8092',
      '--notify-timeout-ms',
      '2000',
      '--api-v3-key',
      'V3',
      '--platform-mode',
      'both',
    ]);
    assert.deepEqual(o, {
      host: '0.0.0.0',
      port: 8091,
      backupPort: 8092,
      credentials: {
        appId: 'wx1234567890abcdef',
        appSecret: 'S',
        mchId: '1234567890',
        mchKey: 'K',
        apiV3Key: 'V3',
      },
      v3: { platformMode: 'both', mchSerial: undefined, mchPublicKey: undefined },
      timeScale: 0.5,
      seed: 42,
      stateFile: '/tmp/x.sqlite',
      refundNotifyUrl: 'http://h/r',
      closeMinAgeMs: 300000,
      refundIntervalMs: 0,
      notifyTimeoutMs: 2000,
    });
  });

  test('bad options are usage errors that say what is wrong', () => {
    for (const [args, message] of [
      [['--port', 'abc'], /--port must be a whole number/],
      [['--port', '70000'], /--port must be 0 to 65535/],
      [['--backup-port', '70000'], /--backup-port must be 0 to 65535/],
      [['--time-scale', '0'], /--time-scale must be a number above 0/],
      [['--time-scale', 'fast'], /--time-scale/],
      [['--seed=-1'], /--seed must be a whole number/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['extra'], /positional/],
      [
        ['--platform-mode', 'certs'],
        /--platform-mode must be one of public_key, certificate, both/,
      ],
      [['--mch-serial', 'ABC'], /--mch-serial and --mch-public-key go together/],
      [
        ['--mch-serial', 'ABC', '--mch-public-key', '/nonexistent.pem'],
        /cannot read --mch-public-key/,
      ],
    ] as const) {
      assert.throws(
        () => sandboxOptions([...args]),
        (err: Error) => err instanceof UsageError && message.test(err.message),
      );
    }
  });

  test('starts, prints the credentials and URLs, serves, and stops cleanly on SIGTERM', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = minipay(['sandbox', '--seed', '9', '--state-file', join(dir, 'state.sqlite')]);
    t.after(() => run.child.kill('SIGKILL'));
    const [, url] = await run.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const { stdout } = run.output();
    assert.match(stdout, /MINIPAY_APPID=wx5a5db0c000000001/);
    assert.match(stdout, /MINIPAY_MCH_KEY=minipaysandboxdemomchkey00000001/);
    assert.match(stdout, /MINIPAY_API_V3_KEY=minipaysandboxdemoapiv3key000001/);
    assert.match(stdout, /MINIPAY_WECHATPAY_PUBLIC_KEY_ID=PUB_KEY_ID_\d+/);
    assert.match(stdout, /MINIPAY_MCH_CERT_SERIAL=[0-9A-F]+/);
    assert.match(stdout, /MINIPAY_WECHATPAY_BASE_URL=http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /fault seed 9/);
    const code = await fetch(`${url}/sandbox/v1/login-code`, { method: 'POST' });
    assert.equal(code.status, 200);
    run.child.kill('SIGTERM');
    const [exitCode] = await once(run.child, 'exit');
    assert.equal(exitCode, 0);
    assert.match(run.output().stderr, /stopping/);
  });

  test('a bad credential stops start-up with a message and exit code 1', async () => {
    const run = minipay(['sandbox', '--mch-key', 'short']);
    const [exitCode] = await once(run.child, 'exit');
    assert.equal(exitCode, 1);
    assert.match(
      run.output().stderr,
      /mchKey \(the APIv2 key\) must be exactly 32 letters or digits/,
    );
  });
});
