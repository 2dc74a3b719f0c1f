import { readOptionsOf, viewKeyOf, type ViewSpec } from '@bdv-cluster/contract';
import { openStackFile, type OpenStackOptions } from '@bdv-cluster/stacks';
import { localPathOf } from './local-source.js';

/** A view whose input header was read and checked: it will convert, or nothing is written. */
export interface PlannedView {
  spec: ViewSpec;
  key: string;
  path: string;
  options: OpenStackOptions;
  bytes: number;
  shapeZyx: number[];
}

/** Opens every input once to check its header against its declaration (shape, dtype, size). */
export async function planViews(views: readonly ViewSpec[], baseDir: string): Promise<PlannedView[]> {
  const planned: PlannedView[] = [];
  for (const [i, spec] of views.entries()) {
    const path = localPathOf(spec.source.uri, baseDir, `views[${i}].source.uri`);
    const options = readOptionsOf(spec.source);
    const reader = await openStackFile(path, options);
    planned.push({
      spec,
      key: viewKeyOf(spec),
      path,
      options,
      bytes: reader.dataBytes,
      shapeZyx: [...reader.shapeZyx],
    });
    await reader.close();
  }
  return planned;
}
