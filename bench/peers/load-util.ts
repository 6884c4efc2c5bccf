// What the load generators share: loopback source addresses and a bounded
// number of tasks at once.

/** One loopback source address per device (or connection), so that
 *  ephemeral ports never run out and per-address limits apply per device. */
export function source(subnet: number, i: number): string {
  return `127.${subnet}.${Math.floor(i / 250) % 250}.${1 + (i % 250)}`;
}

/** Runs task(0) … task(count - 1), at most `concurrency` at a time. */
export async function bounded(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
