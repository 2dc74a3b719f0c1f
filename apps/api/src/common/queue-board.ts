import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { ClusterQueues } from '@bdv-cluster/pipeline';
import type { INestApplication } from '@nestjs/common';
import { QUEUE_BOARD_PATH } from './auth-gate.js';

/**
 * Bull Board at /queues, behind the same tokens as the API (see auth-gate.ts: browsers get a
 * Basic-auth prompt there — any user name, the token as password). Read-only: every queue in
 * `readOnlyMode`, so the board shows jobs, attempts and errors but takes no action (add, retry,
 * promote, clean, remove, empty, obliterate, pause, edit: `405`). Its actions move jobs behind the
 * dataset state machine's back — an emptied write queue left datasets `writing` for ever — so
 * datasets are acted on through the API (`bdv retry`, `bdv cancel`, `bdv finalize`).
 */
export function mountQueueBoard(app: INestApplication, queues: ClusterQueues): void {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [queues.write, queues.finalize, queues.notify].map(
      (q) => new BullMQAdapter(q, { readOnlyMode: true }),
    ),
    serverAdapter: adapter,
  });
  app.use(QUEUE_BOARD_PATH, adapter.getRouter());
}
