import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ERROR_BODY, ERROR_BODY_SCHEMA } from './error-body.js';

/** The API's OpenAPI document, generated from its routes (served at /docs). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('bdv-cluster API')
      .setDescription(
        'Light-sheet stacks to BigDataViewer HDF5 + XML, as a service. Every route but /health*, /metrics and /docs* needs a bearer token. A query parameter a route does not list is refused (400 naming it), but for a cache-buster `_` on GETs; so is a JSON body (other than {}) on a route that takes none. Every error answer is an ErrorBody ({statusCode, error, message, details}); every 4xx names the fields at fault in details.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, [ERROR_BODY]: ERROR_BODY_SCHEMA },
  };
  return document;
}
