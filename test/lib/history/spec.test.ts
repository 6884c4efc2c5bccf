// Which history a history-store means: the launcher's default (InfluxDB from
// SENSFLOW_INFLUX_URL, or the embedded store), or its own settings.
import assert from 'node:assert/strict';
import {
  historySpecFrom,
  influxSpecFromUrl,
  setDefaultHistorySpec,
} from '../../../lib/history/spec';
import { setDefaultStoreSpec } from '../../../lib/store/shared';

describe('history spec', () => {
  afterEach(() => {
    setDefaultHistorySpec(undefined);
    setDefaultStoreSpec(undefined);
  });

  it('reads InfluxDB, database and login from a URL', () => {
    assert.deepEqual(influxSpecFromUrl('http://sensflow:s%40cret@127.0.0.1:8086/metrics'), {
      kind: 'influxdb',
      url: 'http://127.0.0.1:8086',
      database: 'metrics',
      username: 'sensflow',
      password: 's@cret',
    });
  });

  it('follows the launcher default, else the embedded default store', () => {
    setDefaultStoreSpec({ kind: 'sqlite', file: '/data/sensflow.db' });
    assert.deepEqual(historySpecFrom({ backend: 'default' }, '/home'), {
      kind: 'embedded',
      store: { kind: 'sqlite', file: '/data/sensflow.db' },
    });
    setDefaultHistorySpec(influxSpecFromUrl('http://127.0.0.1:8086/sensflow'));
    assert.equal(historySpecFrom({}, '/home').kind, 'influxdb');
  });

  it('takes an InfluxDB of its own, and names what is missing', () => {
    assert.deepEqual(
      historySpecFrom(
        {
          backend: 'influxdb',
          url: 'http://h:8086/',
          database: 'db',
          retentionPolicy: 'raw',
          username: 'u',
          password: 'p',
        },
        '/home',
      ),
      {
        kind: 'influxdb',
        url: 'http://h:8086',
        database: 'db',
        retentionPolicy: 'raw',
        username: 'u',
        password: 'p',
      },
    );
    assert.throws(
      () => historySpecFrom({ backend: 'influxdb', database: 'db' }, '/'),
      /no InfluxDB URL/,
    );
    assert.throws(
      () => historySpecFrom({ backend: 'influxdb', url: 'ftp://h', database: 'db' }, '/'),
      /http/,
    );
    assert.throws(
      () => historySpecFrom({ backend: 'influxdb', url: 'http://h' }, '/'),
      /no InfluxDB database/,
    );
    assert.throws(() => historySpecFrom({ backend: 'mongo' }, '/'), /unknown backend/);
  });
});
