// The entry point of a day's match thread (day-matcher.ts starts it; the thread's code is
// day-match-thread.ts). A worker thread does not inherit tsx's loader on Node 20: from src/ under
// tsx (tests, `npm run dev`) this registers it in the thread first; from dist/ the thread's code is
// the compiled JavaScript beside this file. Plain JavaScript, copied to dist/ by scripts/build.mjs.
import { workerData } from 'node:worker_threads';

if (workerData.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./day-match-thread.ts');
} else {
  await import('./day-match-thread.js');
}
