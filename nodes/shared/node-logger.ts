// A node's own log as the domain's Logger, so domain messages carry the node's name.
import type { Node } from 'node-red';
import type { Logger } from '../../lib/util/log';

export function nodeLogger(node: Node): Logger {
  return {
    error: (m) => node.error(m),
    warn: (m) => node.warn(m),
    info: (m) => node.log(m),
    debug: (m) => node.debug(m),
  };
}
