/**
 * The one HTTP exchange the protocol layer makes (undici): an explicit deadline over the whole
 * exchange, a size cap on the answer, and every transport failure as a typed `ambiguous`
 * error (WeChat may have acted on a request whose answer was lost).
 */
import { type Dispatcher, request } from 'undici';
import { WechatPayError } from './errors.js';

export interface HttpExchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  dispatcher?: Dispatcher;
  /** Named in error messages, e.g. `/pay/orderquery`. */
  what: string;
}

/** Sends one request and reads the whole answer; throws `WechatPayError`. */
export async function exchange(call: HttpCall): Promise<HttpExchange> {
  const signal = AbortSignal.timeout(call.timeoutMs);
  try {
    const res = await request(call.url, {
      method: call.method,
      body: call.body,
      headers: call.headers,
      dispatcher: call.dispatcher,
      signal,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > call.maxBytes) {
      res.body.destroy();
      throw tooLarge(call);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > call.maxBytes) {
        res.body.destroy();
        throw tooLarge(call);
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  } catch (err) {
    if (err instanceof WechatPayError) throw err;
    if (signal.aborted) {
      throw new WechatPayError(
        'ambiguous',
        'TIMEOUT',
        `${call.what}: no answer within ${call.timeoutMs} ms; WeChat may have acted: retry with the same ids or query`,
        { cause: err },
      );
    }
    const code = (err as { code?: string }).code;
    throw new WechatPayError(
      'ambiguous',
      'NETWORK',
      `${call.what}: network error${code ? ` (${code})` : ''}: ${(err as Error).message}; retry with the same ids or query`,
      { cause: err },
    );
  }
}

function tooLarge(call: HttpCall): WechatPayError {
  return new WechatPayError(
    'invalid',
    'RESPONSE_TOO_LARGE',
    `${call.what}: the answer is larger than ${call.maxBytes} bytes; refused unread`,
  );
}
