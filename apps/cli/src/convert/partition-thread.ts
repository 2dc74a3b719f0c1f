import { preferredSlabDepth, writePartitionFile, type PartitionPlan } from '@bdv-cluster/bdv';
import { asSlabStack, openStackFile, type OpenStackOptions } from '@bdv-cluster/stacks';
import { parentPort } from 'node:worker_threads';

export interface PartitionTask {
  plan: PartitionPlan;
  path: string;
  options: OpenStackOptions;
}

/** Thread entry: writes one partition file per message (own wasm heap, own core). */
const port = parentPort!;
port.on('message', (task: PartitionTask) => {
  void (async () => {
    const reader = await openStackFile(task.path, task.options);
    try {
      const depth = preferredSlabDepth(reader.shapeZyx, task.plan.levels, task.plan.slabBytes);
      await writePartitionFile(task.plan, asSlabStack(reader, depth), (p) =>
        port.postMessage({ type: 'progress', bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }),
      );
    } finally {
      await reader.close();
    }
  })()
    .then(() => port.postMessage({ type: 'done' }))
    .catch((error: unknown) =>
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
});
