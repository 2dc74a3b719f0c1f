import { MAX_SETUP_COUNT, MAX_TIMEPOINTS, parseViewKey, viewKeyOf } from '@bdv-cluster/contract';
import { VIEW_STATES, type ViewState } from '@bdv-cluster/pipeline';
import { boundedInteger, queryError } from '../common/query-params.js';

/** The most views one page of GET …/views holds (about 2 MB of JSON). */
export const MAX_VIEWS_PAGE = 10_000;

/** What GET …/views was asked for: views in `state`, after the key `after`, at most `limit`. */
export interface ViewsQuery {
  state?: ViewState;
  after?: string;
  limit?: number;
}

/**
 * `?state=&after=&limit=` of the views listing, each at most once, else a 400 naming it. Other
 * parameters are refused before this by RequestShapeGuard — but for a cache-buster `_`, which
 * clients had always been able to add here and keep.
 */
export function viewsQueryOf(query: Record<string, unknown>): ViewsQuery {
  for (const name of ['state', 'after', 'limit'])
    if (Array.isArray(query[name]))
      throw queryError(`query.${name}`, `given more than once: one ${name} at a time`);
  const { state, after, limit } = query;
  return {
    ...(state === undefined ? {} : { state: viewStateOf(state) }),
    ...(after === undefined ? {} : { after: viewKeyCursorOf(after) }),
    ...(limit === undefined ? {} : { limit: boundedInteger('query.limit', limit, 1, MAX_VIEWS_PAGE, 5) }),
  };
}

function viewStateOf(value: unknown): ViewState {
  const state = VIEW_STATES.find((s) => s === value);
  if (!state) throw queryError('query.state', `must be one of ${VIEW_STATES.join(', ')}`);
  return state;
}

/**
 * A page cursor is a view key as the API writes them, with indices a view can have (the view need
 * not exist): a key past those bounds would be no view's neighbour, only a way to an empty page.
 */
function viewKeyCursorOf(value: unknown): string {
  const view = typeof value === 'string' && value.length <= 64 ? parseViewKey(value) : undefined;
  if (
    !view ||
    viewKeyOf(view) !== value ||
    view.time >= MAX_TIMEPOINTS ||
    [view.illumination, view.channel, view.tile, view.angle].some((i) => i >= MAX_SETUP_COUNT)
  )
    throw queryError(
      'query.after',
      `must be a view key such as t0-i0-c0-s0-a0 (the last of the previous page; time below ${MAX_TIMEPOINTS}, other indices below ${MAX_SETUP_COUNT})`,
    );
  return value;
}

/**
 * The `Link` header (RFC 8288) to the page after this one: the same state and limit, after
 * `next`, on the route's own path (built from the dataset id, not from the request line, which
 * Express takes in forms a URL parser refuses).
 */
export function nextPageLink(datasetId: string, q: ViewsQuery, next: string): string {
  const params = new URLSearchParams({
    ...(q.state ? { state: q.state } : {}),
    after: next,
    ...(q.limit ? { limit: String(q.limit) } : {}),
  });
  return `</v1/datasets/${encodeURIComponent(datasetId)}/views?${params}>; rel="next"`;
}
