/** The hostile corpus over HTTP on postgres (support/hostile-http-suite.ts). */
import { hostileHttpSuite } from './support/hostile-http-suite.js';

hostileHttpSuite('postgres');
