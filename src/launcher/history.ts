// History, as the server sets it up: the "default" history of history-store
// nodes is the InfluxDB of SENSFLOW_INFLUX_URL (database from its path) or
// else the embedded store, and spools live where the settings say.
import { influxSpecFromUrl, setDefaultHistorySpec, setSpoolDefaults } from '../../lib/history/spec';
import { DEFAULT_SPOOL_MAX_BYTES } from '../../lib/history/spec';
import type { Extension } from './extensions';

export const historyExtension: Extension = {
  name: 'history',
  async start(ctx) {
    const influxUrl = ctx.settings.external.influxUrl;
    setDefaultHistorySpec(influxUrl ? influxSpecFromUrl(influxUrl) : undefined);
    setSpoolDefaults({
      dir: ctx.settings.history.spoolDir,
      maxBytes: ctx.settings.history.spoolMaxBytes,
    });
    return {
      async stop() {
        setDefaultHistorySpec(undefined);
        setSpoolDefaults({ dir: undefined, maxBytes: DEFAULT_SPOOL_MAX_BYTES });
      },
    };
  },
};
