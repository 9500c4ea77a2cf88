/** Signing in: a mini program user's session, and the admin console's token check. */
import { type Static, Type } from 'typebox';
import { DateTime, OneOf } from './common.js';

export const LoginBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

/** A logged-in user's session, as the server issued it. */
export const LoginAnswer = Type.Object({
  token: Type.String(),
  expiresAt: DateTime(),
  user: Type.Object({ id: Type.String() }),
});
export type LoginAnswer = Static<typeof LoginAnswer>;

export const LogoutAnswer = Type.Object({ ok: Type.Boolean() });
export type LogoutAnswer = Static<typeof LogoutAnswer>;

/** `GET /admin/v1/session`: the token works; which merchant and mode the server runs. */
export const AdminSession = Type.Object({
  ok: Type.Literal(true),
  mode: OneOf(['demo', 'live']),
  appId: Type.String(),
  mchId: Type.String(),
});
export type AdminSession = Static<typeof AdminSession>;
