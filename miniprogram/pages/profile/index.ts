// My profile: the avatar and nickname with WeChat's own components (头像昵称填写). The chosen
// avatar is a temporary file on the phone, uploaded to the shop (uploadAvatar); the nickname
// comes from the keyboard's nickname suggestion or typing, and is saved with updateProfile.
import { minipay } from '../../services/minipay';
import { errorText } from '../../utils/format';

Page({
  data: {
    avatarUrl: '',
    nickname: '',
    loading: true,
    saving: false,
    error: '',
    notice: '',
  },

  onShow() {
    this.load();
  },

  async load() {
    this.setData({ loading: true, error: '' });
    try {
      const me = await minipay.me();
      this.setData({ avatarUrl: me.avatarUrl ?? '', nickname: me.nickname ?? '', loading: false });
    } catch (err) {
      this.setData({ loading: false, error: errorText(err) });
    }
  },

  /** `<button open-type="chooseAvatar">`: WeChat hands a temporary path; the shop keeps a copy. */
  async chooseAvatar(e: { detail: { avatarUrl: string } }) {
    this.setData({ saving: true, error: '', notice: '' });
    try {
      const me = await minipay.uploadAvatar(e.detail.avatarUrl);
      this.setData({ avatarUrl: me.avatarUrl ?? '', saving: false, notice: 'Avatar saved.' });
    } catch (err) {
      this.setData({ saving: false, error: errorText(err) });
    }
  },

  typeNickname(e: { detail: { value: string } }) {
    this.setData({ nickname: e.detail.value });
  },

  async saveNickname() {
    const nickname = this.data.nickname.trim();
    if (!nickname) {
      this.setData({ error: 'Type a nickname first.' });
      return;
    }
    this.setData({ saving: true, error: '', notice: '' });
    try {
      const me = await minipay.updateProfile({ nickname });
      this.setData({ nickname: me.nickname ?? '', saving: false, notice: 'Nickname saved.' });
    } catch (err) {
      this.setData({ saving: false, error: errorText(err) });
    }
  },
});
