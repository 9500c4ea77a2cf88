import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEMO_CREDENTIALS, resolveCredentials } from '../../src/sandbox/credentials.js';

describe('credentials', () => {
  test('the demo credentials are valid and frozen', () => {
    assert.deepEqual(resolveCredentials(), { ...DEMO_CREDENTIALS });
    assert.throws(() => {
      (DEMO_CREDENTIALS as { mchKey: string }).mchKey = 'x';
    }, TypeError);
  });

  test('overrides replace single values; undefined keeps the demo value', () => {
    const c = resolveCredentials({ mchId: '1234567890', appId: undefined });
    assert.equal(c.mchId, '1234567890');
    assert.equal(c.appId, DEMO_CREDENTIALS.appId);
  });

  test('malformed values are refused with a message that says what is expected', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ appId: 'wx123' }, /appId must be "wx" followed by 16 lower-case hex digits/],
      [{ appId: 'WX5A5DB0C000000001' }, /appId/],
      [{ appSecret: 'short' }, /appSecret must be 16 to 64 letters or digits/],
      [{ mchId: '12ab' }, /mchId must be 8 to 10 digits/],
      [{ mchKey: 'k'.repeat(31) }, /mchKey \(the APIv2 key\) must be exactly 32 letters or digits/],
      [{ mchKey: `${'k'.repeat(31)}!` }, /mchKey/],
      [{ mchKey: 5 }, /credential mchKey must be a string/],
      [{ apiV3Key: 'x' }, /apiV3Key \(the APIv3 key\) must be exactly 32 letters or digits/],
      [{ apiKey: 'x' }, /unknown credential "apiKey"/],
    ];
    for (const [override, message] of cases) {
      assert.throws(() => resolveCredentials(override as never), message);
    }
  });
});
