# syntax=docker/dockerfile:1
# One image for every role: api | writer | finalizer | all | cli (first argument, or BDV_ROLE).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# A C compiler and libdeflate's headers for libs/bdv's gzip binding (docs/adr/020).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev libdeflate-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY libs/bdv/package.json libs/bdv/
COPY libs/contract/package.json libs/contract/
COPY libs/stacks/package.json libs/stacks/
COPY libs/storage/package.json libs/storage/
COPY libs/convert/package.json libs/convert/
COPY libs/pipeline/package.json libs/pipeline/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY libs libs
COPY apps apps
COPY scripts/package-folder.mjs scripts/prepare-h5wasm.mjs scripts/route-deflate-to-node.mjs scripts/h5wasm-embedded-module.mjs scripts/share-wasm-memory.mjs scripts/wasm-sections.mjs scripts/heap-image.mjs scripts/build-native.mjs scripts/bundle-cli.mjs scripts/
# The image ships HDF5 loaded from a file with gzip on the host and a shared heap (ADRs 014, 018,
# 019), initialised by the build (ADR 026), gzip by libdeflate (ADR 020), huge-page advice for
# HDF5's heaps (ADR 021) and the pyramid's block sums in C (ADR 031), or fails here.
RUN npx tsc -b && node scripts/prepare-h5wasm.mjs && BDV_NATIVE=required node scripts/build-native.mjs \
 && node scripts/bundle-cli.mjs \
 && node -e "const s = require('./libs/bdv/dist/h5wasm/source.json'); if (s.deflate !== 'node-zlib') throw new Error('prepare-h5wasm did not route gzip to Node zlib'); if (s.memory !== 'shared') throw new Error('prepare-h5wasm did not share the heap'); if (!s.heapImage) throw new Error('prepare-h5wasm made no initialised heap')"

FROM ${NODE_IMAGE} AS runtime
# libdeflate itself, which libs/bdv/dist/native/bdv_deflate.node links against.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libdeflate0 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    OUTPUT_DIR=/data/output \
    BDV_HEARTBEAT_FILE=/tmp/bdv-worker-heartbeat
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/libs/bdv/package.json libs/bdv/
COPY --from=build /app/libs/contract/package.json libs/contract/
COPY --from=build /app/libs/stacks/package.json libs/stacks/
COPY --from=build /app/libs/storage/package.json libs/storage/
COPY --from=build /app/libs/convert/package.json libs/convert/
COPY --from=build /app/libs/pipeline/package.json libs/pipeline/
COPY --from=build /app/apps/api/package.json apps/api/
COPY --from=build /app/apps/worker/package.json apps/worker/
COPY --from=build /app/apps/cli/package.json apps/cli/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/libs/bdv/dist libs/bdv/dist
# our HDF5 filter plugins (optional LZF), found at run time through libs/bdv/package.json
# (by dist/ and by the CLI bundle alike)
COPY --from=build /app/libs/bdv/plugins libs/bdv/plugins
COPY --from=build /app/libs/contract/dist libs/contract/dist
COPY --from=build /app/libs/stacks/dist libs/stacks/dist
COPY --from=build /app/libs/storage/dist libs/storage/dist
COPY --from=build /app/libs/convert/dist libs/convert/dist
COPY --from=build /app/libs/pipeline/dist libs/pipeline/dist
COPY --from=build /app/apps/api/dist apps/api/dist
COPY --from=build /app/apps/worker/dist apps/worker/dist
COPY --from=build /app/apps/cli/dist apps/cli/dist
COPY --from=build /app/apps/cli/bundle apps/cli/bundle
COPY apps/cli/bin apps/cli/bin
COPY docker/entrypoint.mjs docker/healthcheck.mjs docker/
RUN mkdir -p /data/output && chown node:node /data/output
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/docker/entrypoint.mjs"]
CMD ["api"]
