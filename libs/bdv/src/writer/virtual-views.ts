import { BdvError } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import type { LevelChecksum } from '../model/checksums.js';
import type { Zyx } from '../model/pyramid-spec.js';
import type { ViewRecord } from '../model/view-metadata.js';
import { checksumOfLevel } from '../verify/level-reader.js';
import type { BdvFormat } from './bdv-format.js';
import { DatasetFile } from './dataset-file.js';
import { planeAtLevels, substackAtLevels, type LevelBlock } from './virtual-view.js';

/**
 * Views of a single-layout file whose planes arrive one by one (npy2bdv's virtual stacks). They
 * share one open append of the file — one journaled transaction — committed by `commit`, after
 * which their levels are read back for their checksums (planes come in any order).
 */
export class VirtualViews {
  private file?: DatasetFile;
  private readonly views = new Map<string, ViewRecord>();

  constructor(
    private readonly h5Path: string,
    private readonly format: BdvFormat,
  ) {}

  async begin(record: ViewRecord): Promise<void> {
    this.file ??= await DatasetFile.openForAppend(this.h5Path, this.format);
    this.file.createEmptyView(record);
    this.views.set(`${record.time}:${record.setupId}`, record);
  }

  plane(key: string, plane: Uint16Array, z: number): void {
    const record = this.view(key);
    this.write(record, planeAtLevels(plane, z, record.shapeZyx, this.format.levels));
  }

  substack(key: string, substack: Uint16Array, shape: Zyx, startZyx: readonly number[]): void {
    const record = this.view(key);
    this.write(record, substackAtLevels(substack, shape, startZyx, record.shapeZyx, this.format.levels));
  }

  /** Commits the open append (if any); returns each committed view with its checksums. */
  async commit(): Promise<{ record: ViewRecord; sums: LevelChecksum[] }[]> {
    if (!this.file) return [];
    this.file.close();
    this.file = undefined;
    const committed = [...this.views.values()];
    this.views.clear();
    const reader = await BdvH5File.openForReading(this.h5Path);
    try {
      return committed.map((record) => ({
        record,
        sums: this.format.levels.map((_, level) =>
          checksumOfLevel(reader, record.time, record.setupId, level)!,
        ),
      }));
    } finally {
      reader.close();
    }
  }

  private view(key: string): ViewRecord {
    const record = this.views.get(key);
    if (!record || !this.file)
      throw new BdvError('STATE', 'call beginVirtualView for this view first', 'view');
    return record;
  }

  private write(record: ViewRecord, blocks: LevelBlock[]): void {
    for (const b of blocks) this.file!.writeBlock(record, b.level, b.offsetZyx, b.countZyx, b.data);
  }
}
