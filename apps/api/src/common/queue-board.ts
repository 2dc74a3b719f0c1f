import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { ClusterConfig, ClusterQueues } from '@bdv-cluster/pipeline';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { tokenAllowed, tokenOf } from './bearer-auth.guard.js';

/**
 * Bull Board at /queues, behind the same tokens as /v1. Browsers get a Basic-auth prompt: any
 * user name, the token as password.
 */
export function mountQueueBoard(app: INestApplication, queues: ClusterQueues, config: ClusterConfig): void {
  const adapter = new ExpressAdapter();
  adapter.setBasePath('/queues');
  createBullBoard({
    queues: [new BullMQAdapter(queues.write), new BullMQAdapter(queues.finalize)],
    serverAdapter: adapter,
  });
  const auth = (req: Request, res: Response, next: NextFunction) => {
    if (tokenAllowed(tokenOf(req.headers.authorization), config.API_TOKENS)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="bdv-cluster queues"');
    res.status(401).json({
      statusCode: 401,
      error: 'UNAUTHORIZED',
      message: 'missing or unknown token (Bearer, or Basic with the token as password)',
    });
  };
  app.use('/queues', auth, adapter.getRouter());
}
