/**
 * The mini program platform's paths (api.weixin.qq.com): POST with a JSON body and
 * `?access_token=`, answered HTTP 200 with `{errcode, errmsg, …}` whatever happens, as WeChat
 * does (a bad body is 47001, another method 43002). Bodies are read raw and parsed here, so a
 * wrong Content-Type or malformed JSON gets WeChat's answer, not a Fastify error.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxEngine } from '../engine.js';
import { PLATFORM_ENDPOINTS } from '../faults.js';
import { error } from '../login.js';
import type { HeldSockets } from './held-sockets.js';

/** The largest body a platform call takes (an upload of 15 parcels is a few KiB). */
export const PLATFORM_MAX_BODY_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function platformRoutes(
  app: FastifyInstance,
  { engine, held }: { engine: SandboxEngine; held: HeldSockets },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: PLATFORM_MAX_BODY_BYTES },
    (_request, body, done) => done(null, body),
  );
  app.setErrorHandler((err: { code?: string }, _request, reply) =>
    reply
      .code(200)
      .send(
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? error(
              47001,
              `data format error: the body is larger than ${PLATFORM_MAX_BODY_BYTES} bytes`,
            )
          : error(-1, 'system error'),
      ),
  );
  for (const path of PLATFORM_ENDPOINTS) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.method !== 'POST') return reply.send(error(43002, 'require POST method'));
        const body = parseJson(request.body);
        if (body === undefined) return reply.send(error(47001, 'data format error'));
        const token = (request.query as Record<string, unknown>).access_token;
        const result = engine.platform.call(
          path,
          typeof token === 'string' ? token : undefined,
          body,
        );
        if ('swallow' in result)
          return held.swallow(reply, engine.core.faults.faults.timeoutHoldMs);
        return reply.send(result.answer);
      },
    });
  }
}

/** The JSON of a raw body; undefined when it is not UTF-8 JSON. */
function parseJson(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(utf8.decode(body));
  } catch {
    return undefined;
  }
}
