/**
 * Avatar upload over loopback on SQLite and PostgreSQL: `POST /api/v1/me/avatar` takes the
 * image as wx.uploadFile sends it (multipart, field `file`), stores it by the type read from
 * its bytes (not the part's Content-Type nor its file name) and points the profile at
 * `/api/v1/avatars/:id`, served with its type, nosniff, a sandboxing CSP and a year's cache; a
 * new upload replaces the last. Hostile uploads (too large, not an image, SVG, a polyglot, a
 * wrong form, a raw or JSON body, no session, another user's avatar) are refused with
 * `{error}` and write nothing; `PATCH /api/v1/me` keeps working.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Me } from '../../src/contract/index.js';
import { type Demo, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/avatars/${name}`, import.meta.url));
const PNG = fixture('avatar.png');
const JPEG = fixture('avatar.jpg');
const WEBP = fixture('avatar.webp');

/** As wx.uploadFile sends it: multipart/form-data, the file under `name`. */
async function upload(
  demo: Demo,
  token: string | undefined,
  bytes: Buffer,
  options: {
    name?: string;
    type?: string;
    filename?: string;
    fields?: Record<string, string>;
  } = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(options.fields ?? {})) form.append(k, v);
  const blob = new Blob([bytes], { type: options.type ?? 'image/png' });
  form.append(options.name ?? 'file', blob, options.filename ?? 'tmp_avatar.png');
  const res = await fetch(`${demo.url}/api/v1/me/avatar`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: JSON.parse(text) as { user?: Me; error?: { code: string } },
  };
}

async function avatarsOf(demo: Demo) {
  return demo.launched.server.store.db
    .selectFrom('user_avatars')
    .select(['id', 'user_id', 'content_type', 'size'])
    .orderBy('id')
    .execute();
}

