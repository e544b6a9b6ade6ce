// Worker threads do not inherit the main thread's module hooks on Node 20:
// register tsx here, then run the TypeScript worker (as kv-load-worker.js).
import { register } from 'tsx/esm/api';

register();
await import('./failover-probe-worker.ts');
