/**
 * Subscribe messages (订阅消息, `subscribeMessage.send`): the request, WeChat's rules on
 * template values by type (`thing` ≤ 20 characters, `phrase` ≤ 5 Chinese characters, ...),
 * and `buildTemplateData`, which fills a template from configuration (template key → the name
 * of a value the app provides). Like shipping, the body check names the errcode WeChat
 * answers, for the client and for the sandbox alike (docs/miniprogram-api.md).
 */
import { MiniProgramApiError } from './errors.js';
import { charLength } from './shipping.js';

export const SUBSCRIBE_VALUE_TYPES = [
  'thing',
  'number',
  'letter',
  'symbol',
  'character_string',
  'time',
  'date',
  'amount',
  'phone_number',
  'car_number',
  'name',
  'phrase',
  'enum',
] as const;
export type SubscribeValueType = (typeof SUBSCRIBE_VALUE_TYPES)[number];

/** A template key is its type and a number: `thing1`, `character_string12`, `amount3`. */
const TEMPLATE_KEY = new RegExp(`^(${SUBSCRIBE_VALUE_TYPES.join('|')})(\\d{1,3})$`);

/** The type of a template key, or undefined when the key is not one. */
export function templateKeyType(key: string): SubscribeValueType | undefined {
  return TEMPLATE_KEY.exec(key)?.[1] as SubscribeValueType | undefined;
}

const DATE_PART = String.raw`(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})`;
const TIME_PART = String.raw`\d{1,2}:\d{2}(?::\d{2})?`;
const DATE_VALUE = `${DATE_PART}(?: ?${TIME_PART})?`;
const TIME_VALUE = `(?:${DATE_PART} ?)?${TIME_PART}`;
const range = (one: string) => new RegExp(`^${one}(?: ?~ ?${one})?$`);

