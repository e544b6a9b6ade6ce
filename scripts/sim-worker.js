// Worker threads do not inherit the main thread's module hooks on Node 20:
// register tsx here, then run the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./sim-worker.ts');
