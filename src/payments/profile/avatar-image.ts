/**
 * What an uploaded avatar is, read from its bytes, never from a header or a file name: PNG,
 * JPEG or WebP, walked chunk by chunk (segment by segment) to its end marker, so that nothing
 * may follow the image (the trick of polyglot files: an image that is also HTML, a script or
 * an archive) and its size is known. SVG is refused (it can carry scripts), and so is every
 * other type. The structure rules are the formats' own: PNG (ISO/IEC 15948, chunks to IEND),
 * JPEG (ITU T.81, markers to EOI), WebP (RIFF container, Google's WebP container spec).
 */

export type AvatarType = 'image/png' | 'image/jpeg' | 'image/webp';

export interface AvatarImage {
  type: AvatarType;
  width: number;
  height: number;
}

/** The largest avatar accepted, in bytes. */
export const AVATAR_MAX_BYTES = 1024 * 1024;

/** The largest side accepted: more is no avatar, and can exhaust a phone decoding it. */
export const AVATAR_MAX_SIDE = 4096;

export type AvatarCheck = { ok: true; image: AvatarImage } | { ok: false; problem: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Reads `bytes` as an avatar; `problem` says why it is not one. */
export function checkAvatarImage(bytes: Buffer): AvatarCheck {
  let image: AvatarImage;
  try {
    image = readImage(bytes);
  } catch (err) {
    if (!(err instanceof NotAnAvatar)) throw err;
    return { ok: false, problem: err.message };
  }
  if (image.width < 1 || image.height < 1) {
    return { ok: false, problem: 'the image has no pixels' };
  }
  if (image.width > AVATAR_MAX_SIDE || image.height > AVATAR_MAX_SIDE) {
    return {
      ok: false,
      problem: `the image is ${image.width}×${image.height}; at most ${AVATAR_MAX_SIDE} pixels a side`,
    };
  }
  return { ok: true, image };
}

class NotAnAvatar extends Error {}

function readImage(bytes: Buffer): AvatarImage {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return readPng(bytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return readJpeg(bytes);
  }
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return readWebp(bytes);
  const head = bytes
    .subarray(0, 512)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (head.startsWith('<')) {
    throw new NotAnAvatar('SVG, HTML and XML are not accepted (they can carry scripts)');
  }
  if (ascii(bytes, 0, 3) === 'GIF') throw new NotAnAvatar('GIF is not accepted');
  throw new NotAnAvatar('not a PNG, JPEG or WebP image');
}

function ascii(bytes: Buffer, at: number, length: number): string {
  return bytes.length >= at + length ? bytes.toString('latin1', at, at + length) : '';
}

/** PNG: IHDR first, then chunks to IEND, which must end the file. */
function readPng(bytes: Buffer): AvatarImage {
  let at = 8;
  let size: { width: number; height: number } | undefined;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new NotAnAvatar('a PNG chunk is malformed');
    const end = at + 12 + length;
    if (end > bytes.length) throw new NotAnAvatar('the PNG is cut short');
    if (!size) {
      if (type !== 'IHDR' || length !== 13)
        throw new NotAnAvatar('the PNG does not start with IHDR');
      size = { width: bytes.readUInt32BE(at + 8), height: bytes.readUInt32BE(at + 12) };
    }
    if (type === 'IEND') {
      if (end !== bytes.length) throw new NotAnAvatar('data follows the end of the PNG');
      return { type: 'image/png', ...size };
    }
    at = end;
  }
  throw new NotAnAvatar('the PNG has no IEND');
}

/** JPEG: segments to the first scan, the scans (and segments between them) to EOI, the end. */
function readJpeg(bytes: Buffer): AvatarImage {
  let at = 2;
  let size: { width: number; height: number } | undefined;
  let scanning = false;
  while (at + 1 < bytes.length) {
    if (bytes[at] !== 0xff) {
      if (!scanning) throw new NotAnAvatar('a JPEG segment is malformed');
      at++;
      continue;
    }
    const marker = bytes[at + 1]!;
    // In scan data FF is stuffed as FF00; RSTn and fill bytes carry no length.
    if (marker === 0x00 || marker === 0xff || (marker >= 0xd0 && marker <= 0xd7)) {
      if (!scanning && marker !== 0xff) throw new NotAnAvatar('a JPEG segment is malformed');
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xd9) {
      if (!size || !scanning) throw new NotAnAvatar('the JPEG has no frame or no scan');
      if (at + 2 !== bytes.length) throw new NotAnAvatar('data follows the end of the JPEG');
      return { type: 'image/jpeg', ...size };
    }
    if (at + 4 > bytes.length) break;
    const length = bytes.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > bytes.length)
      throw new NotAnAvatar('the JPEG is cut short');
    if (isStartOfFrame(marker) && length >= 7) {
      size = { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    }
    if (marker === 0xda) scanning = true;
    at += 2 + length;
  }
  throw new NotAnAvatar('the JPEG has no end (EOI)');
}

function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** WebP: a RIFF file exactly as long as it says, its chunks filling it; the size from the first. */
function readWebp(bytes: Buffer): AvatarImage {
  if (bytes.readUInt32LE(4) + 8 !== bytes.length) {
    throw new NotAnAvatar('the WebP is not as long as its RIFF header says');
  }
  let at = 12;
  let size: { width: number; height: number } | undefined;
  while (at + 8 <= bytes.length) {
    const fourcc = bytes.toString('latin1', at, at + 4);
    const length = bytes.readUInt32LE(at + 4);
    const data = at + 8;
    const end = data + length + (length % 2);
    if (end > bytes.length) throw new NotAnAvatar('the WebP is cut short');
    size ??= webpSize(fourcc, bytes.subarray(data, data + length));
    at = end;
  }
  if (at !== bytes.length || !size) throw new NotAnAvatar('the WebP is malformed');
  return { type: 'image/webp', ...size };
}

function webpSize(fourcc: string, data: Buffer): { width: number; height: number } {
  if (fourcc === 'VP8X' && data.length >= 10) {
    return { width: data.readUIntLE(4, 3) + 1, height: data.readUIntLE(7, 3) + 1 };
  }
  if (fourcc === 'VP8L' && data.length >= 5 && data[0] === 0x2f) {
    const bits = data.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (
    fourcc === 'VP8 ' &&
    data.length >= 10 &&
    data[3] === 0x9d &&
    data[4] === 0x01 &&
    data[5] === 0x2a
  ) {
    return { width: data.readUInt16LE(6) & 0x3fff, height: data.readUInt16LE(8) & 0x3fff };
  }
  throw new NotAnAvatar('the WebP does not start with an image chunk (VP8, VP8L or VP8X)');
}
