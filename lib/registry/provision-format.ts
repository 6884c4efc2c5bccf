// The registration block written into a device's flash over USB (seed 000):
// the five parameters it needs to log in, one `KEY=value` line each, between
// a version line and an end line, with LF endings:
//
//   SENSFLOW-PROVISION 1
//   TYPE=mkr1000
//   ID=mkr-01
//   SERIAL=3f2a…
//   SERVER=iot.example.org
//   PORT=4004
//   END
//
// Values never hold a newline or `=` in the key; a device reads line by line
// until END and ignores keys it does not know (later versions may add some).

export interface ProvisionParameters {
  type: string;
  id: string;
  serial: string;
  server: string;
  port: number;
}

export const PROVISION_HEADER = 'SENSFLOW-PROVISION 1';

export function formatProvisioning(p: ProvisionParameters): string {
  for (const [key, value] of Object.entries(p)) {
    if (/[\r\n]/.test(String(value)) || String(value) === '')
      throw new Error(`${key} must be one non-empty line`);
  }
  return (
    [
      PROVISION_HEADER,
      `TYPE=${p.type}`,
      `ID=${p.id}`,
      `SERIAL=${p.serial}`,
      `SERVER=${p.server}`,
      `PORT=${p.port}`,
      'END',
    ].join('\n') + '\n'
  );
}

/** Reads a block back (what a device does; used by tests and tools). */
export function parseProvisioning(text: string): ProvisionParameters {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== PROVISION_HEADER) throw new Error('not a provisioning block');
  const values: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === 'END') break;
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return {
    type: values.TYPE,
    id: values.ID,
    serial: values.SERIAL,
    server: values.SERVER,
    port: Number(values.PORT),
  };
}
