/**
 * The HTTP exchanges the protocol layer makes (undici): an explicit deadline, a size cap on the
 * answer, and every transport failure as a typed `ambiguous` error (WeChat may have acted on a
 * request whose answer was lost). `exchange` reads the whole answer; `openExchange` hands the
 * body on as it arrives (bills).
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
    throw transportError(call, err, signal.aborted);
  }
}

/** A failure of the exchange itself: WeChat may have acted on the request. */
function transportError(call: HttpCall, err: unknown, timedOut: boolean): WechatPayError {
  if (timedOut) {
    return new WechatPayError(
      'ambiguous',
      'TIMEOUT',
      `${call.what}: no answer within ${call.timeoutMs} ms; WeChat may have acted: retry with the same ids or query`,
      { cause: err },
    );
  }
  const code = (err as { code?: string }).code;
  return new WechatPayError(
    'ambiguous',
    'NETWORK',
    `${call.what}: network error${code ? ` (${code})` : ''}: ${(err as Error).message}; retry with the same ids or query`,
    { cause: err },
  );
}

function tooLarge(call: HttpCall): WechatPayError {
  return new WechatPayError(
    'invalid',
    'RESPONSE_TOO_LARGE',
    `${call.what}: the answer is larger than ${call.maxBytes} bytes; refused unread`,
  );
}

/** An answer whose body is read as it arrives (bills). */
export interface HttpStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body's chunks; failures while reading it are `WechatPayError`s like `exchange`'s. */
  body: AsyncIterable<Buffer>;
  /** Drops the body unread. */
  discard(): void;
}

/**
 * Sends one request and returns once the answer's headers are in: `timeoutMs` bounds the wait
 * for them, and then each wait for the next piece of the body (not the whole body, which may
 * be hundreds of megabytes); `maxBytes` caps the body.
 */
export async function openExchange(call: HttpCall): Promise<HttpStream> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), call.timeoutMs);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(call.url, {
      method: call.method,
      body: call.body,
      headers: call.headers,
      dispatcher: call.dispatcher,
      signal: controller.signal,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
  } catch (err) {
    throw transportError(call, err, controller.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
  // A body dropped unread errors with "aborted"; nobody is waiting for that.
  res.body.on('error', () => undefined);
  const declared = Number(res.headers['content-length'] ?? 0);
  if (declared > call.maxBytes) {
    res.body.destroy();
    throw tooLarge(call);
  }
  return {
    status: res.statusCode,
    headers: res.headers,
    body: cappedBody(res.body, call),
    discard: () => res.body.destroy(),
  };
}

async function* cappedBody(body: Dispatcher.ResponseData['body'], call: HttpCall) {
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > call.maxBytes) throw tooLarge(call);
      yield chunk as Buffer;
    }
  } catch (err) {
    if (err instanceof WechatPayError) throw err;
    throw transportError(call, err, (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT');
  } finally {
    body.destroy();
  }
}
