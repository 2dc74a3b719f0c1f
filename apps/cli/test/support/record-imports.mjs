// Preloaded with `node --import`: every module the process loads is appended to $IMPORT_LOG, so a
// test can say which libraries a command pulls in (hooks run on their own thread in Node 20).
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url);
