import { ClusterQueues, DatasetStore } from '@bdv-cluster/pipeline';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiAnswers, textAnswer } from '../docs/answers.js';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * Prometheus metrics of the whole cluster, read from the queues and the shared counters in Redis
 * at scrape time (writers in other processes update those counters).
 */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  private readonly registry = new Registry();

  constructor(queues: ClusterQueues, store: DatasetStore) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bdv_api_' });
    const registers = [this.registry];
    new Gauge({
      name: 'bdv_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        for (const queue of [queues.write, queues.finalize, queues.notify]) {
          const counts = await queue.getJobCounts(
            'waiting',
            'active',
            'delayed',
            'completed',
            'failed',
            'prioritized',
          );
          for (const [state, n] of Object.entries(counts)) this.set({ queue: queue.name, state }, n);
        }
      },
    });
    new Gauge({
      name: 'bdv_queue_depth',
      help: 'Write jobs waiting or delayed (what writer autoscaling follows)',
      registers,
      async collect() {
        const c = await queues.write.getJobCounts('waiting', 'delayed', 'prioritized');
        this.set((c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0));
      },
    });
    const stat = (name: string, help: string, key: string) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set((await store.stats())[key] ?? 0);
        },
      });
    stat('bdv_bytes_written_total', 'Raw bytes converted into BDV files', 'bytesWritten');
    stat('bdv_views_written_total', 'Views written', 'viewsWritten');
    stat('bdv_views_failed_total', 'Views that failed for good', 'viewsFailed');
    new Gauge({
      name: 'bdv_write_mb_per_second',
      help: 'Mean write throughput of finished views (MB of raw input per second of writing)',
      registers,
      async collect() {
        const s = await store.stats();
        this.set(s.writeSeconds ? (s.bytesWritten ?? 0) / 1e6 / s.writeSeconds : 0);
      },
    });
  }

  @Get()
  @ApiAnswers(
    {
      200: textAnswer('text/plain', 'Prometheus text'),
      503: 'the state store (Redis) does not answer: try again shortly',
    },
    'public',
  )
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics() {
    return this.registry.metrics();
  }
}
