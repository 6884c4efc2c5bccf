import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { freePort, freeUdpPort } from './net';

describe('test ports', () => {
  it('are distinct, outside the ephemeral range, and can be listened on', async () => {
    const [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort(), await freeUdpPort());
    assert.equal(new Set(ports).size, ports.length);
    for (const port of ports) assert.ok(port < low || port > high, `${port} in ${low}-${high}`);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    server.close();
  });
});
