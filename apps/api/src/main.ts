#!/usr/bin/env node
import 'reflect-metadata';
import { ClusterQueues, ConfigError, loadConfig } from '@bdv-cluster/pipeline';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { pinoHttp } from 'pino-http';
import { AppModule } from './app.module.js';
import { authGate } from './common/auth-gate.js';
import { jsonBodiesOnly } from './common/body-types.js';
import { judgeTokens } from './common/dev-token.js';
import { mountQueueBoard } from './common/queue-board.js';
import { bodyDeadline, continueUploadsOnceAccepted } from './datasets/upload-body.js';
import { openApiDocument } from './docs/openapi.js';

/** Express as the API wants it: set before Nest registers anything (the router reads them once). */
function expressInstance(): express.Express {
  const server = express();
  server.set('case sensitive routing', true); // `/V1/datasets` is not a route
  server.set('strict routing', true); // nor is `/v1/datasets/`
  server.disable('x-powered-by');
  return server;
}

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env, ['OUTPUT_DIR', 'API_TOKENS']);
  const tokens = judgeTokens(config.API_TOKENS, config.BDV_DEV_TOKEN);
  if (tokens.problem) throw new ConfigError([tokens.problem]);
  if (tokens.warning)
    process.stdout.write(`${JSON.stringify({ level: 40, service: 'bdv-api', msg: tokens.warning })}\n`);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forConfig(config),
    new ExpressAdapter(expressInstance()),
    {
      logger: new ConsoleLogger({ json: true, colors: false, logLevels: ['error', 'warn', 'log'] }),
      bodyParser: false,
    },
  );
  app.use(
    pinoHttp({
      level: config.LOG_LEVEL,
      base: { service: 'bdv-api' },
      redact: ['req.headers.authorization'],
      autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
    }),
  );
  // In this order, before any route: who may ask, then what a body may be (JSON, parsed).
  app.use(bodyDeadline());
  app.use(authGate(config.API_TOKENS));
  app.use(jsonBodiesOnly('100kb'));
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
  mountQueueBoard(app, app.get(ClusterQueues));
  app.enableShutdownHooks();
  // Longer than the idle timeout of common load balancers (60 s), so they never reuse a
  // connection this server has just closed ("other side closed" on the client).
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Off: an upload may take longer than Node's 300 s to arrive (UPLOAD_MAX_BYTES is 256 GiB);
  // uploads end after UPLOAD_IDLE_MS without a byte, other bodies keep 300 s (bodyDeadline).
  server.requestTimeout = 0;
  continueUploadsOnceAccepted(server);
  await app.listen(config.PORT, config.HOST);
  process.stdout.write(
    `${JSON.stringify({ level: 30, service: 'bdv-api', msg: `listening on http://${config.HOST}:${config.PORT}` })}\n`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`bdv-api: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
});
