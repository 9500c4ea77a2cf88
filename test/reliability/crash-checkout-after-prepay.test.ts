/** MINIPAY_CRASH_AT=checkout-after-prepay: killed there, restarted, no money lost or doubled (support/crash-scenarios.ts). */
import { checkoutCrashSuite } from './support/crash-scenarios.js';

checkoutCrashSuite(['checkout-after-prepay']);
