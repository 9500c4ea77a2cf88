/** The hostile corpus over HTTP on sqlite (support/hostile-http-suite.ts). */
import { hostileHttpSuite } from './support/hostile-http-suite.js';

hostileHttpSuite('sqlite');
