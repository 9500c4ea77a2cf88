#!/usr/bin/env node
// The `minipay` command: loads the compiled CLI (`npm install` builds it through `prepare`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error(
    'minipay is not built yet: run `npm run build` (or `npm install`, which builds) first.',
  );
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
