// Fleet rows: a device's state and its last status as a few readable values.
import assert from 'node:assert/strict';
import {
  deviceState,
  fleetRow,
  parseStatusFields,
  statusSummary,
} from '../../../lib/dashboard/fleet';
import type { DeviceInfo } from '../../../lib/registry/directory';

const base: DeviceInfo = {
  id: 'd-1',
  type: 'esp32',
  customerId: 'acme',
  location: 'u4/300',
  enabled: true,
  uidType: 'other',
  uid: null,
  description: '',
  config: {},
  lastSeen: 1_000_000,
  lastStatus: { firmware: '2.1', free_mem: 23456, sensors: 3, mem: { free: 12 }, list: [1, 2] },
  outdatedAfterMs: 60_000,
};

describe('fleet rows', () => {
  it('says online, outdated, unknown or disabled', () => {
    assert.equal(deviceState(base, 1_060_000), 'online', 'at the threshold still online');
    assert.equal(deviceState(base, 1_060_001), 'outdated');
    assert.equal(deviceState({ ...base, lastSeen: null }, 0), 'unknown');
    assert.equal(deviceState({ ...base, enabled: false }, 0), 'disabled');
  });

  it('reads status fields as key: Label pairs, with dotted keys', () => {
    assert.deepEqual(parseStatusFields(' firmware: Firmware , mem.free:Free memory, sensors, '), [
      { key: 'firmware', label: 'Firmware' },
      { key: 'mem.free', label: 'Free memory' },
      { key: 'sensors', label: 'sensors' },
    ]);
    assert.deepEqual(parseStatusFields(''), []);
    assert.throws(() => parseStatusFields('a b: c'), /status field "a b"/);
    assert.throws(() => parseStatusFields('mem..free'), /mem\.\.free/);
  });

  it('shows the chosen values readably, or the first scalar ones', () => {
    const fields = parseStatusFields(
      'firmware: Firmware, free_mem: Free memory, mem.free: Heap, gone: Gone',
    );
    assert.deepEqual(statusSummary(base.lastStatus, fields), [
      { label: 'Firmware', value: '2.1' },
      { label: 'Free memory', value: '23,456' },
      { label: 'Heap', value: '12' },
    ]);
    assert.deepEqual(statusSummary(base.lastStatus, []), [
      { label: 'firmware', value: '2.1' },
      { label: 'free_mem', value: '23,456' },
      { label: 'sensors', value: '3' },
    ]);
    assert.deepEqual(statusSummary(null, fields), []);
    assert.deepEqual(statusSummary('rebooting', fields), [{ label: 'status', value: 'rebooting' }]);
    const long = statusSummary({ note: 'x'.repeat(200) }, [])[0].value;
    assert.equal(long.length, 80);
  });

  it('says how a device is reached: EOT when its configuration says so', () => {
    const row = fleetRow({ ...base, config: { transport: 'eot' } }, 1_000_000, [], {
      device: ['reboot'],
    });
    assert.equal(row.transport, 'eot');
    assert.equal(row.state, 'online');
    assert.deepEqual(row.orders, { device: ['reboot'] });
    assert.equal(fleetRow(base, 0, [], null).transport, 'mqtt');
  });
});
