// `sensflow demo add | remove`: the demo customers, device types and
// simulated devices (lib/demo) that a first start adds when SENSFLOW_DEMO is
// on. Works while the server runs: removed devices are cut off at once.
import { addDemo, removeDemo } from '../../../lib/demo/demo-set';
import { UsageError } from '../usage';
import { withRegistry } from '../registry-store';

const USAGE = 'usage: sensflow demo add | remove';

export async function demoCommand(args: string[]): Promise<number | void> {
  const [action, ...rest] = args;
  if (rest.length > 0) throw new UsageError(USAGE);
  switch (action) {
    case 'add': {
      const added = await withRegistry(({ registry }) => addDemo(registry));
      console.log(
        `Demo: ${added} simulated devices added (customers demo-campus and demo-home); ` +
          'the default flow\'s "device simulator" node runs them.',
      );
      return;
    }
    case 'remove': {
      const removed = await withRegistry(({ registry }) => removeDemo(registry));
      console.log(`Demo: ${removed} devices removed, with the demo customers and device types.`);
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}
