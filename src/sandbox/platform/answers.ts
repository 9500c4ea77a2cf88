/**
 * How the mini program platform answers: HTTP 200 and JSON, `{errcode: 0, errmsg: "ok", …}`
 * on success and `{errcode, errmsg}` with WeChat's request-id hint on failure.
 */
import { error } from '../login.js';

export type PlatformAnswer = Record<string, unknown>;

export function ok(fields: PlatformAnswer = {}): PlatformAnswer {
  return { errcode: 0, errmsg: 'ok', ...fields };
}

/** A refusal, thrown by a handler and answered as WeChat's `{errcode, errmsg}`. */
export class PlatformRefusal extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
  }

  answer(): PlatformAnswer {
    return error(this.errcode, this.errmsg);
  }
}

export function refuse(errcode: number, errmsg: string): never {
  throw new PlatformRefusal(errcode, errmsg);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
