/** MINIPAY_CRASH_AT=order-paid-after-commit: killed there, restarted, no money lost or doubled (support/crash-scenarios.ts). */
import { notifyCrashSuite } from './support/crash-scenarios.js';

notifyCrashSuite(['order-paid-after-commit']);
