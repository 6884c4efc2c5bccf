// The alarm engine with fake timers: `for`, `repeat`, hysteresis, clear
// conditions, escalation, shelving, and what a reading it cannot use does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compileRuleFile } from '../../../lib/alarms/rules';
import type { WatchdogEvent } from '../../../lib/registry/watchdog';
import { FakeClock } from '../../support/fake-clock';
import { MemoryDirectory } from '../../support/memory-directory';
import { ROOT } from '../../support/sensflow-process';
import { kindIs, ops, reading, Rig, rig, ruleSet, valueAbove } from './harness';

const MIN = 60_000;

describe('alarm engine', () => {
  let clock: FakeClock;
  let r: Rig | undefined;

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await r?.stop();
    await r?.store.close();
    r = undefined;
  });

  const events = () => r!.changes.map((c) => `${c.transition.event}:${c.alarm.state}`);

  describe('for', () => {
    const hot = ruleSet([
      {
        name: 'hot',
        per: 'location',
        conditions: { all: [kindIs('temperature'), valueAbove(28)] },
        for: '10m',
      },
    ]);

    it('raises when the condition has held for the whole window, at its end', async () => {
      r = await rig({ clock, sets: [hot] });
      await r.send(reading('u4/300', 'temperature', 29));
      await clock.advance(5 * MIN);
      await r.send(reading('u4/300', 'temperature', 30));
      await clock.advance(5 * MIN - 1);
      assert.deepEqual(events(), []);
      await clock.advance(1);
      assert.deepEqual(events(), ['raise:active_unack']);
      const alarm = r.changes[0].alarm;
      assert.equal(alarm.raisedAt, clock.now());
      assert.equal(alarm.value, 30, 'the last matching value');
      assert.equal(alarm.location, 'u4/300');
      assert.equal(alarm.subject, 'u4/300');
    });

    it('starts again when a reading breaks the window', async () => {
      r = await rig({ clock, sets: [hot] });
      await r.send(reading('u4/300', 'temperature', 29));
      await clock.advance(9 * MIN);
      await r.send(reading('u4/300', 'temperature', 27));
      await r.send(reading('u4/300', 'temperature', 29));
      await clock.advance(9 * MIN);
      assert.deepEqual(events(), []);
      await clock.advance(1 * MIN);
      assert.deepEqual(events(), ['raise:active_unack']);
    });

    it('keeps one window per location', async () => {
      r = await rig({ clock, sets: [hot] });
      await r.send(reading('u4/300', 'temperature', 29));
      await clock.advance(5 * MIN);
      await r.send(reading('u4/301', 'temperature', 29));
      await clock.advance(5 * MIN);
      assert.deepEqual(
        r.changes.map((c) => c.alarm.subject),
        ['u4/300'],
      );
      await clock.advance(5 * MIN);
      assert.deepEqual(
        r.changes.map((c) => c.alarm.subject),
        ['u4/300', 'u4/301'],
      );
    });
  });

  describe('repeat', () => {
    const co2 = ruleSet([
      {
        name: 'co2',
        conditions: { all: [kindIs('co2'), valueAbove(1000)] },
        repeat: 3,
        clear: { all: [{ fact: 'value', operator: 'lessThan', value: 800 }] },
      },
    ]);

    it('raises on the third matching reading in a row, not before', async () => {
      r = await rig({ clock, sets: [co2] });
      await r.send(reading('u4/300', 'co2', 1100));
      await r.send(reading('u4/300', 'co2', 1200));
      assert.deepEqual(events(), []);
      const third = await r.send(reading('u4/300', 'co2', 1300));
      assert.deepEqual(events(), ['raise:active_unack']);
      assert.equal(third.changes.length, 1, 'the evaluation names its transition');
    });

    it('counts again from zero after a reading that does not match', async () => {
      r = await rig({ clock, sets: [co2] });
      for (const v of [1100, 1200, 900, 1100, 1200]) await r.send(reading('u4/300', 'co2', v));
      assert.deepEqual(events(), []);
      await r.send(reading('u4/300', 'co2', 1050));
      assert.deepEqual(events(), ['raise:active_unack']);
    });

    it('clears by its clear condition only, and readings of another kind do nothing', async () => {
      r = await rig({ clock, sets: [co2] });
      for (let i = 0; i < 3; i++) await r.send(reading('u4/300', 'co2', 1100));
      await r.send(reading('u4/300', 'co2', 900));
      await r.send(reading('u4/300', 'temperature', 20));
      assert.deepEqual(events(), ['raise:active_unack']);
      await r.send(reading('u4/300', 'co2', 700));
      assert.deepEqual(events(), ['raise:active_unack', 'clear:cleared_unack']);
    });
  });

  describe('hysteresis', () => {
    it('clears only below the threshold minus the hysteresis', async () => {
      r = await rig({
        clock,
        sets: [
          ruleSet([
            {
              name: 'hot',
              conditions: { all: [kindIs('temperature'), valueAbove(28)] },
              hysteresis: 2,
            },
          ]),
        ],
      });
      await r.send(reading('u4/300', 'temperature', 29));
      for (const v of [28, 27, 26]) await r.send(reading('u4/300', 'temperature', v));
      assert.deepEqual(events(), ['raise:active_unack']);
      await r.send(reading('u4/300', 'temperature', 25.9));
      assert.deepEqual(events(), ['raise:active_unack', 'clear:cleared_unack']);
    });

    it('without hysteresis or clear condition, clears when the condition no longer holds', async () => {
      r = await rig({
        clock,
        sets: [
          ruleSet([{ name: 'hot', conditions: { all: [kindIs('temperature'), valueAbove(28)] } }]),
        ],
      });
      await r.send(reading('u4/300', 'temperature', 29));
      await r.send(reading('u4/300', 'temperature', 28));
      assert.deepEqual(events(), ['raise:active_unack', 'clear:cleared_unack']);
    });
  });

  describe('escalation', () => {
    it('escalates on a condition and after a time while unacknowledged, only upwards', async () => {
      r = await rig({
        clock,
        sets: [
          ruleSet([
            {
              name: 'hot',
              severity: 'minor',
              conditions: { all: [kindIs('temperature'), valueAbove(28)] },
              escalate: [
                { when: { all: [valueAbove(35)] }, severity: 'major' },
                { after: '30m', severity: 'critical' },
              ],
            },
          ]),
        ],
      });
      await r.send(reading('u4/300', 'temperature', 29));
      await r.send(reading('u4/300', 'temperature', 36));
      await r.send(reading('u4/300', 'temperature', 37));
      assert.deepEqual(
        r.changes.map((c) => `${c.transition.event}:${c.alarm.severity}`),
        ['raise:minor', 'escalate:major'],
      );
      await clock.advance(30 * MIN);
      assert.deepEqual(
        r.changes.map((c) => `${c.transition.event}:${c.alarm.severity}:${c.transition.cause}`),
        ['raise:minor:condition', 'escalate:major:condition', 'escalate:critical:timer'],
      );
    });

    it('does not escalate by time an alarm someone acknowledged', async () => {
      r = await rig({
        clock,
        sets: [
          ruleSet([
            {
              name: 'hot',
              severity: 'minor',
              conditions: { all: [kindIs('temperature'), valueAbove(28)] },
              escalate: [{ after: '30m', severity: 'critical' }],
            },
          ]),
        ],
      });
      await r.send(reading('u4/300', 'temperature', 29));
      r.book.acknowledge(r.changes[0].alarm.id, { actor: 'alice' });
      await clock.advance(60 * MIN);
      assert.deepEqual(events(), ['raise:active_unack', 'acknowledge:active_ack']);
    });
  });

  describe('shelve', () => {
    const hot = ruleSet([
      { name: 'hot', conditions: { all: [kindIs('temperature'), valueAbove(28)] } },
    ]);

    it('hides an alarm for a time, then brings it back by itself', async () => {
      r = await rig({ clock, sets: [hot] });
      await r.send(reading('u4/300', 'temperature', 29));
      const id = r.changes[0].alarm.id;
      r.book.shelve(id, 30 * MIN, { actor: 'alice', comment: 'maintenance' });
      assert.equal(r.book.findOpen('test/hot', 'u4/300')?.shelvedUntil, clock.now() + 30 * MIN);
      await clock.advance(30 * MIN - 1);
      assert.deepEqual(events(), ['raise:active_unack', 'shelve:active_unack']);
      await clock.advance(1);
      assert.deepEqual(events(), [
        'raise:active_unack',
        'shelve:active_unack',
        'unshelve:active_unack',
      ]);
      assert.equal(r.changes[2].transition.cause, 'expired');
      assert.equal(r.book.findOpen('test/hot', 'u4/300')?.shelvedUntil, null);
    });

    it('keeps shelving the same rule and place when the alarm closes and comes back', async () => {
      r = await rig({ clock, sets: [hot] });
      await r.send(reading('u4/300', 'temperature', 29));
      const first = r.changes[0].alarm.id;
      r.book.shelve(first, 60 * MIN, { actor: 'alice' });
      r.book.acknowledge(first, { actor: 'alice' });
      await r.send(reading('u4/300', 'temperature', 20));
      await clock.advance(10 * MIN);
      await r.send(reading('u4/300', 'temperature', 30));
      const again = r.book.findOpen('test/hot', 'u4/300')!;
      assert.notEqual(again.id, first, 'a new alarm');
      assert.equal(again.shelvedUntil, clock.now() + 50 * MIN);
      assert.equal(again.shelvedBy, 'alice');
    });

    it('refuses a shelve that is not a positive duration', async () => {
      r = await rig({ clock, sets: [hot] });
      await r.send(reading('u4/300', 'temperature', 29));
      assert.throws(() => r!.book.shelve(r!.changes[0].alarm.id, 0), /positive/);
    });
  });

  describe('input', () => {
    const any = ruleSet([{ name: 'any', conditions: { all: [valueAbove(0)] } }]);

    it('counts and ignores readings without a usable value, kind or that are orders', async () => {
      r = await rig({ clock, sets: [any] });
      const ignored = [];
      for (const msg of [
        reading('u4/300', 'temperature', 'warm'),
        reading('u4/300', 'temperature', null),
        { topic: 'u4/300/temperature', payload: [1, 2] },
        { payload: 5 },
        { topic: 'u4/300/shutter/command', payload: { value: 1 } },
        { payload: { type: 'READING', origin: 'mkr-01', fields: ['temperature', 'NaN', 'C', ''] } },
      ])
        ignored.push((await r.send(msg)).ignored);
      assert.deepEqual(ignored, [
        'not-numeric',
        'no-value',
        'not-numeric',
        'no-kind',
        'command',
        'not-numeric',
      ]);
      assert.deepEqual(events(), []);
    });

    it('reads plain values with segments, numeric strings, EOT READING frames', async () => {
      r = await rig({
        clock,
        sets: [any],
        directory: new MemoryDirectory([{ id: 'mkr-01', customerId: 'acme', location: 'u4/302' }]),
      });
      const seg = await r.send({
        payload: '21.5',
        segments: {
          site: 'UT3',
          outdoor: false,
          location: ['u4', '300'],
          building: 'u4',
          room: '300',
          kind: 'temperature',
          command: false,
          status: false,
        },
      });
      assert.equal(seg.facts?.value, 21.5);
      assert.equal(seg.facts?.location, 'u4/300');
      assert.equal(seg.facts?.building, 'u4');
      const eot = await r.send({
        payload: {
          origin: 'mkr-01',
          destination: 'SERVER',
          type: 'READING',
          fields: ['temperature', '22', 'C', '1700000000000'],
          customer: 'acme',
        },
      });
      assert.equal(eot.facts?.kind, 'temperature');
      assert.equal(eot.facts?.location, 'u4/302', 'from the registry');
      assert.equal(eot.facts?.room, '302');
      assert.equal(eot.facts?.ts, 1_700_000_000_000);
      assert.equal((eot.facts?.device as { type: string }).type, 'mkr1000');
      const abroad = await r.send(reading('abroad/carcassonne/b1/12', 'co2', 400));
      assert.equal(abroad.facts?.site, 'carcassonne');
      assert.equal(abroad.facts?.building, 'b1');
    });

    it('raises the shipped "device outdated" rule from device-watchdog events', async () => {
      const text = fs.readFileSync(path.join(ROOT, 'rules', 'devices.json'), 'utf8');
      r = await rig({
        clock,
        sets: [compileRuleFile(text, 'devices.json', 'devices', ops)],
        directory: new MemoryDirectory([{ id: 'mkr-01', customerId: 'acme', location: 'u4/302' }]),
      });
      // The device-watchdog node's events, as its domain types them.
      const outdated: WatchdogEvent = {
        deviceId: 'mkr-01',
        state: 'outdated',
        lastSeen: clock.now() - 31 * MIN,
      };
      await r.send({ topic: 'mkr-01', payload: outdated });
      assert.deepEqual(events(), ['raise:active_unack']);
      assert.equal(r.changes[0].alarm.severity, 'warning');
      assert.equal(r.changes[0].alarm.customerId, 'acme');
      assert.equal(r.changes[0].alarm.subject, 'mkr-01');
      const back: WatchdogEvent = { deviceId: 'mkr-01', state: 'back', lastSeen: clock.now() };
      await r.send({ topic: 'mkr-01', payload: back });
      assert.deepEqual(events(), ['raise:active_unack', 'clear:cleared_unack']);
    });
  });
});
