/** The server killed inside checkout (before and after unifiedorder), then restarted: no money lost or doubled (support/crash-scenarios.ts). */
import { checkoutCrashSuite } from './support/crash-scenarios.js';

checkoutCrashSuite(['checkout-before-prepay', 'checkout-after-prepay']);
