#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it through the root "prepare" script).
import('../dist/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write(
      'bdv: not built yet; run `npm install` (or `npm run build`) in the repository root\n',
    );
    process.exit(1);
  }
  throw error;
});
