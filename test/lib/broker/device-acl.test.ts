// A device's MQTT rights follow MQTT's wildcard rules, like Mosquitto's ACLs.
import assert from 'node:assert/strict';
import {
  devicePublishAllowed,
  deviceSubscribeAllowed,
  filterWithin,
} from '../../../lib/broker/device-acl';
import { filterMatches } from '../../../lib/topics/matcher';

describe('device ACL', () => {
  it('matches topics against filters', () => {
    assert.ok(filterMatches('u4/300/#', 'u4/300/temperature'));
    assert.ok(filterMatches('u4/300/#', 'u4/300'), '# includes the parent level');
    assert.ok(!filterMatches('u4/300/#', 'u4/3000/temperature'));
    assert.ok(filterMatches('u4/+/command', 'u4/shutter/command'));
    assert.ok(!filterMatches('u4/+/command', 'u4/a/b/command'));
  });

  it('lets a device publish under its base topic only', () => {
    assert.ok(devicePublishAllowed('u4/300', 'u4/300/temperature'));
    assert.ok(devicePublishAllowed('u4/300', 'u4/300/device'));
    assert.ok(devicePublishAllowed('u4/300', 'u4/300/shutter/command'));
    assert.ok(!devicePublishAllowed('u4/300', 'u4/301/temperature'));
    assert.ok(!devicePublishAllowed('u4/300', 'u4/3000/temperature'));
    assert.ok(!devicePublishAllowed('u4/300', 'u4/temperature'));
    assert.ok(!devicePublishAllowed('u4/300', '$SYS/x'));
  });

  it('lets a device subscribe to the orders of its modules only', () => {
    assert.ok(deviceSubscribeAllowed('u4/300', 'u4/300/+/command'));
    assert.ok(deviceSubscribeAllowed('u4/300', 'u4/300/shutter/command'));
    for (const f of ['#', 'u4/300/#', 'u4/+/+/command', 'u4/300/temperature', 'u4/301/+/command'])
      assert.ok(!deviceSubscribeAllowed('u4/300', f), f);
    assert.ok(filterWithin('a/#', 'a/b/#'));
    assert.ok(!filterWithin('a/+', 'a/#'));
  });
});
