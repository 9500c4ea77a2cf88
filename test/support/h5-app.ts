/**
 * Serves a built H5 app (the Taro and uni-app examples' `h5` builds) to Chromium under the
 * minipay server's own origin, so the app reaches /api/v1 and the demo's /demo/sandbox/v1 as
 * it does behind one HTTPS host or through its dev server's proxy. Only the app's static
 * files come from disk; every API call goes to the real server over loopback.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { Page } from 'playwright-core';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Answers `${origin}${prefix}/…` from `dir` (index.html for the directory itself). */
export async function serveBuild(
  page: Page,
  origin: string,
  prefix: string,
  dir: string,
): Promise<void> {
  const root = normalize(dir) + sep;
  await page.route(`${origin}${prefix}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.slice(prefix.length + 1);
    const file = normalize(join(root, path || 'index.html'));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      await route.fulfill({ status: 404, body: `not in the build: ${path}` });
      return;
    }
    await route.fulfill({
      status: 200,
      contentType: TYPES[extname(file)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  });
}
