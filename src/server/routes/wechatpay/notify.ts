/**
 * WeChat's payment and refund notifications: POST /wechatpay/v2/notify and /refund-notify
 * (APIv2 XML), /wechatpay/v3/notify and /refund-notify (APIv3 signed JSON). The body is read
 * raw (any content type, at most 64 KiB: v3 signatures cover the bytes) and handed to the
 * gateway with the API of its path to verify; the reply is in that API's format: ok for
 * handled and duplicate messages, retry when our side failed, reject otherwise.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  type NotifyHttpRequest,
  type NotifyOutcome,
  WECHATPAY_APIS,
  type WechatPayApi,
} from '../../../payments/gateway/gateway.js';
import type { ServerOptions } from '../../options.js';

export const NOTIFY_BODY_LIMIT = 64 * 1024;

/** What handling a notify came to, as both kinds report it. */
interface Handled {
  outcome: NotifyOutcome;
  message: string;
  result?: string;
}

export const notifyRoutes: FastifyPluginAsync<ServerOptions> = async (app, { payments }) => {
  const { gateway } = payments.context;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: NOTIFY_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((err, request, reply) => {
    // Oversized or unreadable bodies: WeChat's format, never JSON, and nothing recorded.
    const tooLarge = (err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    request.log.warn({ code: (err as { code?: string }).code }, 'notify body refused');
    const api: WechatPayApi = request.url.startsWith('/wechatpay/v3/') ? 'v3' : 'v2';
    const r = gateway.notifyReply('reject', tooLarge ? 'body too large' : 'unreadable body', api);
    return reply
      .code(tooLarge ? 413 : r.statusCode)
      .type(r.contentType)
      .send(r.body);
  });

  /** A route that hands the raw notify to `handle` and answers as WeChat expects. */
  const notifyRoute =
    (
      api: WechatPayApi,
      notify: 'payment' | 'refund',
      handle: (request: NotifyHttpRequest) => Promise<Handled>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const handled = await handle({ headers: request.headers, body, api });
      request.logDetail = { notify, api, outcome: handled.outcome, result: handled.result };
      const r = gateway.notifyReply(handled.outcome, handled.message, api);
      return reply.code(r.statusCode).type(r.contentType).send(r.body);
    };
  const options = () => ({ bodyLimit: NOTIFY_BODY_LIMIT, schema: { tags: ['wechat callbacks'] } });

  for (const api of WECHATPAY_APIS) {
    app.post(
      `/wechatpay/${api}/notify`,
      options(),
      notifyRoute(api, 'payment', (request) => payments.confirmation.handleNotify(request)),
    );
    app.post(
      `/wechatpay/${api}/refund-notify`,
      options(),
      notifyRoute(api, 'refund', (request) => payments.refundNotifications.handle(request)),
    );
  }
};
