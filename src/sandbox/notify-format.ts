/**
 * The sandbox's notifications, built with the protocol layer itself: payment notifications
 * signed with the trade's sign type (`buildPaymentNotify`), refund notifications with an
 * encrypted `req_info` (`buildRefundNotify`), and replies judged as WeChat judges them
 * (`isNotifyReplySuccess`: HTTP 200 and XML return_code SUCCESS). The content is
 * notify-fields.ts's.
 */
import {
  buildPaymentNotify,
  buildRefundNotify,
  isNotifyReplySuccess,
  type SignType,
} from '../wechatpay/index.js';
import type { NotifyFormat } from './engine.js';
import { paymentNotifyFields, refundNotifyEnvelope, refundNotifyInfo } from './notify-fields.js';

export const WECHAT_NOTIFY_FORMAT: NotifyFormat = {
  payment: (core, trade) =>
    buildPaymentNotify(
      paymentNotifyFields(trade),
      core.credentials.mchKey,
      trade.sign_type as SignType,
    ),
  refund: (core, refund) =>
    buildRefundNotify(
      refundNotifyEnvelope(refund, core.credentials.appId),
      refundNotifyInfo(refund),
      core.credentials.mchKey,
    ),
  accepted: isNotifyReplySuccess,
};
