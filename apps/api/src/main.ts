#!/usr/bin/env node
import 'reflect-metadata';
import { ClusterQueues, ConfigError, loadConfig } from '@bdv-cluster/pipeline';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { pinoHttp } from 'pino-http';
import { AppModule } from './app.module.js';
import { mountQueueBoard } from './common/queue-board.js';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env, ['OUTPUT_DIR', 'API_TOKENS']);
  const app = await NestFactory.create(AppModule.forConfig(config), {
    logger: new ConsoleLogger({ json: true, colors: false, logLevels: ['error', 'warn', 'log'] }),
    bodyParser: true,
  });
  app.use(
    pinoHttp({
      level: config.LOG_LEVEL,
      base: { service: 'bdv-api' },
      redact: ['req.headers.authorization'],
      autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
    }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('bdv-cluster API')
      .setDescription(
        'Light-sheet stacks to BigDataViewer HDF5 + XML, as a service. Every /v1 route needs a bearer token.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  mountQueueBoard(app, app.get(ClusterQueues), config);
  app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
  process.stdout.write(
    `${JSON.stringify({ level: 30, service: 'bdv-api', msg: `listening on http://${config.HOST}:${config.PORT}` })}\n`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`bdv-api: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
});
