/**
 * WeChat's payment and refund notifications, POST /wechatpay/v2/notify and /refund-notify. The
 * body is read raw (any content type, at most 64 KiB) and handed to the gateway to verify; the
 * reply is in WeChat's format: ok for handled and duplicate messages, retry when our side
 * failed, reject otherwise.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyHttpRequest, NotifyOutcome } from '../../../payments/gateway/gateway.js';
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
    const r = gateway.notifyReply('reject', tooLarge ? 'body too large' : 'unreadable body');
    return reply
      .code(tooLarge ? 413 : r.statusCode)
      .type(r.contentType)
      .send(r.body);
  });

  /** A route that hands the raw notify to `handle` and answers as WeChat expects. */
  const notifyRoute =
    (notify: 'payment' | 'refund', handle: (request: NotifyHttpRequest) => Promise<Handled>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const handled = await handle({ headers: request.headers, body });
      request.logDetail = { notify, outcome: handled.outcome, result: handled.result };
      const r = gateway.notifyReply(handled.outcome, handled.message);
      return reply.code(r.statusCode).type(r.contentType).send(r.body);
    };
  const options = () => ({ bodyLimit: NOTIFY_BODY_LIMIT, schema: { tags: ['wechat callbacks'] } });

  app.post(
    '/wechatpay/v2/notify',
    options(),
    notifyRoute('payment', (request) => payments.confirmation.handleNotify(request)),
  );
  app.post(
    '/wechatpay/v2/refund-notify',
    options(),
    notifyRoute('refund', (request) => payments.refundNotifications.handle(request)),
  );
};
