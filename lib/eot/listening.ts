// Small socket helpers of the EOT server: listening, the port it got, and
// one form per client address (for per-address limits).
import type net from 'node:net';

export function listen(server: net.Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function portOf(server?: net.Server): number | undefined {
  const address = server?.listening ? server.address() : null;
  return address && typeof address === 'object' ? address.port : undefined;
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one address for throttling. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
