/** The server killed inside notify handling (before and after the PAID commit), then restarted: no money lost or doubled (support/crash-scenarios.ts). */
import { notifyCrashSuite } from './support/crash-scenarios.js';

notifyCrashSuite(['order-paid-before-commit', 'order-paid-after-commit']);
