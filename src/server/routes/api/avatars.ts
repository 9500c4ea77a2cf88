/**
 * Avatars (docs/http-api.md): `POST /api/v1/me/avatar` takes the image the user chose with
 * `<button open-type="chooseAvatar">`, as `wx.uploadFile` sends it (multipart/form-data, the
 * file in the field `file`); `GET /api/v1/avatars/:id` serves it to anyone with the URL (a
 * mini program `<image>` sends no token), as the type read from its bytes, never sniffed by
 * the browser, never run (a sandboxing CSP), cached for a year (a new upload has a new id).
 */
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { AvatarBytes, AvatarParams, MeAnswer } from '../../../contract/index.js';
import { DomainError } from '../../../payments/lib/errors.js';
import { AVATAR_MAX_BYTES } from '../../../payments/profile/avatar-image.js';
import { avatarTooLarge } from '../../../payments/profile/profiles.js';
import type { ServerOptions } from '../../options.js';
import { perUser } from '../../plugins/rate-limits.js';
import { openRoute, userRoute } from './schema.js';

const FIELD = 'file';

const notMultipart = () =>
  new DomainError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `send the image as multipart/form-data, the file in the field "${FIELD}" (wx.uploadFile with name: "${FIELD}")`,
  );

/** Signed in: registered inside the session-checking plugin of /api/v1. */
export const avatarUploadRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  // Multipart for this route only; anything else is refused before it is read.
  await app.register(multipart, { throwFileSizeLimit: true });
  app.addContentTypeParser('*', (_request, _payload, done) => done(notMultipart()));
  app.post(
    '/api/v1/me/avatar',
    {
      config: perUser(options.rateLimits.orderActionsPerMinute),
      schema: userRoute({ response: { 200: MeAnswer } }),
    },
    async (request) => ({
      user: await options.payments.profiles.uploadAvatar(request.user!, await readImage(request)),
    }),
  );
};

/** The first file part, named `file`, of at most AVATAR_MAX_BYTES; other fields are ignored. */
async function readImage(request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart()) throw notMultipart();
  try {
    const part = await request.file({
      limits: { fileSize: AVATAR_MAX_BYTES, files: 1, fields: 8, fieldSize: 1024, parts: 9 },
    });
    if (!part) throw refused(`the form has no file; put the image in the field "${FIELD}"`);
    if (part.fieldname !== FIELD) {
      part.file.resume();
      throw refused(`the image must be in the field "${FIELD}", not "${part.fieldname}"`);
    }
    return await part.toBuffer();
  } catch (err) {
    if (err instanceof DomainError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw avatarTooLarge();
    throw refused(`the multipart body is malformed: ${(err as Error).message}`);
  }
}

const refused = (message: string) => new DomainError(400, 'INVALID_AVATAR_FORM', message);

/** Open: anyone with the URL (ids are unguessable, ~131 random bits). */
export const avatarImageRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  app.get(
    '/api/v1/avatars/:id',
    { schema: openRoute({ params: AvatarParams, response: { 200: AvatarBytes } }) },
    async (request, reply) => {
      const avatar = await options.payments.profiles.avatar(request.params.id);
      return reply
        .header('content-type', avatar.content_type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('etag', `"${avatar.sha256}"`)
        .send(avatar.data);
    },
  );
};
