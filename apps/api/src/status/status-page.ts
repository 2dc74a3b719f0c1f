import type { DatasetFiles, DatasetStatus } from '@bdv-cluster/pipeline';
import { Html, html } from './html.js';
import { formatBytes, formatDuration, type DatasetProgress } from './progress.js';

/** What the status page shows; built by StatusService from Redis and the queues. */
export interface StatusModel {
  generatedAt: Date;
  refreshSeconds: number;
  queue: { waiting: number; delayed: number; active: number; failed: number };
  datasets: DatasetStatusView[];
  /** Datasets there are in all (the page shows the newest `datasets.length`). */
  datasetCount: number;
}

export interface DatasetStatusView {
  id: string;
  name: string;
  status: DatasetStatus;
  layout: string;
  progress: DatasetProgress;
  /** The first failed views (at most LIST_CAP); `progress.failed` counts them all. */
  failedViews: { viewKey: string; reason: string }[];
  waitingViews: { viewKey: string; reason: string }[];
  /** Errors of the dataset itself (the finalize's). */
  errors: string[];
  files: DatasetFiles;
  /** The contact sheet is worth asking for: at least one view is written. */
  hasPreview: boolean;
  /** The first timepoint has more views than a contact sheet can show. */
  sheetTooLarge?: true;
  createdAt: string;
}

/** At most this many reasons per list; the rest are counted. */
export const LIST_CAP = 20;
/** Reasons are user text of any length: cut for the page (the API has them whole). */
const REASON_CAP = 300;

/**
 * The status page: server-rendered HTML, no script. It refreshes itself (meta refresh), so it
 * works behind Basic auth with nothing but the browser; images are the contact sheets of
 * /v1/datasets/:id/preview.png. Every interpolated value is escaped (html.ts).
 */
