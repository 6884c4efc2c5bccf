// `sensflow simulate <kind> …`: simulated devices for the shipped scenarios,
// one file per kind (simulate-<kind>.ts), chosen by the first argument.
import { UsageError } from '../usage';

const kinds: Record<string, { summary: string; run(args: string[]): Promise<number | void> }> = {
  eot: {
    summary: 'EOT devices logging in and sending readings, events, alarms and messages',
    run: async (args) => (await import('./simulate-eot')).simulateEot(args),
  },
  udp: {
    summary: 'smart meters sending a day of surveys over UDP to the survey gateway',
    run: async (args) => (await import('./simulate-udp')).simulateUdp(args),
  },
  mqtt: {
    summary: 'campus and smart-home devices: sensors, shutters, lighting, relays, device status',
    run: async (args) => (await import('./simulate-mqtt')).simulateMqtt(args),
  },
};

export async function simulateCommand(args: string[]): Promise<number | void> {
  const [kind, ...rest] = args;
  const simulator = kind === undefined ? undefined : kinds[kind];
  if (!simulator) {
    const list = Object.entries(kinds).map(([name, k]) => `  ${name}  ${k.summary}`);
    throw new UsageError(
      `usage: sensflow simulate <kind> [options], kind one of:\n${list.join('\n')}`,
    );
  }
  return simulator.run(rest);
}
