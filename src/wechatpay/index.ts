/**
 * minipay's WeChat Pay protocol layer: pure, typed, usable on its own.
 * `import { signV2, decodeXml, ... } from 'minipay/wechatpay'`.
 */

export * from './amounts.js';
export * from './attach.js';
export * from './bill.js';
export * from './bill-errors.js';
export * from './bill-lines.js';
export * from './bill-table.js';
export * from './client-v2.js';
export { DomainFailover, type FailoverEvent } from './domain-failover.js';
export * from './errors.js';
export * from './fund-flow-bill.js';
export * from './ids.js';
export * from './limits.js';
export * from './login.js';
export * from './notify.js';
export * from './refund-notify.js';
export * from './request-payment.js';
export * from './sign.js';
/** APIv3 (`import { v3 } from 'minipay/wechatpay'`; docs/wechatpay.md, "APIv3"). */
export * as v3 from './v3/index.js';
export * from './xml.js';
