/** The server killed inside refund creation (before and after WeChat's refund call), then restarted: no money lost or doubled (support/crash-scenarios.ts). */
import { refundCrashSuite } from './support/crash-scenarios.js';

refundCrashSuite(['refund-before-wechat', 'refund-after-wechat']);
