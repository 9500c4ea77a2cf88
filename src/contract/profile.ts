/**
 * The user (`/api/v1/me`): the nickname and avatar filled in with WeChat's components, the
 * phone number given through `getPhoneNumber` (shown masked), and the subscribe message
 * templates to ask for at checkout (docs/http-api.md).
 */
import { type Static, Type } from 'typebox';
import { DateTime, Nullable } from './common.js';

export const Me = Type.Object({
  id: Type.String(),
  nickname: Nullable(Type.String()),
  avatarUrl: Nullable(Type.String()),
  /** `138****5678`: the number itself is never sent back. */
  phone: Nullable(Type.String()),
  phoneGrantedAt: Nullable(DateTime()),
});
export type Me = Static<typeof Me>;

export const MeAnswer = Type.Object({ user: Me });
export type MeAnswer = Static<typeof MeAnswer>;

/**
 * `PATCH /api/v1/me`: checked by the domain (`checkProfileUpdate`), so that a refusal names the
 * field and why (control characters, length, a temporary avatar path); the schema only bounds it.
 */
export const ProfilePatch = Type.Object(
  {
    nickname: Type.Optional(Type.String({ maxLength: 256 })),
    avatarUrl: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type ProfilePatch = Static<typeof ProfilePatch>;

/** `POST /api/v1/me/phone`: the code of the `getPhoneNumber` button. */
export const PhoneBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
export type PhoneBody = Static<typeof PhoneBody>;

/** The templates `wx.requestSubscribeMessage` should offer at checkout (null: none configured). */
export const SubscribeTemplates = Type.Object({
  paid: Nullable(Type.String()),
  refunded: Nullable(Type.String()),
});
export type SubscribeTemplates = Static<typeof SubscribeTemplates>;

/** `GET /api/v1/avatars/:id`: the id of an uploaded avatar. */
export const AvatarParams = Type.Object({
  id: Type.String({ pattern: '^avt_[0-9A-Za-z]{22}$' }),
});
export type AvatarParams = Static<typeof AvatarParams>;

/** The avatar's bytes (image/png, image/jpeg or image/webp). */
export const AvatarBytes = Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' });
