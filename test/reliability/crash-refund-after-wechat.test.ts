/** MINIPAY_CRASH_AT=refund-after-wechat: killed there, restarted, no money lost or doubled (support/crash-scenarios.ts). */
import { refundCrashSuite } from './support/crash-scenarios.js';

refundCrashSuite(['refund-after-wechat']);
