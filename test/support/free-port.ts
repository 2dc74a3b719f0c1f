// One implementation for scripts, benchmarks and tests (scripts/free-port.mjs).
export { freePort } from '../../scripts/free-port.mjs';
