// Container health: the API answers /health/live; a worker has touched its heartbeat file lately
// (it does every 10 s from its event loop, so a wedged loop turns the container unhealthy).
import { statSync } from 'node:fs';

const role = process.env.BDV_ROLE ?? 'api';
try {
  if (role === 'api') {
    const res = await fetch(`http://127.0.0.1:${process.env.PORT ?? 3000}/health/live`, {
      signal: AbortSignal.timeout(4000),
    });
    process.exit(res.ok ? 0 : 1);
  } else if (role === 'cli') {
    process.exit(0);
  } else {
    const age = Date.now() - statSync(process.env.BDV_HEARTBEAT_FILE ?? '/tmp/bdv-worker-heartbeat').mtimeMs;
    process.exit(age < 60_000 ? 0 : 1);
  }
} catch {
  process.exit(1);
}
