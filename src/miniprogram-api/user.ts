/**
 * The user: the phone number behind a `getPhoneNumber` code (`/wxa/business/getuserphonenumber`)
 * and the profile a user fills in with today's avatar and nickname components
 * (`<button open-type="chooseAvatar">`, `<input type="nickname">`; `getUserProfile` is retired).
 * WeChat sets no server-side limits on the profile; the ones here are minipay's
 * (docs/miniprogram-api.md, "The user").
 */
import { MiniProgramApiError } from './errors.js';
import { invalidAnswer, type JsonObject } from './http.js';

export const PHONE_NUMBER_PATH = '/wxa/business/getuserphonenumber';

export interface PhoneInfo {
  /** With the country code for numbers outside mainland China, e.g. `+1 202…`. */
  phoneNumber: string;
  /** Without the country code. */
  purePhoneNumber: string;
  countryCode: string;
  /** When the user gave the number; WeChat's watermark. */
  grantedAt: Date;
}

/** A `getPhoneNumber` code: single use, valid 5 minutes; refused locally when malformed. */
export function checkPhoneCode(code: string): void {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(code)) {
    throw new MiniProgramApiError(
      'rejected',
      '40029',
      'the phone number code is malformed; send the code of getPhoneNumber as it is',
      { errcode: 40029 },
    );
  }
}

/** The `phone_info` of an answer, after checking its watermark names our AppID. */
export function parsePhoneInfo(json: JsonObject, appId: string): PhoneInfo {
  const info = json.phone_info;
  if (typeof info !== 'object' || info === null) {
    throw invalidAnswer(PHONE_NUMBER_PATH, 'the answer has no phone_info');
  }
  const { phoneNumber, purePhoneNumber, countryCode, watermark } = info as JsonObject;
  if (typeof phoneNumber !== 'string' || !/^\+?[0-9 -]{3,32}$/.test(phoneNumber)) {
    throw invalidAnswer(PHONE_NUMBER_PATH, 'phoneNumber is missing or malformed');
  }
  if (typeof purePhoneNumber !== 'string' || !/^[0-9]{3,20}$/.test(purePhoneNumber)) {
    throw invalidAnswer(PHONE_NUMBER_PATH, 'purePhoneNumber is missing or malformed');
  }
  // The table says string, the example shows a number (86).
  const country = typeof countryCode === 'number' ? String(countryCode) : countryCode;
  if (typeof country !== 'string' || !/^[0-9]{1,4}$/.test(country)) {
    throw invalidAnswer(PHONE_NUMBER_PATH, 'countryCode is missing or malformed');
  }
  const mark = (typeof watermark === 'object' && watermark !== null ? watermark : {}) as JsonObject;
  if (mark.appid !== appId) {
    throw new MiniProgramApiError(
      'invalid',
      'WRONG_APPID',
      `${PHONE_NUMBER_PATH}: the watermark names AppID ${JSON.stringify(String(mark.appid).slice(0, 32))}, not ${appId}; refused`,
    );
  }
  const timestamp = mark.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw invalidAnswer(PHONE_NUMBER_PATH, 'watermark.timestamp is not a time');
  }
  return {
    phoneNumber,
    purePhoneNumber,
    countryCode: country,
    grantedAt: new Date(timestamp * 1000),
  };
}

export const PROFILE_LIMITS = {
  /** User-perceived characters (an emoji is one). */
  nicknameChars: 32,
  avatarUrlChars: 1024,
} as const;

export interface ProfileUpdate {
  nickname?: string;
  avatarUrl?: string;
}

export interface ProfileCheckOptions {
  /** Accept `http:` avatar URLs (a local demo); default https only. */
  allowHttp?: boolean;
  /** When given, the avatar must be served from one of these hosts (the app's upload host). */
  avatarHosts?: readonly string[];
}

