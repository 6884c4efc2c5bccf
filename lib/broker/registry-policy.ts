// The embedded broker's access rules from the registry: the service login
// may do everything; a device logs in with the MQTT login and password from
// /device/credentials and may only use its own base topic (device-acl.ts).
// A device disabled, reset, moved or removed while connected is cut off at
// once (the registry's change feed says so, from any process).
import { deviceLogins } from '../registry/metrics';
import type { Registry } from '../registry/registry';
import type { Logger } from '../util/log';
import { devicePublishAllowed, deviceSubscribeAllowed } from './device-acl';
import type { BrokerPolicy, EmbeddedBroker, Principal } from './embedded-broker';

export function registryPolicy(registry: Registry, service: BrokerPolicy): BrokerPolicy {
  return {
    async authenticate(username, password, clientId): Promise<Principal | null> {
      const asService = await service.authenticate(username, password, clientId);
      if (asService) return asService;
      if (!username || !password) {
        deviceLogins.inc({ transport: 'mqtt', result: 'refused', reason: 'anonymous' });
        return null;
      }
      const { device, refused } = await registry.checkLogin(username, password.toString('utf8'));
      deviceLogins.inc({
        transport: 'mqtt',
        result: refused ? 'refused' : 'accepted',
        reason: refused ?? 'ok',
      });
      if (refused || !device) return null;
      return { username, deviceId: device.id, base: device.location };
    },
    canPublish(principal, topic) {
      if (principal.service === true) return service.canPublish(principal, topic);
      return typeof principal.base === 'string' && devicePublishAllowed(principal.base, topic);
    },
    canSubscribe(principal, filter) {
      if (principal.service === true) return service.canSubscribe(principal, filter);
      return typeof principal.base === 'string' && deviceSubscribeAllowed(principal.base, filter);
    },
  };
}

/** Installs the registry's rules on the broker and cuts off devices whose
 *  rights changed; returns the undo. */
export function enforceRegistry(
  broker: EmbeddedBroker,
  registry: Registry,
  service: BrokerPolicy,
  logger: Logger,
): () => void {
  broker.setPolicy(registryPolicy(registry, service));
  const unwatch = registry.watch((change) => {
    if (change.kind === 'added' || change.kind === 'enabled') return;
    const closed = broker.disconnect((p) => p.deviceId === change.deviceId);
    if (closed > 0) logger.info(`mqtt: device ${change.deviceId} cut off (${change.kind})`);
  });
  return () => {
    unwatch();
    broker.setPolicy(service);
  };
}
