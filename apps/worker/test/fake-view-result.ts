import type { ViewTaskResult } from '@bdv-cluster/convert';

/** What a fake view task returns: a one-voxel view, as the writer's glue only passes it on. */
export const fakeViewResult: ViewTaskResult = {
  checksums: [],
  record: {
    time: 0,
    setupId: 0,
    shapeZyx: [1, 1, 1],
    voxelSizeXyz: [1, 1, 1],
    voxelUnits: 'px',
    calibrationXyz: [1, 1, 1],
    affineName: 'x',
    exposureTime: 0,
    exposureUnits: 's',
  },
  bytes: 2,
  seconds: 0.01,
};
