// Rule actions: commands shaped for actuator-command on raise and clear,
// never sent into another customer's place or device.
import assert from 'node:assert/strict';
import type { ActuatorCommand } from '../../../lib/alarms/actions';
import { FakeClock } from '../../support/fake-clock';
import { MemoryDirectory } from '../../support/memory-directory';
import { kindIs, reading, Rig, rig, ruleSet, valueAbove } from './harness';

describe('alarm rule actions', () => {
  let r: Rig | undefined;
  const directory = new MemoryDirectory([
    { id: 'co2-01', customerId: 'acme', location: 'u4/300' },
    { id: 'shutter-01', customerId: 'acme', location: 'u4/300' },
    { id: 'lamp-07', customerId: 'globex', location: 'bu/hall' },
  ]);
  afterEach(async () => {
    await r?.stop();
    await r?.store.close();
    r = undefined;
  });

  const commands = () =>
    r!.actions
      .filter((a): a is { command: ActuatorCommand } => 'command' in a)
      .map((a) => a.command);
  const refusals = () =>
    r!.actions.filter((a) => 'refused' in a).map((a) => (a as { refused: string }).refused);

  it("sends the raise and clear orders to the kind at the alarm's location", async () => {
    r = await rig({
      clock: new FakeClock(),
      directory,
      sets: [
        ruleSet([
          {
            name: 'co2',
            per: 'location',
            conditions: { all: [kindIs('co2'), valueAbove(1000)] },
            clear: { all: [{ fact: 'value', operator: 'lessThan', value: 800 }] },
            actions: [
              { on: 'raise', target: { kind: 'ventilation' }, order: 'on' },
              { on: 'clear', target: { kind: 'ventilation' }, order: 'off', dest: 'vent-2' },
            ],
          },
        ]),
      ],
    });
    await r.send(reading('u4/300', 'co2', 1200));
    await r.send(reading('u4/300', 'co2', 700));
    const [on, off] = commands();
    const alarm = r.changes[0].alarm;
    assert.deepEqual(
      {
        payload: on.payload,
        topic: on.topic,
        target: on.target,
        on: on.on,
        key: on.idempotencyKey,
      },
      {
        payload: { order: 'on', dest: 'all' },
        topic: 'u4/300/ventilation/command',
        target: { base: 'u4/300', kind: 'ventilation' },
        on: 'raise',
        key: `${alarm.id}:1:0`,
      },
    );
    assert.equal(on.alarm.customerId, 'acme', "the location's customer");
    assert.deepEqual(off.payload, { order: 'off', dest: 'vent-2' });
    assert.equal(off.idempotencyKey, `${alarm.id}:2:1`);
    assert.deepEqual(refusals(), []);
  });

  it('sends to an EOT device of the same customer', async () => {
    r = await rig({
      clock: new FakeClock(),
      directory,
      sets: [
        ruleSet([
          {
            name: 'co2',
            conditions: { all: [kindIs('co2'), valueAbove(1000)] },
            actions: [{ on: 'raise', target: { deviceId: 'shutter-01' }, order: 'up' }],
          },
        ]),
      ],
    });
    await r.send({
      payload: {
        origin: 'co2-01',
        type: 'READING',
        fields: ['co2', '1500', 'ppm', ''],
        customer: 'acme',
      },
    });
    const [cmd] = commands();
    assert.deepEqual(cmd.target, { deviceId: 'shutter-01' });
    assert.equal(cmd.topic, undefined);
  });

  it('refuses targets in another customer or unknown, and sends the rest', async () => {
    r = await rig({
      clock: new FakeClock(),
      directory,
      sets: [
        ruleSet([
          {
            name: 'co2',
            conditions: { all: [kindIs('co2'), valueAbove(1000)] },
            actions: [
              { on: 'raise', target: { deviceId: 'lamp-07' }, order: 'on' },
              { on: 'raise', target: { location: 'bu/hall', kind: 'lighting' }, order: 'on' },
              { on: 'raise', target: { deviceId: 'ghost' }, order: 'on' },
              { on: 'raise', target: { kind: 'shutter' }, order: 'up' },
            ],
          },
        ]),
      ],
    });
    await r.send(reading('u4/300', 'co2', 1500));
    assert.equal(refusals().length, 3);
    assert.match(refusals()[0], /lamp-07 belongs to another customer/);
    assert.match(refusals()[1], /bu\/hall holds devices of another customer/);
    assert.match(refusals()[2], /no device ghost/);
    assert.deepEqual(
      commands().map((c) => c.topic),
      ['u4/300/shutter/command'],
    );
  });

  it("refuses a place with devices when the alarm's own customer is unknown", async () => {
    r = await rig({
      clock: new FakeClock(),
      directory,
      sets: [
        ruleSet([
          {
            name: 'noise',
            conditions: { all: [kindIs('sound'), valueAbove(80)] },
            actions: [
              { on: 'raise', target: { location: 'u4/300', kind: 'lighting' }, order: 'on' },
              { on: 'raise', target: { kind: 'lighting' }, order: 'on' },
            ],
          },
        ]),
      ],
    });
    await r.send(reading('empty/room', 'sound', 90));
    assert.equal(r.changes[0].alarm.customerId, null);
    assert.equal(refusals().length, 1);
    assert.deepEqual(
      commands().map((c) => c.topic),
      ['empty/room/lighting/command'],
    );
  });
});
