// Several transports behind one: each target goes to the transport of its kind.
import assert from 'node:assert/strict';
import { OrderRefused, transportsByTarget } from '../../../lib/commands/transport';
import { CommandTarget } from '../../../lib/commands/types';
import { FakeTransport } from './fake-transport';

describe('commands: transports by target', () => {
  const mqttTarget: CommandTarget = { transport: 'mqtt', base: 'u4/300', kind: 'shutter' };
  const eotTarget: CommandTarget = { transport: 'eot', deviceId: 'lamp-07', actuator: 'led' };

  it('routes sends and readiness by target, and refuses targets it has no transport for', async () => {
    const mqtt = new FakeTransport();
    const both = transportsByTarget({ mqtt });
    assert.equal(both.reaches(mqttTarget), true);
    assert.equal(both.reaches(eotTarget), false);
    await both.send({ commandId: 'c1', target: mqttTarget, order: 'up', dest: 'all' });
    assert.equal(mqtt.sent.length, 1);
    mqtt.setReady(false);
    assert.equal(both.isReady(mqttTarget), false);
    let ready = 0;
    const stop = both.onReady(() => ready++);
    mqtt.setReady(true);
    stop();
    mqtt.setReady(true);
    assert.equal(ready, 1);
    await assert.rejects(
      both.send({ commandId: 'c2', target: eotTarget, order: 'on', dest: 'lamp-07' }),
      (err: unknown) => err instanceof OrderRefused && /no eot transport/.test(err.message),
    );
  });
});
