// Entry of a driver worker thread: registers tsx in this thread, then runs worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
