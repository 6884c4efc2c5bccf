// One alarm book per open store in the process, so the REST API, every
// alarm-rules node and every alarm-control node see the same alarms and the
// same transitions. It closes (writing what it holds) with its store. When
// the process is one of several instances on that store, the book is shared
// with theirs (see book.ts).
import { clusterFor } from '../cluster/shared';
import type { Store } from '../store/store';
import type { Logger } from '../util/log';
import { AlarmBook } from './book';

const books = new WeakMap<Store, Promise<AlarmBook>>();

export function alarmBookFor(store: Store, logger?: Logger): Promise<AlarmBook> {
  let book = books.get(store);
  if (!book) {
    const opening = AlarmBook.open(store.db, { logger, shared: clusterFor(store) !== undefined });
    books.set(store, opening);
    // A failed open is not kept: the next caller tries again.
    opening.catch(() => books.delete(store));
    store.onClose(async () => (await opening.catch(() => undefined))?.close());
    book = opening;
  }
  return book;
}
