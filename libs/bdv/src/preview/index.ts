// Previews of BDV files: maximum projections of views and contact sheets of datasets, as PNGs.
export * from './contrast.js';
export * from './level-choice.js';
export * from './sheet-layout.js';
export { fitInto, type GrayImage16 } from './projection.js';
export { encodeGrayPng, type GrayImage8 } from './png.js';
export {
  projectView,
  projectViewsOfFile,
  type PreviewSource,
  type ProjectOptions,
  type ViewProjection,
} from './view-projection.js';
export {
  viewPreviewPng,
  contactSheetPng,
  type ContrastOptions,
  type PreviewPng,
  type ViewPreviewPng,
  type SheetCell,
  type SheetOptions,
} from './preview-images.js';
export { viewsOfXml, type XmlView } from './xml-views.js';
export {
  ProjectionThread,
  ProjectionThreadStopped,
  ProjectionThreadStuck,
  type ProjectionThreadOptions,
} from './projection-thread.js';
