/** The server's real (redacting) logger, writing into memory so a test can read every line. */
import type { Logger } from 'pino';
import { createLogger } from '../../../src/app/logger.js';

export function capturedLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger(level, {
    write(line: string) {
      lines.push(line);
    },
  });
  return { logger, lines };
}
