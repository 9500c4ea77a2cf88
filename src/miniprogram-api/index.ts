/**
 * minipay's mini program server API layer (WeChat's mini program platform, not WeChat Pay):
 * access_token, shipping information, message push, subscribe messages, the user's phone
 * number. Pure and typed like `minipay/wechatpay`; state lives behind `TokenStore`.
 * `import { TokenManager, MiniProgramClient, readPush } from 'minipay/miniprogram-api'`.
 * See docs/miniprogram-api.md.
 */

export * from './access-token.js';
export * from './client.js';
export * from './errors.js';
export { DEFAULT_BASE_URL, type JsonObject, Transport, type TransportOptions } from './http.js';
export * from './push.js';
export * from './push-crypto.js';
export * from './push-events.js';
export * from './shipping.js';
export * from './subscribe-message.js';
export * from './token-manager.js';
export * from './token-store.js';
export * from './user.js';
