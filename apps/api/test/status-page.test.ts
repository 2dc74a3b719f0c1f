import type { DatasetRecord, ViewEntry } from '@bdv-cluster/pipeline';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../src/status/html.js';
import {
  formatBytes,
  formatDuration,
  mergeSummaries,
  progressOf,
  summarizeViews,
} from '../src/status/progress.js';
import { renderStatusPage, type DatasetStatusView, type StatusModel } from '../src/status/status-page.js';
import { ViewsDigestCache } from '../src/status/views-digest-cache.js';

// The status page's pure parts: escaping by construction, progress from the state, and a page
// that shows what it must and nothing it must not.

const T0 = Date.parse('2026-01-01T10:00:00Z');

function dataset(views: Partial<DatasetRecord['views']>, updatedAt = T0): DatasetRecord {
  return {
    id: 'd1',
    name: 'run1',
    status: 'writing',
    spec: { name: 'run1' } as DatasetRecord['spec'],
    views: { queued: 0, running: 0, done: 0, failed: 0, ...views },
    files: { h5: '/out/run1/run1.h5', xml: '/out/run1/run1.xml' },
    errors: [],
    waiting: {},
    finalizeRequested: false,
    generation: 0,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
  };
}

function view(
  key: string,
  state: ViewEntry['state'],
  submittedAt: number,
  bytes?: number,
  shape?: number[],
): ViewEntry {
  return {
    viewKey: key,
    state,
    setupId: 0,
    jobId: `d1.${key}`,
    submittedAt: new Date(submittedAt).toISOString(),
    spec: {
      time: 0,
      illumination: 0,
      channel: 0,
      tile: 0,
      angle: 0,
      source: { uri: 's3://raw/x.npy', shapeZyx: shape },
    },
    ...(bytes !== undefined ? { result: { bytes, seconds: 1, checksums: [], record: {} } } : {}),
  } as ViewEntry;
}

describe('html', () => {
  it('escapes every interpolated value, and composes pieces it made itself', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    const name = '<script>alert(1)</script>';
    const inner = html`<b>${name}</b>`;
    expect(html`<p>${inner} ${[1, '<', html`<i>ok</i>`]} ${undefined}${false}</p>`.text).toBe(
      '<p><b>&lt;script&gt;alert(1)&lt;/script&gt;</b> 1&lt;<i>ok</i> </p>',
    );
  });
});

describe('progress', () => {
  it('counts views and bytes, and extends the rate so far to the views left', () => {
    // 4 views submitted at T0; 2 done (100 MB each) 40 s later; 1 running, 1 queued.
    const views = [
      view('a', 'done', T0, 100e6),
      view('b', 'done', T0, 100e6),
      view('c', 'running', T0),
      view('d', 'queued', T0 + 5000),
    ];
    const p = progressOf(dataset({ done: 2, running: 1, queued: 1 }), summarizeViews(views), T0 + 40_000);
    expect(p).toEqual({
      total: 4,
      done: 2,
      failed: 0,
      remaining: 2,
      bytesDone: 200e6,
      bytesTotal: 400e6,
      bytesTotalEstimated: true,
      bytesPerSecond: 5e6,
      etaSeconds: 40,
    });
  });

  it('uses declared shapes when every view has one, and stops the clock when nothing is left', () => {
    const views = [view('a', 'done', T0, 8, [1, 2, 2]), view('b', 'failed', T0, undefined, [2, 2, 2])];
    const p = progressOf(dataset({ done: 1, failed: 1 }, T0 + 4000), summarizeViews(views), T0 + 999_000);
    expect(p.bytesTotal).toBe(8 + 16);
    expect(p.bytesTotalEstimated).toBe(false);
    expect(p.bytesPerSecond).toBe(2); // 8 bytes over the 4 s until the last change
    expect(p.etaSeconds).toBeUndefined();
  });

  it('sums a million views in one pass (a spread of that many arguments would throw)', () => {
    const many = Array.from({ length: 1_000_000 }, (_, i) =>
      view(`v${i}`, 'done', T0 + (i % 977), 2, [1, 1, 1]),
    );
    many[500_000] = view('early', 'queued', T0 - 5000, undefined, [1, 1, 1]);
    expect(summarizeViews(many)).toEqual({
      count: 1_000_000,
      bytesDone: 2 * 999_999,
      bytesDeclared: 2 * 1_000_000,
      firstSubmittedAt: T0 - 5000,
    });
  });

  it('sums views batch by batch to what one pass over them all gives', () => {
    const views = [
      view('a', 'done', T0 + 3000, 10, [1, 1, 5]),
      view('b', 'queued', T0 + 1000, undefined, [1, 2, 2]),
      view('c', 'failed', T0 + 2000, undefined, [1, 1, 1]),
      view('d', 'done', T0 + 500, 4, [1, 1, 2]),
      view('e', 'running', T0 + 9000),
    ];
    const inBatches = (list: ViewEntry[], size: number) => {
      let sum = summarizeViews([]);
      for (let i = 0; i < list.length; i += size)
        sum = mergeSummaries(sum, summarizeViews(list.slice(i, i + size)));
      return sum;
    };
    for (const list of [views, views.slice(0, 4), []])
      for (const size of [1, 2, 3, 5]) expect(inBatches(list, size)).toEqual(summarizeViews(list));
    // Undeclared shapes ('e') make the declared total unknown, and the earliest submission is kept.
    expect(inBatches(views, 2)).toMatchObject({
      count: 5,
      bytesDone: 14,
      bytesDeclared: undefined,
      firstSubmittedAt: T0 + 500,
    });
    expect(inBatches(views.slice(0, 4), 3).bytesDeclared).toBe(2 * (5 + 4 + 1 + 2));
  });

  it('says nothing it cannot know yet', () => {
    const p = progressOf(dataset({ queued: 3 }), summarizeViews([view('a', 'queued', T0)]), T0 + 1000);
    expect([p.bytesTotal, p.bytesPerSecond, p.etaSeconds]).toEqual([undefined, undefined, undefined]);
  });

  it('formats bytes and durations for people', () => {
    expect([
      formatBytes(0),
      formatBytes(999),
      formatBytes(1500),
      formatBytes(22.6e6),
      formatBytes(3.2e12),
    ]).toEqual(['0 B', '999 B', '1.5 kB', '23 MB', '3.2 TB']);
    expect([formatDuration(44.6), formatDuration(240), formatDuration(7500)]).toEqual([
      '45 s',
      '4 min',
      '2 h 5 min',
    ]);
  });
});

