// `sensflow customers add --id ID --name NAME | list | remove --id ID`.
import { parse, UsageError } from '../usage';
import { printTable, withRegistry } from '../registry-store';

const USAGE = 'usage: sensflow customers add --id ID --name NAME | list [--json] | remove --id ID';

export async function customersCommand(args: string[]): Promise<number | void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add': {
      const { values } = parse(rest, { id: { type: 'string' }, name: { type: 'string' } });
      if (!values.id || !values.name) throw new UsageError(USAGE);
      await withRegistry(({ registry }) =>
        registry.customers.add({ id: values.id!, name: values.name! }),
      );
      console.log(`Customer ${values.id} added.`);
      return;
    }
    case 'list': {
      const { values } = parse(rest, { json: { type: 'boolean' } });
      const customers = await withRegistry(({ registry }) => registry.customers.list());
      if (values.json) for (const c of customers) console.log(JSON.stringify(c));
      else
        printTable(
          ['ID', 'NAME', 'DEVICES'],
          customers.map((c) => [c.id, c.name, String(c.devices)]),
        );
      return;
    }
    case 'remove': {
      const { values, positionals } = parse(rest, { id: { type: 'string' } }, true);
      const id = values.id ?? positionals[0];
      if (!id) throw new UsageError(USAGE);
      await withRegistry(({ registry }) => registry.customers.remove(id));
      console.log(`Customer ${id} removed.`);
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}
