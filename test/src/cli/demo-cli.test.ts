// `sensflow demo` and `sensflow simulate mqtt` as a user runs them, on a home
// of their own: the demo goes in and out of the registry; the simulator says
// clearly when there is nothing to simulate or an option is wrong.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSensflow } from '../../support/sensflow-process';

describe('sensflow demo and simulate mqtt', function () {
  this.timeout(60_000);
  const env = { SENSFLOW_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-demo-cli-')) };

  it('adds the demo once and removes it whole', async () => {
    const added = await runSensflow(['demo', 'add'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Demo: 17 simulated devices added/);
    const again = await runSensflow(['demo', 'add'], env);
    assert.match(again.stdout, /Demo: 0 simulated devices added/);
    const listed = await runSensflow(['customers', 'list'], env);
    assert.match(listed.stdout, /demo-campus\s+Demo campus \(simulated\)\s+11/);
    assert.match(listed.stdout, /demo-home\s+Demo smart home \(simulated\)\s+6/);

    const removed = await runSensflow(['demo', 'remove'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Demo: 17 devices removed/);
    const after = await runSensflow(['customers', 'list'], env);
    assert.doesNotMatch(after.stdout, /demo-/);
    const wrong = await runSensflow(['demo', 'clear'], env);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /usage: sensflow demo add \| remove/);
  });

  it('simulate mqtt: a clear error when no device is chosen, or an option is wrong', async () => {
    const none = await runSensflow(['simulate', 'mqtt', '--duration', '1'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no devices to simulate: give --customer or --device/);
    const kinds = await runSensflow(['simulate', 'mqtt', '--kinds', 'Temp!'], env);
    assert.equal(kinds.code, 2);
    assert.match(kinds.stderr, /--kinds: "Temp!" is not a kind/);
    const every = await runSensflow(['simulate', 'mqtt', '--every', '0'], env);
    assert.equal(every.code, 2);
    assert.match(every.stderr, /--every must be a number of at least 0\.1/);
    const list = await runSensflow(['simulate'], env);
    assert.match(list.stderr, /mqtt +campus and smart-home devices/);
  });
});
