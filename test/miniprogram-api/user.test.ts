import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkProfileUpdate,
  MiniProgramApiError,
  parsePhoneInfo,
} from '../../src/miniprogram-api/index.js';

const APP = 'wx5a5db0c000000001';

describe('profile update (PATCH /api/v1/me)', () => {
  test('nickname and avatarUrl, together or alone; the nickname trimmed and NFC', () => {
    assert.deepEqual(
      checkProfileUpdate({ nickname: '  小明 ', avatarUrl: 'https://cdn.example.com/a/1.png' }),
      { ok: true, value: { nickname: '小明', avatarUrl: 'https://cdn.example.com/a/1.png' } },
    );
    assert.deepEqual(checkProfileUpdate({ nickname: 'Cafe\u0301' }), {
      ok: true,
      value: { nickname: 'Café' },
    });
    const family = '👨‍👩‍👧‍👦'; // one character made of seven code points, with zero-width joiners
    assert.deepEqual(checkProfileUpdate({ nickname: family.repeat(32) }), {
      ok: true,
      value: { nickname: family.repeat(32) },
    });
  });

  test('refusals name the field and a stable code', () => {
    const cases: [unknown, string, string][] = [
      [null, 'body', 'INVALID_BODY'],
      [[], 'body', 'INVALID_BODY'],
      ['x', 'body', 'INVALID_BODY'],
      [{}, 'body', 'EMPTY_UPDATE'],
      [{ nickname: 'a', isAdmin: true }, 'body', 'UNKNOWN_FIELD'],
      [{ nickname: 7 }, 'nickname', 'INVALID_NICKNAME'],
      [{ nickname: '   ' }, 'nickname', 'INVALID_NICKNAME'],
      [{ nickname: 'a'.repeat(33) }, 'nickname', 'INVALID_NICKNAME'],
      [{ nickname: 'line\nbreak' }, 'nickname', 'INVALID_NICKNAME'],
      [{ nickname: 'rtl\u202eevil' }, 'nickname', 'INVALID_NICKNAME'],
      [{ nickname: 'zero\u200bwidth' }, 'nickname', 'INVALID_NICKNAME'],
      [{ nickname: 'nul\u0000' }, 'nickname', 'INVALID_NICKNAME'],
      [{ avatarUrl: '' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'javascript:alert(1)' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'data:image/png;base64,AAAA' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'http://cdn.example.com/a.png' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'wxfile://tmp_abc.jpg' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'http://tmp/abc.jpeg' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'https://user:pw@cdn.example.com/a.png' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'https://cdn.example.com/a b.png' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: 'https:\\\\evil.example\\a.png' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [{ avatarUrl: '/relative.png' }, 'avatarUrl', 'INVALID_AVATAR_URL'],
      [
        { avatarUrl: `https://cdn.example.com/${'a'.repeat(1024)}` },
        'avatarUrl',
        'INVALID_AVATAR_URL',
      ],
      [{ avatarUrl: 42 }, 'avatarUrl', 'INVALID_AVATAR_URL'],
    ];
    for (const [input, field, code] of cases) {
      const r = checkProfileUpdate(input);
      assert.equal(r.ok, false, JSON.stringify(input));
      if (!r.ok) assert.deepEqual([r.field, r.code], [field, code], JSON.stringify(input));
    }
  });

  test('options: http for a local demo, and a host list for the app’s own uploads', () => {
    assert.equal(
      checkProfileUpdate({ avatarUrl: 'http://127.0.0.1:8080/a.png' }, { allowHttp: true }).ok,
      true,
    );
    assert.equal(checkProfileUpdate({ avatarUrl: 'ftp://x/a.png' }, { allowHttp: true }).ok, false);
    const hosts = { avatarHosts: ['cdn.example.com'] };
    assert.equal(
      checkProfileUpdate({ avatarUrl: 'https://cdn.example.com/a.png' }, hosts).ok,
      true,
    );
    assert.equal(
      checkProfileUpdate({ avatarUrl: 'https://tracker.example/a.png' }, hosts).ok,
      false,
    );
  });
});

describe('phone number: the answer', () => {
  const answer = (
    overrides: Record<string, unknown> = {},
    watermark: Record<string, unknown> = {},
  ) => ({
    errcode: 0,
    errmsg: 'ok',
    phone_info: {
      phoneNumber: '13812345678',
      purePhoneNumber: '13812345678',
      countryCode: 86,
      watermark: { timestamp: 1_714_112_445, appid: APP, ...watermark },
      ...overrides,
    },
  });

  test('the documented answer (countryCode as a number, as in the example)', () => {
    assert.deepEqual(parsePhoneInfo(answer(), APP), {
      phoneNumber: '13812345678',
      purePhoneNumber: '13812345678',
      countryCode: '86',
      grantedAt: new Date(1_714_112_445_000),
    });
    assert.equal(
      parsePhoneInfo(answer({ countryCode: '1', phoneNumber: '+1 2025550123' }), APP).countryCode,
      '1',
    );
  });

  test('another AppID in the watermark, or a broken answer, is refused', () => {
    const refused = (json: Record<string, unknown>, code: string) =>
      assert.throws(
        () => parsePhoneInfo(json, APP),
        (err: unknown) =>
          err instanceof MiniProgramApiError && err.kind === 'invalid' && err.code === code,
      );
    refused(answer({}, { appid: 'wx0000000000000099' }), 'WRONG_APPID');
    refused(answer({ watermark: undefined }), 'WRONG_APPID');
    refused({ errcode: 0 }, 'MALFORMED_RESPONSE');
    refused(answer({ phoneNumber: '<b>1</b>' }), 'MALFORMED_RESPONSE');
    refused(answer({ purePhoneNumber: 13812345678 }), 'MALFORMED_RESPONSE');
    refused(answer({ countryCode: 'CN' }), 'MALFORMED_RESPONSE');
    refused(answer({}, { timestamp: 'yesterday' }), 'MALFORMED_RESPONSE');
  });
});
