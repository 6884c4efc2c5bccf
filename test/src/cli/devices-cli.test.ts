// The registry commands without a server: round trips of devices, customers
// and users; clear errors that change nothing; export from the embedded
// SQLite store and import into MariaDB giving the same registry (serials
// included, sealed with a passphrase); provisioning blocks to a file and to a
// serial port (a pseudo-terminal made by socat).
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProvisioning } from '../../../lib/registry/provision-format';
import { delay } from '../../support/net';
import { ensurePackages } from '../../support/packages';
import { mariadb } from '../../support/services';
import { runSensflow, testEnv } from '../../support/sensflow-process';

const SECRET = 'cli-test-credential-secret-0123';

describe('sensflow devices, customers and users (CLI)', function () {
  this.timeout(120_000);
  let env: Record<string, string>;
  let dir: string;

  const run = (args: string[], input?: string, extra: Record<string, string> = {}) =>
    runSensflow(args, { ...env, ...extra }, input);
  const ok = async (...args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeEach(async () => {
    env = { ...(await testEnv()), SENSFLOW_CREDENTIAL_SECRET: SECRET };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-cli-'));
  });

  async function seed() {
    await ok('customers', 'add', '--id', 'acme', '--name', 'ACME');
    await ok('customers', 'add', '--id', 'globex', '--name', 'Globex Corp');
    await ok(
      ...['devices', 'add', '--id', 'mkr-01', '--type', 'mkr1000', '--customer', 'acme'],
      ...['--location', 'u4/300', '--uid', 'b8:27:eb:00:00:01', '--uid-type', 'ethernet'],
      ...['--serial', 'serial-of-mkr-01', '--config', '{"interval":60}'],
    );
    await ok(
      ...['devices', 'add', '--id', 'lora-7', '--type', 'lorawan', '--customer', 'globex'],
      ...['--location', 'outside/ambient', '--uid', '70B3D57ED0001234', '--uid-type', 'lorawan'],
      ...['--description', 'weather station', '--outdated-after', '90'],
    );
    const r = await run(
      [
        'users',
        'add',
        '--username',
        'alice',
        '--customer',
        'acme',
        '--role',
        'operator',
        '--password-stdin',
      ],
      'alice password\n',
    );
    assert.equal(r.code, 0, r.stderr);
  }

  it('adds, lists, shows, updates, disables, enables, resets and removes devices', async () => {
    await seed();
    const listed = await ok('devices', 'list');
    assert.match(listed, /^ID\s+TYPE\s+CUSTOMER\s+LOCATION/);
    assert.match(listed, /mkr-01\s+mkr1000\s+acme\s+u4\/300\s+yes/);
    const json = (await ok('devices', 'list', '--customer', 'globex', '--json'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; outdatedAfterMs: number });
    assert.deepEqual(
      json.map((d) => [d.id, d.outdatedAfterMs]),
      [['lora-7', 90 * 60_000]],
    );
    await ok(
      'devices',
      'update',
      '--id',
      'mkr-01',
      '--location',
      'u4/301',
      '--description',
      'moved',
    );
    const shown = JSON.parse(await ok('devices', 'show', '--id', 'mkr-01')) as Record<
      string,
      unknown
    >;
    assert.deepEqual([shown.location, shown.description], ['u4/301', 'moved']);
    assert.ok(!JSON.stringify(shown).includes('serial-of-mkr-01'));
    await ok('devices', 'disable', 'mkr-01');
    assert.match(await ok('devices', 'list', '--enabled', 'false'), /mkr-01/);
    await ok('devices', 'enable', 'mkr-01');
    assert.match(await ok('devices', 'reset-credentials', 'mkr-01'), /reset/);
    await ok('devices', 'set-serial', '--id', 'mkr-01', '--serial', 'another-serial-1');
    await ok('devices', 'remove', 'mkr-01');
    assert.doesNotMatch(await ok('devices', 'list'), /mkr-01/);
    assert.match(await ok('customers', 'list'), /acme\s+ACME\s+0/);
    await ok('customers', 'add', '--id', 'initech', '--name', 'Initech');
    await ok('customers', 'remove', '--id', 'initech');
    assert.doesNotMatch(await ok('customers', 'list'), /initech/);
  });

  it('refuses bad input with one clear line, changing nothing', async () => {
    await seed();
    const cases: Array<[string[], RegExp]> = [
      [
        [
          'devices',
          'add',
          '--id',
          'x1',
          '--type',
          'mkr1000',
          '--customer',
          'nobody',
          '--location',
          'u4/1',
        ],
        /customerId: unknown customer nobody/,
      ],
      [
        [
          'devices',
          'add',
          '--id',
          'x1',
          '--type',
          'mkr1000',
          '--customer',
          'acme',
          '--location',
          'u4/#',
        ],
        /location: must not contain wildcards/,
      ],
      [
        [
          'devices',
          'add',
          '--id',
          'mkr-01',
          '--type',
          'mkr1000',
          '--customer',
          'acme',
          '--location',
          'u4/1',
        ],
        /id: device mkr-01 already exists/,
      ],
      [
        [
          'devices',
          'add',
          '--id',
          'x1',
          '--type',
          'mkr1000',
          '--customer',
          'acme',
          '--location',
          'u4/1',
          '--uid',
          'b8:27:eb:00:00:01',
          '--uid-type',
          'ethernet',
        ],
        /uid: another device already has that uid/,
      ],
      [['customers', 'remove', '--id', 'acme'], /still has devices/],
      [['devices', 'show', 'ghost'], /no device ghost/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const usage = await run(['devices', 'add', '--id', 'x']);
    assert.equal(usage.code, 2);
    const ids = (await ok('devices', 'list', '--json')).trim().split('\n');
    assert.equal(ids.length, 2, 'nothing was added');
  });

  it('manages dashboard users, generating a password shown once', async () => {
    await ok('customers', 'add', '--id', 'acme', '--name', 'ACME');
    const added = await ok('users', 'add', '--username', 'bob');
    const password = /shown only this once\):\n\s+(\S+)/.exec(added)![1];
    assert.match(await ok('users', 'list'), /bob\s+viewer\s+\*/);
    const changed = await ok('users', 'passwd', '--username', 'bob');
    assert.notEqual(/\):\n\s+(\S+)/.exec(changed)![1], password);
    await ok('users', 'remove', '--username', 'bob');
    assert.doesNotMatch(await ok('users', 'list'), /bob/);
  });

  it('exports the embedded registry and imports it into MariaDB as the same registry', async () => {
    await seed();
    const passphraseFile = path.join(dir, 'passphrase');
    fs.writeFileSync(passphraseFile, 'a long export passphrase\n');
    const exportFile = path.join(dir, 'registry.jsonl');
    await ok('devices', 'export', '--out', exportFile, '--passphrase-file', passphraseFile);
    const text = fs.readFileSync(exportFile, 'utf8');
    assert.ok(!text.includes('serial-of-mkr-01'), 'serials are sealed');
    assert.equal(fs.statSync(exportFile).mode & 0o077, 0, 'only its owner reads it');

    const mysql = { SENSFLOW_MYSQL_URL: await (await mariadb()).createDatabase('cli_import') };
    const wrong = path.join(dir, 'wrong');
    fs.writeFileSync(wrong, 'not the passphrase at all');
    const refused = await run(
      ['devices', 'import', '--in', exportFile, '--passphrase-file', wrong],
      undefined,
      mysql,
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /wrong passphrase/);
    const empty = await run(['devices', 'list', '--json'], undefined, mysql);
    assert.equal(empty.stdout.trim(), '', 'nothing half-imported');

    const imported = await run(
      ['devices', 'import', '--in', exportFile, '--passphrase-file', passphraseFile],
      undefined,
      mysql,
    );
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported 2 customers, 7 device types, 2 devices, 1 users/);
    for (const listing of [
      ['devices', 'list', '--json'],
      ['customers', 'list', '--json'],
      ['users', 'list', '--json'],
    ]) {
      const before = await run(listing);
      const after = await run(listing, undefined, mysql);
      assert.equal(after.stdout, before.stdout, listing.join(' '));
    }
    for (const id of ['mkr-01', 'lora-7']) {
      const a = path.join(dir, `${id}.sqlite.txt`);
      const b = path.join(dir, `${id}.mysql.txt`);
      await ok('devices', 'provision', '--id', id, '--out', a, '--server', 'iot.example.org');
      const r = await run(
        ['devices', 'provision', '--id', id, '--out', b, '--server', 'iot.example.org'],
        undefined,
        mysql,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs.readFileSync(b, 'utf8'), fs.readFileSync(a, 'utf8'), `${id}: same serial`);
    }
    const again = await run(
      ['devices', 'import', '--in', exportFile, '--passphrase-file', passphraseFile],
      undefined,
      mysql,
    );
    assert.notEqual(again.code, 0, 'a second import clashes');
  });

  it('writes the provisioning block to a file only its owner can read', async () => {
    await seed();
    const file = path.join(dir, 'mkr-01.txt');
    await ok(
      'devices',
      'provision',
      '--id',
      'mkr-01',
      '--out',
      file,
      '--server',
      'iot.example.org',
      '--server-port',
      '4004',
    );
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(
      text,
      'SENSFLOW-PROVISION 1\nTYPE=mkr1000\nID=mkr-01\nSERIAL=serial-of-mkr-01\nSERVER=iot.example.org\nPORT=4004\nEND\n',
    );
    assert.equal(fs.statSync(file).mode & 0o077, 0);
    assert.deepEqual(parseProvisioning(text), {
      type: 'mkr1000',
      id: 'mkr-01',
      serial: 'serial-of-mkr-01',
      server: 'iot.example.org',
      port: 4004,
    });
  });

  it('writes the provisioning block to a serial port (a socat pseudo-terminal)', async () => {
    await ensurePackages(['socat'], ['socat']);
    await seed();
    const host = path.join(dir, 'tty-host');
    const board = path.join(dir, 'tty-board');
    const socat: ChildProcess = spawn('socat', [
      `pty,raw,echo=0,link=${host}`,
      `pty,raw,echo=0,link=${board}`,
    ]);
    try {
      for (let i = 0; i < 100 && !(fs.existsSync(host) && fs.existsSync(board)); i++)
        await delay(50);
      const received: Buffer[] = [];
      const reader = fs.createReadStream(board);
      reader.on('data', (chunk) => received.push(chunk as Buffer));
      reader.on('error', () => undefined); // EIO once socat closes the pty
      // The block must not reach the board's pty before anyone reads it.
      await once(reader, 'open');
      const r = await run([
        'devices',
        'provision',
        '--id',
        'lora-7',
        '--port',
        host,
        '--server',
        'iot.example.org',
      ]);
      assert.equal(r.code, 0, r.stderr);
      for (let i = 0; i < 100 && !Buffer.concat(received).includes('END\n'); i++) await delay(50);
      reader.destroy();
      const parsed = parseProvisioning(Buffer.concat(received).toString('utf8'));
      assert.equal(parsed.id, 'lora-7');
      assert.equal(parsed.type, 'lorawan');
      assert.match(parsed.serial, /^[0-9a-f]{32}$/);
      assert.deepEqual(
        [parsed.server, parsed.port],
        ['iot.example.org', Number(env.SENSFLOW_EOT_PORT)],
      );
      const missing = await run([
        'devices',
        'provision',
        '--id',
        'lora-7',
        '--port',
        path.join(dir, 'no-such-tty'),
      ]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /cannot open/);
    } finally {
      socat.kill();
    }
  });
});
