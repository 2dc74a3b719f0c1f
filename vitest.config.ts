import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Workspace packages resolve to their TypeScript sources
// (the "@bdv-cluster/source" export condition), so tests never run against a stale build — except
// in worker threads (view threads, the preview thread), which start from dist: `npm test` and
// `nx test` build first.
export default defineConfig({
  resolve: { conditions: ['@bdv-cluster/source'] },
  ssr: { resolve: { conditions: ['@bdv-cluster/source'] } },
  test: {
    include: ['libs/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // s3rver (the local S3 server of the e2e tests) signs list continuation tokens with DES,
    // which OpenSSL 3 keeps in its legacy provider.
    execArgv: ['--openssl-legacy-provider'],
  },
});
