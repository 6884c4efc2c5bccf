// What an aedes broker's persistence holds. aedes answers a QoS 1 PUBLISH with
// its PUBACK before it stores the retained copy or queues it for offline
// sessions, so a test that needs the stored message waits on these.
import type { Readable } from 'node:stream';
import type { Aedes } from 'aedes';

type Persistence = {
  createRetainedStream(pattern: string): Readable;
  outgoingStream(client: { id: string }): Readable;
};

function persistence(aedes: Aedes): Persistence {
  return (aedes as unknown as { persistence: Persistence }).persistence;
}

async function topicsOf(stream: Readable): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of stream) topics.push((packet as { topic: string }).topic);
  return topics;
}

/** Topics of the retained messages the broker's store holds for `pattern`. */
export function retainedTopics(aedes: Aedes, pattern: string): Promise<string[]> {
  return topicsOf(persistence(aedes).createRetainedStream(pattern));
}

/** Topics of the messages queued for the (offline) session of `clientId`. */
export function queuedTopics(aedes: Aedes, clientId: string): Promise<string[]> {
  return topicsOf(persistence(aedes).outgoingStream({ id: clientId }));
}
