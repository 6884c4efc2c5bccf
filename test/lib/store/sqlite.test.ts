// The embedded store's statement cache: each SQL text compiled once, reused
// with other parameters, and the cache bounded.
import assert from 'node:assert/strict';
import Database from 'libsql';
import { withStatementCache } from '../../../lib/store/sqlite';

describe('embedded store: statement cache', () => {
  let database: Database.Database;
  let compiled: string[];

  beforeEach(() => {
    database = new Database(':memory:');
    database.exec('create table t (a integer, b text)');
    compiled = [];
    const prepare = database.prepare.bind(database);
    database.prepare = ((sql: string) => {
      compiled.push(sql);
      return prepare(sql);
    }) as typeof database.prepare;
  });
  afterEach(() => database.close());

  it('compiles a SQL text once and runs it again with other parameters', () => {
    const db = withStatementCache(database);
    const insert = 'insert into t (a, b) values (?, ?)';
    for (let i = 0; i < 5; i++) db.prepare(insert).run([i, `v${i}`]);
    const select = 'select b from t where a >= ? order by a';
    assert.deepEqual(db.prepare(select).all([3]), [{ b: 'v3' }, { b: 'v4' }]);
    assert.deepEqual(db.prepare(select).all([4]), [{ b: 'v4' }]);
    assert.equal(db.prepare(select), db.prepare(select), 'the same statement');
    assert.deepEqual(compiled, [insert, select]);
  });

  it('keeps at most 256 statements, dropping the least recently used', () => {
    const db = withStatementCache(database);
    const query = (i: number) => `select ${i} as n`;
    db.prepare(query(0));
    for (let i = 1; i <= 256; i++) {
      db.prepare(query(i));
      db.prepare(query(0)); // kept in use: never dropped
    }
    assert.equal(compiled.filter((s) => s === query(0)).length, 1);
    assert.deepEqual(db.prepare(query(1)).all([]), [{ n: 1 }]);
    assert.equal(compiled.filter((s) => s === query(1)).length, 2, 'query 1 was dropped');
  });
});
