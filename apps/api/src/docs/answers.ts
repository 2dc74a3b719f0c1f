import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ContentObject } from '@nestjs/swagger';
import { ERROR_CONTENT } from './error-body.js';

/** One answer of a route: when it comes (a short description), and its body if not ErrorBody's. */
export type Answer = string | { description: string; content: ContentObject };
/** A route's answers by status. */
export type Answers = Readonly<Record<number, Answer>>;

/** The 404 of every route under a dataset id (an id no dataset has, or not shaped like one). */
export const NO_DATASET = 'no dataset has this id';

/** A success whose body is not JSON: `mediaType` text (binary for images). */
export function textAnswer(mediaType: string, description: string): Answer {
  const schema = mediaType.startsWith('image/') ? { type: 'string', format: 'binary' } : { type: 'string' };
  return { description, content: { [mediaType]: { schema } } };
}

/** What any route may answer before its handler runs (request-shape guard, JSON body parser). */
const REQUEST_EDGE: Answers = {
  400: 'a query parameter or a body the route does not take (details name each)',
  413: 'a JSON body over 100 kB',
  415: 'a body that is not JSON (Content-Type application/json)',
};

/** … and a route behind the token, which reads the state store. */
const TOKEN_EDGE: Answers = {
  ...REQUEST_EDGE,
  401: 'no bearer token, or one the API does not know',
  503: 'the state store (Redis) does not answer: try again shortly',
};

/**
 * The answers that come before a route's own code: `public` routes (health, metrics) the request
 * checks alone, `token` routes the token and the state store besides, and the `upload` (its body
 * is no JSON, and it checks its query and body itself) the token and the state store alone.
 */
const EDGES = {
  public: REQUEST_EDGE,
  token: TOKEN_EDGE,
  upload: { 401: TOKEN_EDGE[401]!, 503: TOKEN_EDGE[503]! },
} as const satisfies Record<string, Answers>;

/**
 * Documents every answer a route gives (OpenAPI responses): its own, by status, and those of its
 * edge; where both say something of one status, both are said. Errors (400 and up) carry the
 * common ErrorBody unless the answer gives its own content.
 */
export function ApiAnswers(own: Answers, edge: keyof typeof EDGES = 'token'): MethodDecorator {
  const statuses = [...new Set([...Object.keys(own), ...Object.keys(EDGES[edge])].map(Number))];
  return applyDecorators(
    ...statuses
      .sort((a, b) => a - b)
      .map((status) => {
        const mine = own[status];
        const shared = (EDGES[edge] as Answers)[status] as string | undefined;
        const description = [typeof mine === 'string' ? mine : mine?.description, shared]
          .filter(Boolean)
          .join('; or ');
        const content = typeof mine === 'object' ? mine.content : status >= 400 ? ERROR_CONTENT : undefined;
        return ApiResponse({ status, description, ...(content ? { content } : {}) });
      }),
  );
}