describeOnStores('avatar upload', (stores) => {
  test('upload, serve by the sniffed type, replace; PATCH /api/v1/me still works', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const { token } = await demo.login();
    const first = await upload(demo, token, PNG);
    assert.equal(first.status, 200, first.text);
    const url = first.json.user!.avatarUrl!;
    assert.match(url, /^\/api\/v1\/avatars\/avt_[0-9A-Za-z]{22}$/);
    const served = await fetch(`${demo.url}${url}`);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(served.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.equal(served.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG);

    // A JPEG announced as PNG by its part and name is stored and served as what it is.
    const second = await upload(demo, token, JPEG, { type: 'image/png', filename: 'a.png' });
    assert.equal(second.status, 200, second.text);
    const next = second.json.user!.avatarUrl!;
    assert.notEqual(next, url);
    const jpeg = await fetch(`${demo.url}${next}`);
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
    assert.equal((await fetch(`${demo.url}${url}`)).status, 404, 'the last one is replaced');
    const webp = await upload(demo, token, WEBP, { fields: { note: 'wx.uploadFile formData' } });
    assert.equal(webp.status, 200, webp.text);
    assert.deepEqual(
      (await avatarsOf(demo)).map((a) => [a.content_type, a.size]),
      [['image/webp', WEBP.length]],
    );

    const named = await demo.api('PATCH', '/api/v1/me', { token, body: { nickname: '小明' } });
    assert.equal(named.status, 200, named.text);
    const me = (named.json as unknown as { user: Me }).user;
    assert.deepEqual([me.nickname, me.avatarUrl], ['小明', webp.json.user!.avatarUrl]);
    const own = await demo.api('PATCH', '/api/v1/me', {
      token,
      body: { avatarUrl: 'https://cdn.example.com/a.png' },
    });
    assert.equal(
      (own.json as unknown as { user: Me }).user.avatarUrl,
      'https://cdn.example.com/a.png',
    );

    const bad = await fetch(`${demo.url}/api/v1/avatars/avt_short`);
    assert.equal(bad.status, 400);
    const unknown = await fetch(`${demo.url}/api/v1/avatars/avt_${'A'.repeat(22)}`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  test('hostile uploads are refused with a clear error and write nothing', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const victim = await demo.login();
    const kept = await upload(demo, victim.token, PNG);
    assert.equal(kept.status, 200, kept.text);
    const victimUrl = kept.json.user!.avatarUrl!;
    const victimId = victimUrl.split('/').at(-1)!;
    const { token } = await demo.login();
    const before = await avatarsOf(demo);

    const script = Buffer.from('<html><script>alert(document.cookie)</script></html>');
    const oversized = Buffer.concat([PNG.subarray(0, 33), Buffer.alloc(1024 * 1024)]);
    const cases: [
      string,
      Parameters<typeof upload>[2],
      Parameters<typeof upload>[3],
      number,
      string,
    ][] = [
      ['oversized', oversized, {}, 413, 'AVATAR_TOO_LARGE'],
      ['not an image', Buffer.from('just some text'), {}, 415, 'INVALID_AVATAR'],
      [
        'SVG with a script',
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        { type: 'image/svg+xml', filename: 'a.svg' },
        415,
        'INVALID_AVATAR',
      ],
      ['PNG + HTML polyglot', Buffer.concat([PNG, script]), {}, 415, 'INVALID_AVATAR'],
      ['JPEG + HTML polyglot', Buffer.concat([JPEG, script]), {}, 415, 'INVALID_AVATAR'],
      ['empty file', Buffer.alloc(0), {}, 400, 'INVALID_AVATAR'],
      ['wrong field', PNG, { name: 'avatar' }, 400, 'INVALID_AVATAR_FORM'],
    ];
    for (const [what, bytes, options, status, code] of cases) {
      const res = await upload(demo, token, bytes, options);
      assert.equal(res.status, status, `${what}: ${res.text}`);
      assert.equal(res.json.error?.code, code, what);
    }
    const post = (headers: Record<string, string>, body: string | Buffer | FormData) =>
      fetch(`${demo.url}/api/v1/me/avatar`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...headers },
        body,
      });
    const raw = await post({ 'content-type': 'image/png' }, PNG);
    assert.equal(raw.status, 415);
    const json = await post({ 'content-type': 'application/json' }, '{"file":"x"}');
    assert.equal(json.status, 415);
    const broken = await post(
      { 'content-type': 'multipart/form-data; boundary=xyz' },
      '--abc\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\n\r\nxx',
    );
    assert.equal(broken.status, 400, await broken.text());
    const noBoundary = await post({ 'content-type': 'multipart/form-data' }, 'x');
    assert.equal(noBoundary.status, 400);
    const onlyFields = new FormData();
    onlyFields.append('note', 'no file here');
    const fieldsOnly = await post({}, onlyFields);
    assert.equal(fieldsOnly.status, 400);

    const anonymous = await upload(demo, undefined, PNG);
    assert.equal(anonymous.status, 401);
    const forged = await upload(demo, 'not-a-session-token', PNG);
    assert.equal(forged.status, 401);
    // No route writes an avatar by id.
    for (const method of ['PUT', 'POST', 'DELETE', 'PATCH']) {
      const res = await fetch(`${demo.url}${victimUrl}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
        body: PNG,
      });
      assert.equal(res.status, 404, method);
    }
    const pointAt = await demo.api('PATCH', '/api/v1/me', {
      token,
      body: { avatarUrl: victimUrl },
    });
    assert.equal(pointAt.status, 400, 'a path is no avatar URL of PATCH');

    assert.deepEqual(await avatarsOf(demo), before, 'nothing written');
    const me = await demo.api('GET', '/api/v1/me', { token });
    assert.equal((me.json as unknown as { user: Me }).user.avatarUrl, null);
    // Naming the other user, or their avatar, in the form changes only one's own avatar.
    const mine = await upload(demo, token, WEBP, {
      fields: { userId: victim.openid, id: victimId },
    });
    assert.equal(mine.status, 200, mine.text);
    assert.notEqual(mine.json.user!.avatarUrl, victimUrl);
    const still = await fetch(`${demo.url}${victimUrl}`);
    assert.deepEqual(Buffer.from(await still.arrayBuffer()), PNG, "the victim's avatar is intact");
    const victimMe = await demo.api('GET', '/api/v1/me', { token: victim.token });
    assert.equal((victimMe.json as unknown as { user: Me }).user.avatarUrl, victimUrl);
  });
});
