/**
 * WeChat Pay APIv3: signing, verification (public key, platform certificates, or both),
 * AEAD_AES_256_GCM, notifications, the client and its products, and what a simulator needs to
 * play WeChat. Usable on its own (docs/wechatpay.md, "APIv3").
 */

export * from './aead.js';
export * from './bills.js';
export * from './certificates.js';
export * from './client.js';
export {
  type Advice,
  errorFromAnswer,
  REFUND_ERROR_CODES,
  V3_ERROR_CODES,
  type V3ErrorDetails,
  WechatPayV3Error,
} from './errors.js';
export { formatRfc3339, type Json, parseRfc3339 } from './fields.js';
export * from './keys.js';
export * from './notify.js';
export * from './platform.js';
export * from './refunds.js';
export * from './request-payment.js';
export * from './sign.js';
export * from './transactions.js';
export {
  bothVerifier,
  type HeaderBag,
  type PublicKeysVerifier,
  type PublicKeyVerifierOptions,
  publicKeysVerifier,
  publicKeyVerifier,
  rsaVerify,
  type SignedMessage,
  type Verification,
  type Verifier,
  type VerifyAuthorizationInput,
  type VerifyOptions,
  verifyAuthorization,
  verifySignedMessage,
} from './verify.js';
export * from './x509.js';
