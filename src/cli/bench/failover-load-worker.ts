// The thread of `weft bench failover`'s writers (see LoadThread in failover-load.ts).
import { parentPort } from 'node:worker_threads';
import { startWriters, type LoadReply, type LoadRequest } from './failover-load.ts';

const port = parentPort!;
const reply = (message: LoadReply): void => port.postMessage(message);
let writers: { stop(): Promise<void> } | undefined;

port.on('message', (request: LoadRequest) => {
  if (request.type === 'start') {
    writers = startWriters(request.endpoints, request.clients, new Uint8Array(request.valueSizeBytes).fill(97));
    reply({ type: 'started' });
  } else {
    const stopping = writers?.stop() ?? Promise.resolve();
    writers = undefined;
    void stopping.then(() => reply({ type: 'stopped' }));
  }
});
reply({ type: 'ready' });
