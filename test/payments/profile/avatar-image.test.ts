/**
 * `checkAvatarImage`: PNG, JPEG and WebP are read from their bytes (type and size), walked to
 * their end marker; anything after it (a polyglot's payload), SVG and HTML, GIF, a cut-short
 * file, a header that lies about its length and an image too large a side are refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AVATAR_MAX_SIDE, checkAvatarImage } from '../../../src/payments/profile/avatar-image.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/avatars/${name}`, import.meta.url));

const PNG = fixture('avatar.png');
const JPEG = fixture('avatar.jpg');
const WEBP = fixture('avatar.webp');
const WEBP_LOSSLESS = fixture('avatar-lossless.webp');

function problem(bytes: Buffer): string {
  const checked = checkAvatarImage(bytes);
  assert.equal(checked.ok, false, 'refused');
  return checked.ok ? '' : checked.problem;
}

/** A RIFF/WebP file of one chunk. */
function webp(fourcc: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(8 + data.length + (data.length % 2));
  chunk.write(fourcc, 0, 'latin1');
  chunk.writeUInt32LE(data.length, 4);
  data.copy(chunk, 8);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + chunk.length, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, chunk]);
}

test('PNG, JPEG and WebP (lossy and lossless) are read with their size', () => {
  for (const [bytes, type] of [
    [PNG, 'image/png'],
    [JPEG, 'image/jpeg'],
    [WEBP, 'image/webp'],
    [WEBP_LOSSLESS, 'image/webp'],
  ] as const) {
    assert.deepEqual(checkAvatarImage(bytes), { ok: true, image: { type, width: 24, height: 16 } });
  }
});

test('the simple WebP forms (VP8, VP8L) give their size', () => {
  const vp8 = Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 40, 0, 30, 0]);
  assert.deepEqual(checkAvatarImage(webp('VP8 ', vp8)), {
    ok: true,
    image: { type: 'image/webp', width: 40, height: 30 },
  });
  const bits = Buffer.alloc(5);
  bits[0] = 0x2f;
  bits.writeUInt32LE((64 - 1) | ((48 - 1) << 14), 1);
  assert.deepEqual(checkAvatarImage(webp('VP8L', bits)), {
    ok: true,
    image: { type: 'image/webp', width: 64, height: 48 },
  });
});

test('polyglots: anything after the image’s end is refused', () => {
  const payload = Buffer.from('<html><script>alert(document.cookie)</script></html>');
  assert.match(problem(Buffer.concat([PNG, payload])), /data follows the end of the PNG/);
  assert.match(problem(Buffer.concat([JPEG, payload])), /data follows the end of the JPEG/);
  assert.match(problem(Buffer.concat([WEBP, payload])), /not as long as its RIFF header says/);
  // A PNG signature in front of HTML is no PNG.
  const fake = Buffer.concat([PNG.subarray(0, 8), payload]);
  assert.match(problem(fake), /PNG/);
  // A WebP whose header claims the extra bytes: they are no chunk.
  const claimed = Buffer.concat([WEBP, payload]);
  claimed.writeUInt32LE(claimed.length - 8, 4);
  assert.match(problem(claimed), /WebP/);
});

test('SVG, HTML, XML, GIF and other files are refused', () => {
  for (const text of [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '\uFEFF  <?xml version="1.0"?><svg/>',
    '<!DOCTYPE html><img src=x onerror=alert(1)>',
  ]) {
    assert.match(problem(Buffer.from(text)), /SVG, HTML and XML are not accepted/);
  }
  assert.match(problem(Buffer.from('GIF89a\x01\x00\x01\x00')), /GIF is not accepted/);
  assert.match(problem(Buffer.from('%PDF-1.7')), /not a PNG, JPEG or WebP/);
  assert.match(problem(Buffer.alloc(0)), /not a PNG, JPEG or WebP/);
});

test('cut-short files and impossible sizes are refused', () => {
  assert.match(problem(PNG.subarray(0, PNG.length - 12)), /PNG/);
  assert.match(problem(JPEG.subarray(0, JPEG.length - 2)), /JPEG/);
  assert.match(problem(WEBP.subarray(0, WEBP.length - 4)), /WebP/);
  const huge = Buffer.from(PNG);
  huge.writeUInt32BE(AVATAR_MAX_SIDE + 1, 16);
  assert.match(problem(huge), /at most 4096 pixels a side/);
  const empty = Buffer.from(PNG);
  empty.writeUInt32BE(0, 16);
  assert.match(problem(empty), /no pixels/);
});
