import { viewKeyProblem } from '@bdv-cluster/contract';
import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from './api-error.js';

/** What randomUUID() makes: dataset and batch ids are nothing else. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An id from the path, refused as unknown (404) unless it has the shape ids have, before it
 * reaches Redis: the store builds keys from it (`ds:<id>`), and `<id>:errors` named another key.
 */
function idOf(kind: 'dataset' | 'batch', value: string): string {
  if (UUID.test(value)) return value;
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  throw ApiError.notFound(`${kind} ${shown} does not exist`, 'id');
}

@Injectable()
export class DatasetIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return idOf('dataset', value);
  }
}

@Injectable()
export class BatchIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return idOf('batch', value);
  }
}

/**
 * A view key from the path, as the API writes them (t0-i0-c17-s0-a0), else a 400 saying how to
 * write it: views are stored under that spelling only, and an upload to `t00-…` had queued t0's
 * view under an object named t00 while retry and preview of `t00-…` found nothing.
 */
export function assertViewKey(value: string): string {
  const problem = viewKeyProblem(value);
  if (problem) throw ApiError.badRequest(problem, [{ field: 'viewKey', message: problem }]);
  return value;
}

/** assertViewKey on a route's `:viewKey` (the upload checks it itself, to drain its body first). */
@Injectable()
export class ViewKeyPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return assertViewKey(value);
  }
}
