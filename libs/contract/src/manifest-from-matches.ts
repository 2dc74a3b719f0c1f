import type { ViewIndices } from './filename-pattern.js';
import { inferLayout } from './filename-pattern.js';
import type { ManifestInput } from './manifest.js';
import type { SourceOptions } from './view-spec.js';

/** One input found by a file-name pattern: where it is and which view its name says it is. */
export interface PatternMatch {
  uri: string;
  indices: ViewIndices;
}

export interface ManifestParts {
  /** A dataset body whose setup counts and timepoints may be left out: they are inferred. */
  dataset: Record<string, unknown>;
  /** Metadata every view shares (voxel size, calibration, camera...). */
  viewDefaults?: Record<string, unknown>;
  /** Source layout every view shares (format, raw shape...). */
  sourceOptions?: SourceOptions;
}

/**
 * Files matched by a pattern → a manifest (the quick form of `bdv convert` and `POST /v1/batches`
 * alike): counts and timepoints inferred as highest index + 1 unless given, so gaps become
 * MissingViews. The result is still to be validated with `Manifest`.
 */
export function manifestFromMatches(matches: readonly PatternMatch[], parts: ManifestParts): ManifestInput {
  const inferred = inferLayout(matches.map((m) => m.indices));
  const given = parts.dataset as { setup?: Record<string, number>; timepoints?: number };
  return {
    dataset: {
      ...parts.dataset,
      setup: { ...inferred.setup, ...given.setup },
      timepoints: given.timepoints ?? inferred.timepoints,
    } as ManifestInput['dataset'],
    views: matches.map((m) => ({
      ...parts.viewDefaults,
      ...m.indices,
      source: { uri: m.uri, ...parts.sourceOptions },
    })),
  };
}
