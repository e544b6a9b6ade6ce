// The thread of `weft bench failover`'s probe (see ProbeThread in failover-probe.ts).
import { parentPort } from 'node:worker_threads';
import { probeUntilWrite, type ProbeReply, type ProbeRequest } from './failover-probe.ts';

const port = parentPort!;
const reply = (message: ProbeReply): void => port.postMessage(message);
// Stamped on the clock every thread of the process shares; the main thread takes its own timeOrigin off.
const sharedClock = (): number => performance.timeOrigin + performance.now();

port.on('message', ({ endpoints, valueSizeBytes, warmUp }: ProbeRequest) => {
  const key = warmUp === true ? 'failover-probe/warm-up' : 'failover-probe';
  probeUntilWrite(endpoints, new Uint8Array(valueSizeBytes).fill(97), sharedClock, key).then(
    (result) => reply({ type: 'committed', result }),
    (error: unknown) => reply({ type: 'failed', message: (error as Error).message }),
  );
});
reply({ type: 'ready' });
