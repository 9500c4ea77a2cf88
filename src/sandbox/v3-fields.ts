/**
 * Reading the fields of a v3 request body as WeChat refuses them: a missing one is 400
 * PARAM_ERROR "缺少参数", one of the wrong type or size 400 PARAM_ERROR naming it, a text over
 * its byte limit in WeChat's observed words.
 */
import { utf8Length } from '../wechatpay/index.js';
import type { Json } from '../wechatpay/v3/index.js';
import { badField, refuseV3 } from './v3-endpoint.js';

export function string(json: Json, name: string, maxChars: number): string {
  const v = json[name];
  if (v === undefined || v === null || v === '') {
    refuseV3(400, 'PARAM_ERROR', `缺少参数 ${name}`, { field: name, location: 'body' });
  }
  if (typeof v !== 'string') badField(name, 'must be a string');
  if (v.length > maxChars) badField(name, `must be at most ${maxChars} characters`);
  return v;
}

export function optionalString(json: Json, name: string): string | undefined {
  const v = json[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') badField(name, 'must be a string');
  return v;
}

export function object(json: Json, name: string): Json {
  const v = json[name];
  if (v === undefined || v === null) {
    refuseV3(400, 'PARAM_ERROR', `缺少参数 ${name}`, { field: name, location: 'body' });
  }
  if (typeof v !== 'object' || Array.isArray(v)) badField(name, 'must be an object');
  return v as Json;
}

/** A text field within `max` bytes of UTF-8, refused in WeChat's observed words. */
export function bytes(name: string, value: string, max: number): void {
  const n = utf8Length(value);
  if (n > max) {
    refuseV3(
      400,
      'PARAM_ERROR',
      `输入源“/body/${name}”映射到值字段“${name}”字符串规则校验失败，字节数 ${n}，大于最大值 ${max}`,
      { field: name, location: 'body' },
    );
  }
}
