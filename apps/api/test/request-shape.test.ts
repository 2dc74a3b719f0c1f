import 'reflect-metadata';
import { SOURCE_OPTION_FIELDS } from '@bdv-cluster/contract';
import { RequestMethod, type ExecutionContext } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { API_CONTROLLERS } from '../src/app.module.js';
import { refuseUnknownParams } from '../src/common/query-params.js';
import { RequestShapeGuard } from '../src/common/request-shape.js';

// Every route of the API against the guard that refuses what a route would ignore: the query
// parameters it takes are the ones its OpenAPI lists, a cache-buster `_` passes on GETs only,
// and a body only where the handler reads one.

/** @nestjs/swagger's key for @ApiQuery/@ApiParam (DECORATORS.API_PARAMETERS). */
const API_PARAMETERS = 'swagger/apiParameters';
const BODY = 3; // RouteParamtypes.BODY

interface Route {
  label: string;
  method: string;
  handler: (...args: unknown[]) => unknown;
  controller: new (...args: never[]) => unknown;
  documented: string[];
  readsBody: boolean;
}

function routes(): Route[] {
  return API_CONTROLLERS.flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
      const handler = (controller.prototype as Record<string, Route['handler']>)[name]!;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined || name === 'constructor') return [];
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]!;
      const params = (Reflect.getMetadata(API_PARAMETERS, handler) ?? []) as { name: string; in: string }[];
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
        string,
        unknown
      >;
      return [
        {
          label: `${method} ${controller.name}.${name}`,
          method,
          handler,
          controller,
          documented: params.filter((p) => p.in === 'query').map((p) => p.name),
          readsBody: Object.keys(args).some((key) => key.startsWith(`${BODY}:`)),
        },
      ];
    }),
  );
}

const guard = new RequestShapeGuard(new Reflector());

/** The guard's answer to a request of `route` with `query` and `body`: 'ok' or the 400's message. */
function judge(route: Route, query: Record<string, string>, body?: unknown): string {
  const req = { method: route.method, query, body };
  const context = {
    getType: () => 'http',
    getHandler: () => route.handler,
    getClass: () => route.controller,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  try {
    guard.canActivate(context);
    return 'ok';
  } catch (error) {
    const e = error as { getStatus(): number; message: string };
    expect(e.getStatus()).toBe(400);
    return e.message;
  }
}

const all = routes();
const upload = all.find((r) => r.label === 'PUT DatasetsController.upload')!;
const others = all.filter((r) => r !== upload);

describe('the request-shape guard', () => {
  it('sees every route', () => {
    expect(all.length).toBeGreaterThanOrEqual(17);
    expect(upload).toBeDefined();
  });

  it.each(others.map((r) => [r.label, r] as const))(
    '%s takes the query parameters its OpenAPI lists, and no other',
    (_label, route) => {
      const documented = Object.fromEntries(route.documented.map((name) => [name, '1']));
      expect(judge(route, documented)).toBe('ok');
      expect(judge(route, { ...documented, stat: 'failed' })).toMatch(/^query\.stat: unknown parameter \(/);
      expect(judge(route, { _: '123' })).toEqual(
        route.method === 'GET' ? 'ok' : expect.stringMatching(/^query\._:/),
      );
    },
  );

  it.each(others.map((r) => [r.label, r] as const))(
    '%s takes a body only if it reads one ({} is no body)',
    (_label, route) => {
      expect(judge(route, {}, undefined)).toBe('ok');
      expect(judge(route, {}, {})).toBe('ok');
      const withBody = judge(route, {}, { force: true });
      if (route.readsBody) expect(withBody).toBe('ok');
      else expect(withBody).toBe('body: this route takes no body, and would ignore it: send none');
      if (!route.readsBody) expect(judge(route, {}, [])).toMatch(/^body:/);
    },
  );

  it('leaves the upload to its handler, whose query is its source options (as documented)', () => {
    expect(judge(upload, { anything: '1' }, { a: 1 })).toBe('ok');
    expect(upload.documented.sort()).toEqual(Object.keys(SOURCE_OPTION_FIELDS).sort());
  });
});

describe('refuseUnknownParams', () => {
  it('names every unknown parameter, up to ten, and what the route takes', () => {
    expect(() => refuseUnknownParams({ a: '1', b: '2', limit: '1' }, ['limit'])).toThrow(
      'query.a, query.b: unknown parameters (allowed: limit)',
    );
    expect(() => refuseUnknownParams({ x: '1' }, [])).toThrow(
      'query.x: unknown parameter (this route takes none)',
    );
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${i}`, '1']));
    expect(() => refuseUnknownParams(many, [])).toThrow(/query\.p9 and 2 more: unknown parameters/);
    expect(() => refuseUnknownParams({ _: '1' }, [], { cacheBuster: true })).not.toThrow();
    expect(() => refuseUnknownParams({ _: '1' }, [])).toThrow(/^query\._:/);
  });
});
