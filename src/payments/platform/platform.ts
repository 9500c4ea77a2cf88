/**
 * The port to WeChat's mini program platform (api.weixin.qq.com): what the domain asks of it
 * after a payment. `MiniProgramClient` of `minipay/miniprogram-api` is the adapter; tests
 * point it at the sandbox. Errors are `MiniProgramApiError`, whose `kind` says whether to retry.
 */
import type {
  Courier,
  OrderKey,
  ShippingOrder,
  UploadShippingInfoRequest,
} from '../../miniprogram-api/index.js';

export interface MiniProgramPlatform {
  uploadShippingInfo(request: UploadShippingInfoRequest): Promise<{ unchanged: boolean }>;
  getOrder(order: OrderKey): Promise<ShippingOrder>;
  isTradeManaged(): Promise<boolean>;
  getDeliveryList(): Promise<Courier[]>;
}
