/** The quick duplicate storm on postgres (support/storm-suite.ts). */
import { stormSuite } from './support/storm-suite.js';

stormSuite('postgres');
