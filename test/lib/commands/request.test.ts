// actuator-command input: payload forms, defaults from the node's settings,
// targets, and clear errors for everything malformed.
import assert from 'node:assert/strict';
import { orderAllowed } from '../../../lib/commands/orders';
import { commandRequest, RequestDefaults } from '../../../lib/commands/request';
import { TopicCodec } from '../../../lib/topics/topic';

const codec = new TopicCodec('UT3');
const defaults: RequestDefaults = {
  target: { base: 'u4/300', kind: 'shutter' },
  order: 'stop',
  dest: 'all',
};

describe('commands: input', () => {
  it('reads {order, dest} objects, their JSON text, and plain values', () => {
    const mqtt = { transport: 'mqtt', base: 'u4/300', kind: 'shutter' };
    assert.deepEqual(commandRequest({ payload: { order: 'up', dest: 's1' } }, defaults, codec), {
      target: mqtt,
      order: 'up',
      dest: 's1',
    });
    assert.deepEqual(commandRequest({ payload: '{"order":"down"}' }, defaults, codec), {
      target: mqtt,
      order: 'down',
      dest: 'all',
    });
    assert.deepEqual(commandRequest({ payload: 'up' }, defaults, codec), {
      target: mqtt,
      order: 'up',
      dest: 'all',
    });
    assert.deepEqual(
      commandRequest(
        { payload: 70 },
        { ...defaults, target: { base: 'u4/300', kind: 'lighting' } },
        codec,
      ).order,
      70,
    );
    assert.deepEqual(
      commandRequest({}, defaults, codec).order,
      'stop',
      'an empty payload takes the settings',
    );
  });

  it('takes msg.target over the settings, for MQTT and EOT targets', () => {
    const req = commandRequest(
      { payload: 'on', target: { base: 'abroad/albi/b1/12', kind: 'lighting' } },
      defaults,
      codec,
    );
    assert.deepEqual(req.target, {
      transport: 'mqtt',
      base: 'abroad/albi/b1/12',
      kind: 'lighting',
    });
    const eot = commandRequest(
      { payload: 'on', target: { deviceId: 'lamp-07', actuator: 'led' } },
      defaults,
      codec,
    );
    assert.deepEqual(eot.target, { transport: 'eot', deviceId: 'lamp-07', actuator: 'led' });
    assert.equal(eot.dest, 'lamp-07', 'the device is the unit');
    // As alarm-rules sends it: the actuator in dest.
    const fromAlarm = commandRequest(
      { payload: { order: 'on', dest: 'led' }, target: { deviceId: 'lamp-07' } },
      defaults,
      codec,
    );
    assert.deepEqual(fromAlarm.target, { transport: 'eot', deviceId: 'lamp-07', actuator: 'led' });
    assert.throws(
      () =>
        commandRequest(
          { payload: { order: 'on', dest: 'all' }, target: { deviceId: 'lamp-07' } },
          defaults,
          codec,
        ),
      /an EOT target names its actuator/,
    );
  });

  it('carries an idempotency key from the payload or the message', () => {
    assert.equal(
      commandRequest({ payload: { order: 'up', idempotencyKey: 'k1' } }, defaults, codec)
        .idempotencyKey,
      'k1',
    );
    assert.equal(
      commandRequest({ payload: 'up', idempotencyKey: 'k2' }, defaults, codec).idempotencyKey,
      'k2',
    );
  });

  const BAD: Array<[Parameters<typeof commandRequest>[0], RegExp, RequestDefaults?]> = [
    [{ payload: '{"order": "up"' }, /msg.payload is not valid JSON/],
    [
      { payload: [1, 2] },
      /msg.payload must be \{order, dest\}, an order name or a level, got an array/,
    ],
    [{ payload: true }, /got boolean/],
    [{ payload: { order: 'up', dest: 'a b' } }, /dest "a b" must be "all" or a unit id/],
    [{ payload: { order: 'up\u0007' } }, /without control characters/],
    [
      { payload: { order: 'up' }, target: { base: 'u4/+', kind: 'shutter' } },
      /target base topic "u4\/\+": level 2/,
    ],
    [
      { payload: { order: 'up' }, target: { base: 'u4', kind: 'shutter' } },
      /names a building and a room/,
    ],
    [
      { payload: { order: 'up' }, target: { base: 'u4/300', kind: 'Shutter' } },
      /target kind "Shutter"/,
    ],
    [
      { payload: { order: 'up' }, target: { deviceId: 'lamp 7', actuator: 'led' } },
      /is not a device id/,
    ],
    [{ payload: { order: 'up' } }, /no target/, { order: 'up' }],
    [{ payload: { order: 'up', idempotencyKey: '' } }, /idempotencyKey must be 1-191/],
    [{ payload: { order: Infinity } }, /not a finite number/],
  ];
  for (const [input, message, d] of BAD) {
    it(`refuses ${JSON.stringify(input).slice(0, 70)}`, () => {
      assert.throws(() => commandRequest(input, d ?? defaults, codec), message);
    });
  }

  it('matches orders by name and by level range', () => {
    assert.ok(orderAllowed('up', ['up', 'down']));
    assert.ok(!orderAllowed('open', ['up', 'down']));
    assert.ok(orderAllowed(0, ['on', '0-100']));
    assert.ok(orderAllowed('55', ['on', '0-100']));
    assert.ok(!orderAllowed(101, ['on', '0-100']));
    assert.ok(!orderAllowed('on', ['0-100']));
  });
});
