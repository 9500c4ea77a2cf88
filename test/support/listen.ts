/** Local HTTP servers that tests start: a receiver, a fake WeChat. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on a free port of 127.0.0.1 and closes the server (its open connections too) when
 * the test `t` ends; resolves to the server's base URL, http://127.0.0.1:<port>.
 */
export async function listenUntilEnd(
  t: { after(fn: () => Promise<void>): unknown },
  server: Server,
): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