describe('the page', () => {
  const hostile = '<img src=x onerror=alert(1)>"\'&';
  const d: DatasetStatusView = {
    id: 'd1',
    name: `run ${hostile}`,
    status: 'writing',
    layout: 'single',
    progress: progressOf(
      dataset({ done: 2, running: 1, queued: 1 }),
      summarizeViews([
        view('a', 'done', T0, 100e6),
        view('b', 'done', T0, 100e6),
        view('c', 'running', T0),
        view('d', 'queued', T0),
      ]),
      T0 + 40_000,
    ),
    failedViews: [{ viewKey: 't0-i0-c1-s0-a0', reason: `bad header ${hostile}` }],
    waitingViews: [{ viewKey: 't0-i0-c0-s1-a0', reason: 'output volume full' }],
    errors: [`finalize: ${hostile}`],
    files: { h5: '/out/run1/run1.h5', xml: '/out/run1/run1.xml' },
    hasPreview: true,
    createdAt: new Date(T0).toISOString(),
  };
  const model: StatusModel = {
    generatedAt: new Date(T0),
    refreshSeconds: 7,
    queue: { waiting: 5, delayed: 2, active: 1, failed: 0 },
    datasets: [d],
    datasetCount: 3,
  };
  // whitespace as a browser sees it (the template is formatted by prettier)
  const page = renderStatusPage(model).replace(/\s+/g, ' ').replace(/> </g, '><');

  it('shows progress, rate, ETA, reasons, files, the contact sheet and the queue', () => {
    for (const text of [
      '<meta http-equiv="refresh" content="7" />',
      '<b>7</b> waiting (2 delayed)',
      '<span class="views-done">2</span> done',
      '200 MB of ≈ 400 MB',
      '5.0 MB/s',
      'done in ~40 s',
      't0-i0-c1-s0-a0',
      'output volume full',
      '/out/run1/run1.xml',
      '<img src="/v1/datasets/d1/preview.png"',
      '1 of 3 dataset(s)',
    ])
      expect(page, text).toContain(text);
  });

  it('lists the first failed views and counts all of them', () => {
    const failedViews = Array.from({ length: 20 }, (_, i) => ({
      viewKey: `t${i}-i0-c0-s0-a0`,
      reason: 'gone',
    }));
    const many = { ...d, failedViews, progress: { ...d.progress, failed: 7200 } };
    const text = renderStatusPage({ ...model, datasets: [many] }).replace(/\s+/g, ' ');
    expect(text).toContain('failed views (7200)');
    expect(text).toContain('… and 7180 more (GET /v1/datasets/:id/views)');
    expect(text.match(/<li><code>t\d+-i0-c0-s0-a0<\/code>/g)).toHaveLength(20);
  });

  it('escapes every user-provided string and runs no script', () => {
    expect(page).not.toContain(hostile);
    expect(page).not.toMatch(/<img src=x|<script/i);
    // the name (heading, image alt), a failed view's reason, a dataset error
    expect(page.split('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;').length - 1).toBe(4);
  });
});

describe('view digests kept for the page', () => {
  const digest = (bytesDone: number) => ({ summary: { count: 1, bytesDone }, failedViews: [] });

  it('are given back while the dataset is unchanged, and not once any counter or time moved', () => {
    const cache = new ViewsDigestCache(10);
    const d = dataset({ done: 1, running: 1 });
    cache.set(d, digest(1));
    expect(cache.get({ ...d })).toEqual(digest(1));
    expect(cache.get(dataset({ done: 2 }))).toBeUndefined(); // running -> done, same time
    expect(cache.get(dataset({ done: 1, running: 1 }, T0 + 1))).toBeUndefined();
    expect(cache.get({ ...d, views: { ...d.views, cancelled: 1 } })).toBeUndefined();
    expect(cache.get({ ...d, status: 'finalizing' })).toBeUndefined();
    expect(cache.get({ ...d, generation: 1 })).toBeUndefined();
  });

  it('forget the dataset shown least recently beyond their capacity', () => {
    const cache = new ViewsDigestCache(2);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => ({ ...dataset({ done: 1 }), id }));
    cache.set(a!, digest(1));
    cache.set(b!, digest(2));
    expect(cache.get(a!)).toEqual(digest(1)); // a shown again: b is now the oldest
    cache.set(c!, digest(3));
    expect([cache.get(a!), cache.get(b!), cache.get(c!)]).toEqual([digest(1), undefined, digest(3)]);
  });
});
