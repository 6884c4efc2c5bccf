// Health checks: the report, timeouts, and background retries with backoff
// that log an outage once when it starts and once when it ends.
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../lib/ops/health';
import { Logger } from '../../../lib/util/log';
import { FakeClock } from '../../support/fake-clock';

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
    debug: () => undefined,
  };
  return { lines, logger };
}

describe('HealthMonitor', () => {
  it('reports up when every probe answers, down with the reason otherwise', async () => {
    const monitor = new HealthMonitor();
    monitor.add({ name: 'store', backend: 'sqlite:x', check: async () => undefined });
    monitor.add({
      name: 'history',
      backend: 'http://influx',
      check: async () => Promise.reject(new Error('ECONNREFUSED')),
    });
    const report = await monitor.check();
    assert.equal(report.status, 'down');
    assert.equal(report.components.store.status, 'up');
    assert.deepEqual(
      { ...report.components.history },
      { status: 'down', backend: 'http://influx', error: 'ECONNREFUSED' },
    );
  });

  it('counts a probe that never answers as down after the timeout', async () => {
    const clock = new FakeClock();
    const monitor = new HealthMonitor({ clock, timeoutMs: 2000 });
    monitor.add({ name: 'broker', backend: 'x', check: () => new Promise(() => undefined) });
    const pending = monitor.check();
    await clock.advance(2000);
    const report = await pending;
    assert.equal(report.components.broker.status, 'down');
    assert.match(report.components.broker.error!, /no answer within 2000 ms/);
  });

  it('retries a down backend with growing delays and logs the outage once each way', async () => {
    const clock = new FakeClock();
    const { lines, logger } = recordingLogger();
    const changes: Array<[string, boolean]> = [];
    let up = true;
    const calls: number[] = [];
    const monitor = new HealthMonitor({
      clock,
      logger,
      upIntervalMs: 10_000,
      retry: { initialMs: 1000, maxMs: 8000 },
      onChange: (name, isUp) => changes.push([name, isUp]),
    });
    monitor.add({
      name: 'store',
      backend: 'mysql://db',
      check: async () => {
        calls.push(clock.now());
        if (!up) throw new Error('down');
      },
    });
    const t0 = clock.now();
    monitor.watch();
    await clock.advance(0);
    assert.deepEqual(calls, [t0]);
    up = false;
    await clock.advance(10_000); // check at +10 s fails
    await clock.advance(1000 + 2000 + 4000 + 8000 + 8000); // retries at +1, +2, +4, +8, +8 s
    const gaps = calls.slice(1).map((t, i) => t - calls[i]);
    assert.deepEqual(gaps, [10_000, 1000, 2000, 4000, 8000, 8000]);
    up = true;
    await clock.advance(8000);
    assert.deepEqual(changes, [
      ['store', true],
      ['store', false],
      ['store', true],
    ]);
    assert.equal(lines.filter((l) => l.startsWith('warn')).length, 1);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('info')),
      ['info store (mysql://db) is back'],
    );
    monitor.stop();
    assert.equal(clock.pending, 0);
  });
});
