/**
 * minipay's WeChat Pay protocol layer: pure, typed, usable on its own.
 * `import { signV2, decodeXml, ... } from 'minipay/wechatpay'`.
 */
export * from './ids.js';
export * from './sign.js';
export * from './xml.js';
