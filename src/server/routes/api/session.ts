/** A mini program user's session: log in with a `wx.login` code, log out. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginAnswer, LoginBody, LogoutAnswer } from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { perClientAddress } from '../../plugins/rate-limits.js';
import { bearer } from '../auth.js';
import { openRoute, userRoute } from './schema.js';

export const loginRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { login } = options.payments;
  app.post(
    '/api/v1/login',
    {
      config: perClientAddress(options.rateLimits.loginPerMinute),
      schema: openRoute({ body: LoginBody, response: { 200: LoginAnswer } }),
    },
    async (request) => login.login(request.body.code),
  );
};

/** Signed-in only (registered under the API's session hook). */
export const logoutRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { login } = options.payments;
  app.post(
    '/api/v1/logout',
    { schema: userRoute({ response: { 200: LogoutAnswer } }) },
    async (request) => ({ ok: await login.logout(bearer(request)!) }),
  );
};
