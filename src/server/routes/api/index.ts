/**
 * The mini program API, /api/v1 (docs/http-api.md). Login and the catalogue are open; every
 * other route is registered inside ONE plugin whose onRequest hook checks the session (before
 * the body is read, so the per-user limits that follow know who is asking).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../../options.js';
import { requireUser } from '../auth.js';
import { avatarImageRoutes, avatarUploadRoutes } from './avatars.js';
import { meRoutes } from './me.js';
import { orderRoutes } from './orders.js';
import { productRoutes } from './products.js';
import { loginRoutes, logoutRoutes } from './session.js';

export const apiRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  await app.register(loginRoutes, options);
  await app.register(productRoutes, options);
  await app.register(avatarImageRoutes, options);
  await app.register(signedIn, options);
};

const signedIn: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { login } = options.payments;
  app.addHook('onRequest', async (request) => {
    await requireUser(request, login);
  });
  await app.register(logoutRoutes, options);
  await app.register(orderRoutes, options);
  await app.register(meRoutes, options);
  await app.register(avatarUploadRoutes, options);
};