/** WeChat's value rules, one test per type; the limits are in characters. */
const RULES: Readonly<Record<SubscribeValueType, { test: (v: string) => boolean; rule: string }>> =
  {
    thing: { test: (v) => charLength(v) <= 20, rule: 'at most 20 characters' },
    number: {
      test: (v) => /^\d+(\.\d+)?$/.test(v) && v.length <= 32,
      rule: 'digits (a decimal point allowed), at most 32',
    },
    letter: { test: (v) => /^[A-Za-z]{1,32}$/.test(v), rule: 'at most 32 letters' },
    symbol: { test: (v) => /^[^\p{L}\p{N}\s]{1,5}$/u.test(v), rule: 'at most 5 symbols' },
    character_string: {
      test: (v) => /^[\x21-\x7e]{1,32}$/.test(v),
      rule: 'at most 32 digits, letters or symbols',
    },
    time: {
      test: (v) => range(TIME_VALUE).test(v),
      rule: '24-hour time, optionally with a date, e.g. 15:01 or 2019年10月1日 15:01',
    },
    date: {
      test: (v) => range(DATE_VALUE).test(v),
      rule: 'a date, optionally with a 24-hour time, e.g. 2019年10月1日 15:01',
    },
    amount: {
      test: (v) => /^[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?$/.test(v),
      rule: 'an optional currency sign, at most 10 digits, optional decimals and 元',
    },
    phone_number: {
      test: (v) => /^[0-9+\-() ]{1,17}$/.test(v),
      rule: 'at most 17 digits and symbols',
    },
    car_number: {
      test: (v) =>
        charLength(v) <= 8 && /^[\p{Script=Han}A-Z0-9][A-Z0-9]*[\p{Script=Han}A-Z0-9]?$/u.test(v),
      rule: 'at most 8: letters and digits, a Chinese character first or last',
    },
    name: {
      test: (v) =>
        /\p{Script=Han}/u.test(v)
          ? charLength(v) <= 10 && !/\p{N}/u.test(v)
          : /^[^\p{N}]{1,20}$/u.test(v),
      rule: 'at most 10 Chinese characters, or 20 letters and symbols',
    },
    phrase: { test: (v) => /^\p{Script=Han}{1,5}$/u.test(v), rule: 'at most 5 Chinese characters' },
    enum: { test: (v) => charLength(v) <= 32, rule: 'one of the template’s enum values' },
  };

/** Why `value` breaks the rule of `type`, or undefined. */
export function subscribeValueProblem(type: SubscribeValueType, value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is refused
  if (value === '' || /[\u0000-\u001f\u007f]/.test(value)) {
    return `${type} must be non-empty text without control characters`;
  }
  const { test, rule } = RULES[type];
  return test(value) ? undefined : `${type} must be ${rule}`;
}

export type MiniprogramState = 'developer' | 'trial' | 'formal';
export type SubscribeLang = 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW';

export interface SubscribeMessage {
  /** The receiver's openid. */
  toOpenid: string;
  templateId: string;
  /** A page of this mini program, query allowed (`pages/order/order?id=1`); none: no link. */
  page?: string;
  /** `{ thing1: { value: '…' }, … }`, from `buildTemplateData`. */
  data: Readonly<Record<string, { value: string }>>;
  /** Which version the link opens; default (WeChat's) formal. */
  miniprogramState?: MiniprogramState;
  lang?: SubscribeLang;
}

export interface SubscribeBody {
  touser: string;
  template_id: string;
  page?: string;
  data: Record<string, { value: string }>;
  miniprogram_state?: MiniprogramState;
  lang?: SubscribeLang;
}

export function subscribeBody(message: SubscribeMessage): SubscribeBody {
  return {
    touser: message.toOpenid,
    template_id: message.templateId,
    page: message.page,
    data: { ...message.data },
    miniprogram_state: message.miniprogramState,
    lang: message.lang,
  };
}

/** The first rule `body` breaks and WeChat's errcode for it, or undefined. */
export function subscribeBodyProblem(
  body: unknown,
): { errcode: number; message: string } | undefined {
  if (!isObject(body)) return { errcode: 47001, message: 'the body is not a JSON object' };
  const { touser, template_id: templateId, page, data } = body;
  if (typeof touser !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(touser)) {
    return { errcode: 40003, message: 'touser must be an openid' };
  }
  if (typeof templateId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(templateId)) {
    return { errcode: 40037, message: 'template_id is empty or malformed' };
  }
  if (page !== undefined && (typeof page !== 'string' || !isPagePath(page))) {
    return { errcode: 41030, message: 'page must be a page path of this mini program' };
  }
  if (!['developer', 'trial', 'formal', undefined].includes(body.miniprogram_state as string)) {
    return { errcode: 47003, message: 'miniprogram_state must be developer, trial or formal' };
  }
  if (!['zh_CN', 'en_US', 'zh_HK', 'zh_TW', undefined].includes(body.lang as string)) {
    return { errcode: 47003, message: 'lang must be zh_CN, en_US, zh_HK or zh_TW' };
  }
  if (!isObject(data) || Object.keys(data).length === 0) {
    return { errcode: 47003, message: 'data must hold the template values' };
  }
  for (const [key, entry] of Object.entries(data)) {
    const type = templateKeyType(key);
    const value = isObject(entry) ? entry.value : undefined;
    const why =
      type === undefined
        ? `${key} is not a template key (type + number, e.g. thing1)`
        : typeof value !== 'string'
          ? 'the value must be a string'
          : subscribeValueProblem(type, value);
    if (why)
      return { errcode: 47003, message: `argument invalid! data.${key}.value invalid: ${why}` };
  }
  return undefined;
}

function isPagePath(page: string): boolean {
  return page.length <= 1024 && /^\/?[A-Za-z0-9_\-./]+(\?[^\s#]*)?$/.test(page);
}

/** Template key → the name of the value that fills it, e.g. `{ thing1: 'productName' }`. */
export type TemplateFieldMapping = Readonly<Record<string, string>>;

/**
 * A value the app provides: text, a Date (shown in Beijing time, `2019年10月1日 15:01`), or a
 * number (an `amount` is fen, shown `12.50元`; a `number` as digits).
 */
export type TemplateValue = string | number | Date;

/**
 * The `data` of a subscribe message from a mapping in configuration and the app's values.
 * `thing` values longer than 20 characters are shortened with `…`; any other value that
 * breaks its type's rule, and any mapping that names no value, is refused with
 * `MiniProgramApiError` (`config` for the mapping, `rejected`/`BAD_TEMPLATE_DATA` for values).
 */
export function buildTemplateData(
  mapping: TemplateFieldMapping,
  values: Readonly<Record<string, TemplateValue | undefined>>,
): Record<string, { value: string }> {
  const data: Record<string, { value: string }> = {};
  for (const [key, source] of Object.entries(mapping)) {
    const type = templateKeyType(key);
    if (!type) {
      throw new MiniProgramApiError(
        'config',
        'TEMPLATE_MAPPING',
        `template key ${JSON.stringify(key)} is not a type and a number (thing1, amount2, ...); check the template mapping`,
      );
    }
    const raw = values[source];
    if (raw === undefined) {
      throw new MiniProgramApiError(
        'config',
        'TEMPLATE_MAPPING',
        `template key ${key} is mapped to ${JSON.stringify(source)}, which is not a value minipay provides; check the template mapping`,
      );
    }
    const value = formatValue(type, raw);
    const why = subscribeValueProblem(type, value);
    if (why) {
      throw new MiniProgramApiError(
        'rejected',
        'BAD_TEMPLATE_DATA',
        `template value ${key} (${source}) is refused: ${why}`,
      );
    }
    data[key] = { value };
  }
  return data;
}

function formatValue(type: SubscribeValueType, raw: TemplateValue): string {
  if (raw instanceof Date) return beijingChineseDateTime(raw);
  if (typeof raw === 'number') return type === 'amount' ? formatFen(raw) : String(raw);
  if (type === 'thing' && charLength(raw) > 20) return `${[...raw].slice(0, 19).join('')}…`;
  return raw;
}

/** `1250` fen → `12.50元`. */
export function formatFen(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError('an amount is whole fen ≥ 0');
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}元`;
}

/** `2019年10月1日 15:01`, Beijing time. */
export function beijingChineseDateTime(date: Date): string {
  const b = new Date(date.getTime() + 8 * 3600_000);
  const hh = String(b.getUTCHours()).padStart(2, '0');
  const mm = String(b.getUTCMinutes()).padStart(2, '0');
  return `${b.getUTCFullYear()}年${b.getUTCMonth() + 1}月${b.getUTCDate()}日 ${hh}:${mm}`;
}

/** Why WeChat did not deliver a subscribe message, when it is the request's or the user's fault. */
export type SubscribeRefusal =
  | 'user-refused'
  | 'bad-data'
  | 'bad-template'
  | 'bad-openid'
  | 'bad-page';

/** errcode → refusal: these answers are outcomes to record, not failures to retry. */
export const SUBSCRIBE_REFUSALS: Readonly<Record<number, SubscribeRefusal>> = {
  43101: 'user-refused',
  47003: 'bad-data',
  40037: 'bad-template',
  40003: 'bad-openid',
  41030: 'bad-page',
};

export type SubscribeSendResult =
  | { sent: true }
  | {
      sent: false;
      refusal: SubscribeRefusal;
      /** WeChat's errcode; absent when minipay refused the message before sending it. */
      errcode?: number;
      message: string;
    };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
