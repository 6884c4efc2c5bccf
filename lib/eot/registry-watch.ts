// The registry's say over devices logged in here: one disabled, removed or
// given new credentials is cut off at once, and one moved to another customer
// or type must log in again, so no session outlives the rights it logged in with.
import type { DeviceChange, DeviceDirectory } from '../registry/directory';
import { errorMessage, Logger } from '../util/log';
import type { Connection } from './connection';

const CUT_OFF: ReadonlySet<DeviceChange['kind']> = new Set(['disabled', 'removed', 'credentials']);

/** Closes connections the registry's changes no longer allow; returns the unwatch. */
export function watchRegistry(
  directory: DeviceDirectory,
  online: ReadonlyMap<string, Connection>,
  logger?: Logger,
): () => void {
  return directory.watch((change) => {
    const conn = online.get(change.deviceId);
    if (!conn) return;
    if (CUT_OFF.has(change.kind)) {
      logger?.info(`EOT ${change.deviceId}: ${change.kind} in the registry, disconnected`);
      conn.close(`registry_${change.kind}`);
      return;
    }
    if (change.kind !== 'updated') return;
    // A device moved to another customer or type must log in again.
    directory.findDevice(change.deviceId).then(
      (device) => {
        if (
          !device ||
          !device.enabled ||
          device.customerId !== conn.customerId ||
          device.type !== conn.deviceType
        )
          conn.close('registry_updated');
      },
      (err: unknown) => logger?.warn(`EOT registry change: ${errorMessage(err)}`),
    );
  });
}