export function renderStatusPage(model: StatusModel): string {
  const q = model.queue;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content="${model.refreshSeconds}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>bdv-cluster status</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>bdv-cluster</h1>
          <p class="queue" id="queue">
            write queue: <b>${q.waiting + q.delayed}</b> waiting (${q.delayed} delayed) ·
            <b>${q.active}</b> writing · ${q.failed} failed jobs
          </p>
          <p class="meta">
            ${model.datasets.length} of ${model.datasetCount} dataset(s), newest first · updated
            ${model.generatedAt.toISOString()} · refreshes every ${model.refreshSeconds} s
          </p>
        </header>
        <main>
          ${model.datasets.length === 0 ? html`<p class="empty">No datasets yet.</p>` : model.datasets.map(datasetSection)}
        </main>
      </body>
    </html> `.text;
}

function datasetSection(d: DatasetStatusView): Html {
  const p = d.progress;
  const settled = p.done + p.failed;
  const id = encodeURIComponent(d.id);
  return html`<section class="dataset" data-id="${d.id}" data-status="${d.status}">
    <div class="text">
      <h2><span class="name">${d.name}</span> <span class="status s-${d.status}">${d.status}</span></h2>
      <p class="meta">id <code>${d.id}</code> · layout ${d.layout} · created ${d.createdAt}</p>
      ${bar('views', settled, p.total, html`<span class="views-done">${p.done}</span> done${p.failed ? html`, <span class="views-failed">${p.failed}</span> failed` : ''} of <span class="views-total">${p.total}</span> view(s)${p.remaining ? ` · ${p.remaining} to go` : ''}`)}
      ${bar('bytes', p.bytesDone, p.bytesTotal ?? 0, html`${formatBytes(p.bytesDone)}${p.bytesTotal !== undefined ? html` of ${p.bytesTotalEstimated ? '≈ ' : ''}${formatBytes(p.bytesTotal)}` : ''}${p.bytesPerSecond !== undefined ? html` · <span class="rate">${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s</span>` : ''}${p.etaSeconds !== undefined ? html` · <span class="eta">done in ~${formatDuration(p.etaSeconds)}</span>` : ''}`)}
      ${reasons('failed views', 'failed', d.failedViews, Math.max(p.failed, d.failedViews.length))}
      ${reasons('waiting for an outage to end', 'waiting', d.waitingViews)}
      ${
        d.errors.length
          ? html`<div class="errors">
              <h3>dataset errors</h3>
              <ul>
                ${d.errors.slice(0, LIST_CAP).map((e) => html`<li>${cut(e)}</li>`)}
              </ul>
            </div>`
          : ''
      }
      <dl class="files">
        <dt>XML</dt>
        <dd>
          <code>${d.files.xml}</code
          >${d.files.xmlUri ? html` · <code>${d.files.xmlUri}</code>` : ''}${d.status === 'complete' ? '' : html` <span class="note">(written when complete)</span>`}
        </dd>
        <dt>HDF5</dt>
        <dd><code>${d.files.h5}</code>${d.files.h5Uri ? html` · <code>${d.files.h5Uri}</code>` : ''}</dd>
      </dl>
    </div>
    ${d.hasPreview ? html`<a class="preview" href="/v1/datasets/${id}/preview.png"><img src="/v1/datasets/${id}/preview.png" alt="contact sheet of ${d.name}" loading="lazy" /></a>` : d.sheetTooLarge ? html`<div class="preview none">too many views at one timepoint for a contact sheet: preview them one by one (GET /v1/datasets/:id/views/:viewKey/preview.png)</div>` : html`<div class="preview none">no view written yet</div>`}
  </section>`;
}

function bar(kind: string, value: number, max: number, caption: Html): Html {
  const percent = max > 0 ? Math.min(100, (100 * value) / max) : 0;
  return html`<div class="progress ${kind}">
    <progress max="100" value="${percent.toFixed(1)}"></progress><span>${caption}</span>
  </div>`;
}

function reasons(
  title: string,
  kind: string,
  list: readonly { viewKey: string; reason: string }[],
  total = list.length,
): Html | string {
  if (list.length === 0) return '';
  const shown = list.slice(0, LIST_CAP);
  return html`<div class="${kind}">
    <h3>${title} (${total})</h3>
    <ul>
      ${shown.map(
        (v) => html`<li><code>${v.viewKey}</code>: <span class="reason">${cut(v.reason)}</span></li>`,
      )}${
        total > shown.length
          ? html`<li>… and ${total - shown.length} more (GET /v1/datasets/:id/views)</li>`
          : ''
      }
    </ul>
  </div>`;
}

function cut(text: string): string {
  return text.length > REASON_CAP ? `${text.slice(0, REASON_CAP)}…` : text;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0}
.meta{color:#667085;font-size:12px}
header .meta{color:#aab}
main{padding:12px 20px;display:grid;gap:12px}
.dataset{background:#fff;border:1px solid #dde;border-radius:6px;padding:12px 16px;display:flex;gap:16px;justify-content:space-between}
.dataset .text{flex:1;min-width:0}
h2{margin:0;font-size:17px}
h3{margin:8px 0 2px;font-size:13px}
.status{font-size:12px;padding:1px 8px;border-radius:10px;background:#dde;vertical-align:middle}
.s-complete{background:#c9f0d0}.s-failed{background:#f7c6c6}.s-writing,.s-finalizing{background:#cfe0ff}
.progress{display:flex;align-items:center;gap:8px;margin:6px 0}
.progress progress{width:220px;height:14px}
.failed li .reason{color:#a01818}
.waiting li .reason{color:#8a5a00}
ul{margin:0;padding-left:18px}
code{font-size:12px;word-break:break-all}
dl.files{display:grid;grid-template-columns:max-content 1fr;gap:2px 8px;margin:8px 0 0}
dl.files dt{font-weight:600}dl.files dd{margin:0}
.note{color:#667085;font-size:12px}
.preview img{max-width:300px;max-height:300px;border:1px solid #ccd;background:#000;display:block}
.preview.none{width:300px;color:#667085;font-size:12px;text-align:center;align-self:center}
`;
