// Checks a device login that arrived over another transport (HTTP, UDP, …)
// against the registry, as the EOT server would: the identity on output 1, a
// rejection on output 2. `msg.topic = "nonce"` asks for an AUTH2 challenge.
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { Authenticator } from '../../lib/eot/authenticator';
import { separatorByte } from '../../lib/eot/codec';
import { DeviceLogin, LoginFormatError, proofFromPayload } from '../../lib/eot/device-login';
import { systemClock } from '../../lib/util/clock';
import { errorMessage } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';

interface DeviceAuthDef extends NodeDef {
  registry: string;
  legacyAuth: boolean;
  separator: string;
  throttleFailures: string | number;
  throttleWindow: string | number;
  throttleLock: string | number;
}

/** A number from the editor, or the default when left empty. */
function setting(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`"${value}" is not a number`);
  return n;
}

type LoginMessage = NodeMessage & { nonce?: unknown; address?: unknown; req?: { ip?: string } };

export = function (RED: NodeAPI) {
  function DeviceAuthNode(this: Node, def: DeviceAuthDef) {
    RED.nodes.createNode(this, def);
    const registryNode = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    const separator = separatorByte(def.separator || undefined);
    const ready: Promise<DeviceLogin> = (async () => {
      if (!registryNode) throw new Error(RED._('device-auth.errors.noRegistry'));
      const [directory, store] = await Promise.all([
        registryNode.directory(),
        registryNode.store(),
      ]);
      const authenticator = new Authenticator(directory, store.db, systemClock, {
        legacyAuth: def.legacyAuth !== false,
        throttle: {
          maxFailures: setting(def.throttleFailures, 5),
          windowMs: setting(def.throttleWindow, 60) * 1000,
          lockMs: setting(def.throttleLock, 300) * 1000,
        },
      });
      return new DeviceLogin(authenticator, systemClock);
    })();
    ready.catch((err: unknown) =>
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err).slice(0, 60) }),
    );

    this.on('input', async (msg: LoginMessage, send, done) => {
      try {
        const login = await ready;
        if (msg.topic === 'nonce') {
          const nonce = login.issueNonce();
          send([{ ...msg, nonce, payload: { nonce, hello: `SERVER|*|HELLO|1|${nonce}` } }, null]);
          return done();
        }
        let proof;
        try {
          proof = proofFromPayload(msg.payload, separator);
        } catch (err) {
          if (!(err instanceof LoginFormatError)) throw err;
          send([
            null,
            { ...msg, payload: { id: null, reason: 'bad_format', detail: err.message } },
          ]);
          return done();
        }
        const address = typeof msg.address === 'string' ? msg.address : msg.req?.ip;
        const nonce = typeof msg.nonce === 'string' ? msg.nonce : undefined;
        const result = await login.check(proof, { address, nonce });
        if (result.ok) {
          const d = result.device;
          this.status({ fill: 'green', shape: 'dot', text: d.id });
          send([
            {
              ...msg,
              payload: {
                id: d.id,
                type: d.type,
                customerId: d.customerId,
                location: d.location,
                mode: proof.mode,
              },
            },
            null,
          ]);
        } else {
          this.status({ fill: 'yellow', shape: 'ring', text: `${proof.id}: ${result.reason}` });
          send([null, { ...msg, payload: { id: proof.id, reason: result.reason } }]);
        }
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: errorMessage(err).slice(0, 60) });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
  RED.nodes.registerType('device-auth', DeviceAuthNode);
};
