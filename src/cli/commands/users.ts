// `sensflow users add|list|passwd|remove`: dashboard users of the registry.
// A password is generated and printed once unless given on standard input
// (`--password-stdin`), so it never shows in the shell history.
import { randomSecret } from '../../../lib/security/secrets';
import type { Role } from '../../../lib/registry/users';
import { printTable, withRegistry } from '../registry-store';
import { parse, UsageError } from '../usage';

const USAGE = [
  'usage: sensflow users add --username NAME [--customer ID] [--role viewer|operator] [--password-stdin]',
  '       sensflow users list [--json]',
  '       sensflow users passwd --username NAME [--password-stdin]',
  '       sensflow users remove --username NAME',
].join('\n');

export async function usersCommand(args: string[]): Promise<number | void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add': {
      const { values } = parse(rest, {
        username: { type: 'string' },
        customer: { type: 'string' },
        role: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      });
      if (!values.username) throw new UsageError(USAGE);
      const { password, generated } = await passwordFrom(values['password-stdin']);
      const user = await withRegistry(({ registry }) =>
        registry.users.add({
          username: values.username!,
          password,
          customerId: values.customer ?? null,
          role: values.role as Role | undefined,
        }),
      );
      console.log(
        `User ${user.username} added (${user.role}, ${user.customerId ?? 'all customers'}).`,
      );
      if (generated) console.log(`Password (shown only this once):\n  ${password}`);
      return;
    }
    case 'list': {
      const { values } = parse(rest, { json: { type: 'boolean' } });
      const users = await withRegistry(({ registry }) => registry.users.list());
      if (values.json) for (const u of users) console.log(JSON.stringify(u));
      else
        printTable(
          ['USERNAME', 'ROLE', 'CUSTOMER'],
          users.map((u) => [u.username, u.role, u.customerId ?? '*']),
        );
      return;
    }
    case 'passwd': {
      const { values } = parse(rest, {
        username: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      });
      if (!values.username) throw new UsageError(USAGE);
      const { password, generated } = await passwordFrom(values['password-stdin']);
      await withRegistry(({ registry }) => registry.users.setPassword(values.username!, password));
      console.log(`Password of ${values.username} changed.`);
      if (generated) console.log(`New password (shown only this once):\n  ${password}`);
      return;
    }
    case 'remove': {
      const { values } = parse(rest, { username: { type: 'string' } });
      if (!values.username) throw new UsageError(USAGE);
      await withRegistry(({ registry }) => registry.users.remove(values.username!));
      console.log(`User ${values.username} removed.`);
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function passwordFrom(stdin: boolean | undefined) {
  if (!stdin) return { password: randomSecret(12), generated: true };
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return {
    password: Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, ''),
    generated: false,
  };
}