export type ProfileCheck =
  | { ok: true; value: ProfileUpdate }
  | { ok: false; field: 'body' | 'nickname' | 'avatarUrl'; code: string; message: string };

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Checks a `PATCH /api/v1/me` body: `{ nickname?, avatarUrl? }`, at least one, nothing else.
 * The nickname comes back trimmed and NFC-normalised. Never throws.
 */
export function checkProfileUpdate(
  input: unknown,
  options: ProfileCheckOptions = {},
): ProfileCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refuse('body', 'INVALID_BODY', 'the body must be a JSON object');
  }
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => k !== 'nickname' && k !== 'avatarUrl');
  if (unknown.length > 0) {
    return refuse('body', 'UNKNOWN_FIELD', `unknown field ${JSON.stringify(unknown[0])}`);
  }
  if (body.nickname === undefined && body.avatarUrl === undefined) {
    return refuse('body', 'EMPTY_UPDATE', 'give nickname, avatarUrl or both');
  }
  const value: ProfileUpdate = {};
  if (body.nickname !== undefined) {
    const nickname = checkNickname(body.nickname);
    if (typeof nickname !== 'string') return nickname;
    value.nickname = nickname;
  }
  if (body.avatarUrl !== undefined) {
    const problem = avatarUrlProblem(body.avatarUrl, options);
    if (problem) return refuse('avatarUrl', 'INVALID_AVATAR_URL', problem);
    value.avatarUrl = body.avatarUrl as string;
  }
  return { ok: true, value };
}

/**
 * Refused in a nickname: controls and line breaks, and the invisible format characters
 * (bidirectional overrides, zero-width spaces) except the zero-width joiner of emoji.
 */
const FORBIDDEN_IN_NICKNAME = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\p{Co}]|(?!\u200d)\p{Cf}/u;

function checkNickname(raw: unknown): string | ProfileCheck {
  if (typeof raw !== 'string') return refuse('nickname', 'INVALID_NICKNAME', 'must be text');
  const nickname = raw.normalize('NFC').trim();
  if (nickname === '') return refuse('nickname', 'INVALID_NICKNAME', 'must not be empty');
  if (FORBIDDEN_IN_NICKNAME.test(nickname)) {
    return refuse(
      'nickname',
      'INVALID_NICKNAME',
      'must not contain control or invisible characters',
    );
  }
  let count = 0;
  for (const _ of graphemes.segment(nickname)) count++;
  if (count > PROFILE_LIMITS.nicknameChars) {
    return refuse(
      'nickname',
      'INVALID_NICKNAME',
      `must be at most ${PROFILE_LIMITS.nicknameChars} characters`,
    );
  }
  return nickname;
}

function avatarUrlProblem(raw: unknown, options: ProfileCheckOptions): string | undefined {
  if (typeof raw !== 'string' || raw === '') return 'must be a URL';
  if (raw.length > PROFILE_LIMITS.avatarUrlChars) {
    return `must be at most ${PROFILE_LIMITS.avatarUrlChars} characters`;
  }
  if (/^(wxfile:|http:\/\/tmp\/)/i.test(raw)) {
    return 'is a temporary file on the phone (chooseAvatar); upload it and send the uploaded URL';
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is refused
  if (/[\s\u0000-\u001f\u007f\\]/.test(raw)) return 'must not contain spaces, controls or "\\"';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  const schemeOk = url.protocol === 'https:' || (options.allowHttp && url.protocol === 'http:');
  if (!schemeOk) return options.allowHttp ? 'must be an http(s) URL' : 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (options.avatarHosts && !options.avatarHosts.includes(url.host)) {
    return `must be served from ${options.avatarHosts.join(' or ')}`;
  }
  return undefined;
}

function refuse(
  field: 'body' | 'nickname' | 'avatarUrl',
  code: string,
  message: string,
): ProfileCheck {
  return { ok: false, field, code, message: field === 'body' ? message : `${field} ${message}` };
}
