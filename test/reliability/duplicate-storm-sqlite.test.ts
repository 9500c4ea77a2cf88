/** The quick duplicate storm on sqlite (support/storm-suite.ts). */
import { stormSuite } from './support/storm-suite.js';

stormSuite('sqlite');
