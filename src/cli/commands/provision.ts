// `sensflow devices provision --id X --port /dev/ttyACM0 | --out FILE`:
// writes the five registration parameters of seed 000 (type, id, serial,
// server name, server port) to a device's USB serial port, or to a file only
// its owner can read, in the line format of lib/registry/provision-format.ts.
import os from 'node:os';
import { SerialPort } from 'serialport';
import { formatProvisioning } from '../../../lib/registry/provision-format';
import { writeOwnerOnly } from '../../../lib/security/credential-secret';
import { withRegistry } from '../registry-store';
import { parse, UsageError } from '../usage';

export async function provisionCommand(rest: string[]): Promise<void> {
  const { values } = parse(rest, {
    id: { type: 'string' },
    port: { type: 'string' },
    baud: { type: 'string', default: '115200' },
    out: { type: 'string' },
    server: { type: 'string' },
    'server-port': { type: 'string' },
  });
  if (!values.id || (!values.port && !values.out) || (values.port && values.out))
    throw new UsageError(
      'usage: sensflow devices provision --id ID (--port DEVICE [--baud N] | --out FILE) [--server HOST] [--server-port N]',
    );
  const baud = Number(values.baud);
  if (!Number.isInteger(baud) || baud <= 0) throw new UsageError('--baud takes a whole number');
  const block = await withRegistry(async ({ registry, settings }) => {
    const device = await registry.getDevice(values.id!);
    const serial = await registry.deviceSecret(values.id!);
    if (!device || serial === null) throw new Error(`no device ${values.id}`);
    const port = values['server-port'] ?? String(settings.eot.port);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
      throw new UsageError('--server-port takes a port number');
    return formatProvisioning({
      type: device.type,
      id: device.id,
      serial,
      server: values.server ?? settings.provisioning.publicHost ?? os.hostname(),
      port: Number(port),
    });
  });
  if (values.out) {
    writeOwnerOnly(values.out, block.trimEnd());
    console.log(
      `Provisioning of ${values.id} written to ${values.out} (readable by its owner only).`,
    );
  } else {
    await writeToPort(values.port!, baud, block);
    console.log(`Provisioning of ${values.id} written to ${values.port}.`);
  }
}

async function writeToPort(path: string, baudRate: number, text: string): Promise<void> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err ? reject(new Error(`cannot open ${path}: ${err.message}`)) : resolve(),
    ),
  );
  try {
    await new Promise<void>((resolve, reject) =>
      port.write(text, (err) => (err ? reject(err) : resolve())),
    );
    await new Promise<void>((resolve, reject) =>
      port.drain((err) => (err ? reject(err) : resolve())),
    );
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
