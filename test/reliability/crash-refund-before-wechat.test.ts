/** MINIPAY_CRASH_AT=refund-before-wechat: killed there, restarted, no money lost or doubled (support/crash-scenarios.ts). */
import { refundCrashSuite } from './support/crash-scenarios.js';

refundCrashSuite(['refund-before-wechat']);
