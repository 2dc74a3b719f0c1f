import { assertStackShape } from '../model/pyramid-spec.js';
import { assertTimeIndex, setupIdOf, type SetupCounts, type ViewIndex } from '../model/setup-model.js';
import { resolveViewMetadata, type ViewMetadataInput, type ViewRecord } from '../model/view-metadata.js';

/** A view's indices and metadata as callers give them (npy2bdv's append_view arguments). */
export type ViewDescription = Partial<ViewIndex> & ViewMetadataInput;

/** What the XML will say of one view: its setup id, shape and metadata with npy2bdv's defaults. */
export function describeView(
  setup: SetupCounts,
  view: ViewDescription,
  shapeZyx: readonly number[],
): ViewRecord {
  const index = viewIndexOf(view);
  assertTimeIndex(index.time);
  const setupId = setupIdOf(setup, index);
  // resolveViewMetadata reads only the metadata fields: indices and other keys pass unseen.
  return {
    time: index.time,
    setupId,
    shapeZyx: assertStackShape('shapeZyx', shapeZyx),
    ...resolveViewMetadata(view),
  };
}

export function viewIndexOf(o: Partial<ViewIndex>): ViewIndex {
  return {
    time: o.time ?? 0,
    illumination: o.illumination ?? 0,
    channel: o.channel ?? 0,
    tile: o.tile ?? 0,
    angle: o.angle ?? 0,
  };
}
