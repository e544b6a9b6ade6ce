// A worker thread of `weft bench kv --workers N`: measures one share of the
// load and posts the sample back (see kv-workload.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { measureLoad, type LoadShare } from './kv-load.ts';

parentPort?.postMessage(await measureLoad(workerData as LoadShare));
