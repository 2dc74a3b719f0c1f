import { autoPyramidFields, pyramidFor } from '@bdv-cluster/contract';
import type { ViewStatePort } from '../ports.js';
import type { DatasetRecord, ViewEntry } from '../state-model.js';

/**
 * Where "auto" is resolved in the cluster: by the writer of the dataset's first view to start,
 * before anything is written — from that view's shape (its header, read by the writer) and voxel
 * size, with BigDataViewer's rule (libs/bdv proposeMipmaps). The choice is stored in the dataset's
 * spec (what GET shows from then on, with `pyramid` saying from which view) in one atomic step
 * that only the first writer wins: every view of a dataset shares its levels, so a second writer
 * that chose at the same moment takes the stored choice instead.
 */
export class ChoosePyramid {
  constructor(private readonly store: Pick<ViewStatePort, 'choosePyramid' | 'getDataset'>) {}

  /** The dataset with its pyramid chosen (unchanged when it had none to choose). */
  async execute(
    dataset: DatasetRecord,
    view: ViewEntry,
    shapeZyx: readonly number[],
  ): Promise<DatasetRecord> {
    const auto = autoPyramidFields(dataset.spec);
    if (auto.length === 0) return dataset;
    const voxelSizeXyz = view.spec.voxelSizeXyz ?? [1, 1, 1];
    const { subsamplingZyx, blockSizeZyx } = pyramidFor(dataset.spec, shapeZyx, voxelSizeXyz);
    await this.store.choosePyramid(
      dataset.id,
      { ...dataset.spec, subsamplingZyx, blockSizeZyx },
      {
        auto,
        fromView: view.viewKey,
        shapeZyx: [...shapeZyx],
        voxelSizeXyz,
        chosenAt: new Date().toISOString(),
      },
    );
    return (await this.store.getDataset(dataset.id)) ?? dataset;
  }
}
