// A TCP port on 127.0.0.1 that nothing listened on a moment ago: for servers that cannot report the
// port they chose for :0 (Prometheus), and for a guaranteed-refused address.
import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
