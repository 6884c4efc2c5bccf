// The demo's part of the server: on a first start (an empty home) with
// SENSFLOW_DEMO on, the demo customers and their simulated devices are added
// to the registry (lib/demo), for the default flow's device-simulator node.
import { addDemo } from '../../lib/demo/demo-set';
import { registryFor } from '../../lib/registry/shared';
import type { Extension } from './extensions';
import { isFirstStart } from './flows-seed';

export const demoExtension: Extension = {
  name: 'demo',
  async start(ctx) {
    if (!ctx.settings.demo || !isFirstStart(ctx.settings.home)) return;
    const registry = registryFor(ctx.store, ctx.secrets.credentialSecret, ctx.logger);
    const added = await addDemo(registry);
    if (added > 0)
      ctx.logger.info(
        `demo: added ${added} simulated devices (customers demo-campus and demo-home); ` +
          'remove them with "sensflow demo remove"',
      );
  },
};
