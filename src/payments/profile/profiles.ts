/**
 * The user's profile (`/api/v1/me`): the nickname and avatar the user filled in with WeChat's
 * components (`getUserProfile` is retired), checked by `checkProfileUpdate`; and the phone
 * number, asked of WeChat (`getuserphonenumber`) only with the code of the `getPhoneNumber`
 * button, that is with the user's consent, stored, and shown masked everywhere.
 */

import { createHash } from 'node:crypto';
import type { Me } from '../../contract/index.js';
import {
  checkProfileUpdate,
  MiniProgramApiError,
  maskPhone,
  type ProfileCheckOptions,
} from '../../miniprogram-api/index.js';
import type { PaymentsContext } from '../context.js';
import { DomainError, notFound } from '../lib/errors.js';
import type { SessionUser } from '../login/login-service.js';
import type { MiniProgramPlatform } from '../platform/platform.js';
import { AVATAR_MAX_BYTES, AVATAR_MAX_SIDE, checkAvatarImage } from './avatar-image.js';
import { type AvatarRow, findAvatar, replaceAvatar } from './avatars-repo.js';
import { findProfile, type ProfileRow, saveProfile } from './profiles-repo.js';

/** Where an uploaded avatar is served; the profile's `avatarUrl` is this path (no host). */
export const AVATAR_PATH = '/api/v1/avatars';

export class Profiles {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly platform: MiniProgramPlatform | undefined,
    private readonly check: ProfileCheckOptions = {},
  ) {}

  async me(user: SessionUser): Promise<Me> {
    return meView(user.id, await findProfile(this.ctx.db, user.id));
  }

  async update(user: SessionUser, body: unknown): Promise<Me> {
    const checked = checkProfileUpdate(body, this.check);
    if (!checked.ok) throw new DomainError(400, checked.code, checked.message);
    const { nickname, avatarUrl } = checked.value;
    await saveProfile(
      this.ctx.db,
      user.id,
      {
        ...(nickname !== undefined && { nickname }),
        ...(avatarUrl !== undefined && { avatar_url: avatarUrl }),
      },
      this.ctx.clock(),
    );
    return this.me(user);
  }

  /**
   * The user's avatar as uploaded (from `<button open-type="chooseAvatar">` by wx.uploadFile):
   * a PNG, JPEG or WebP of at most 1 MiB, read from its bytes; it replaces the last one, and
   * the profile's avatar becomes its path.
   */
  async uploadAvatar(user: SessionUser, bytes: Buffer): Promise<Me> {
    if (bytes.length === 0) throw new DomainError(400, 'INVALID_AVATAR', 'the image is empty');
    if (bytes.length > AVATAR_MAX_BYTES) throw avatarTooLarge();
    const checked = checkAvatarImage(bytes);
    if (!checked.ok) {
      throw new DomainError(
        415,
        'INVALID_AVATAR',
        `${checked.problem}; choose a PNG, JPEG or WebP image of at most ${AVATAR_MAX_SIDE} pixels a side`,
      );
    }
    const now = this.ctx.clock();
    await replaceAvatar(
      this.ctx.db,
      {
        user_id: user.id,
        content_type: checked.image.type,
        data: bytes,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        created_at: now.toISOString(),
      },
      (trx, id) => saveProfile(trx, user.id, { avatar_url: `${AVATAR_PATH}/${id}` }, now),
    );
    return this.me(user);
  }

  /** An uploaded avatar, for anyone who has its URL (mini program `<image>` sends no token). */
  async avatar(id: string): Promise<AvatarRow> {
    const row = await findAvatar(this.ctx.db, id);
    if (!row) throw notFound('avatar');
    return row;
  }

  /** The number behind a getPhoneNumber code, which WeChat checks was given by this user. */
  async sharePhone(user: SessionUser, code: string): Promise<Me> {
    if (!this.platform) {
      throw new DomainError(
        503,
        'PHONE_UNAVAILABLE',
        'this server cannot ask WeChat for phone numbers',
      );
    }
    let info: Awaited<ReturnType<MiniProgramPlatform['getUserPhoneNumber']>>;
    try {
      info = await this.platform.getUserPhoneNumber(code, user.openid);
    } catch (err) {
      if (!(err instanceof MiniProgramApiError)) throw err;
      const refused = err.kind === 'rejected';
      throw new DomainError(
        refused ? 422 : 502,
        refused ? 'PHONE_CODE_REFUSED' : `WECHAT_${err.code}`,
        refused
          ? 'WeChat refused the phone number code (used, expired or not this user’s): ask the user to tap the button again'
          : err.message,
      );
    }
    await saveProfile(
      this.ctx.db,
      user.id,
      {
        phone: info.purePhoneNumber,
        phone_country_code: info.countryCode,
        phone_granted_at: info.grantedAt.toISOString(),
      },
      this.ctx.clock(),
    );
    return this.me(user);
  }

  /** The user takes the number back. */
  async forgetPhone(user: SessionUser): Promise<Me> {
    await saveProfile(
      this.ctx.db,
      user.id,
      { phone: null, phone_country_code: null, phone_granted_at: null },
      this.ctx.clock(),
    );
    return this.me(user);
  }
}

function meView(id: string, p: ProfileRow | undefined): Me {
  return {
    id,
    nickname: p?.nickname ?? null,
    avatarUrl: p?.avatar_url ?? null,
    phone: p?.phone ? maskPhone(p.phone) : null,
    phoneGrantedAt: p?.phone_granted_at ?? null,
  };
}

export function avatarTooLarge(): DomainError {
  return new DomainError(
    413,
    'AVATAR_TOO_LARGE',
    `the image is larger than ${AVATAR_MAX_BYTES / 1024} KiB; send a smaller one (wx.compressImage)`,
  );
}
