/**
 * The URL of a worker thread's compiled entry `fileName`, beside the module at `moduleUrl` (pass
 * `import.meta.url`). Under the test runner that module runs from its TypeScript source, where no
 * .js sits beside it: the entry is then taken from the build (`src/` -> `dist/`; npm test builds
 * first). A bundle keeps the path true by emitting the entry beside its chunks.
 */
export function threadEntryUrl(moduleUrl: string, fileName: string): URL {
  const compiled = moduleUrl.endsWith('.ts')
    ? moduleUrl.replace(/\/src\/(?!.*\/src\/)/, '/dist/')
    : moduleUrl;
  return new URL(`./${fileName}`, compiled);
}
