// Where a node keeps files: Node-RED's user directory. Node-RED always sets
// it; its own default is ~/.node-red, never the process's working directory.
import os from 'node:os';
import path from 'node:path';
import type { NodeAPI } from 'node-red';

export function userDirOf(RED: NodeAPI): string {
  return RED.settings.userDir ?? path.join(os.homedir(), '.node-red');
}
