import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestInput, ViewSpecInput } from '@bdv-cluster/contract';
import type { Zyx } from '@bdv-cluster/bdv';
import { writeNpy } from '@bdv-cluster/stacks';

export interface SyntheticAcquisition {
  rawDir: string;
  manifestPath: string;
  manifest: ManifestInput;
}

export interface SyntheticOptions {
  timepoints?: number;
  channels?: number;
  tiles?: number;
  shapeZyx?: Zyx;
  overlapX?: number;
  seed?: number;
}

/** A small deterministic PRNG so the demo data is the same on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Bead {
  z: number;
  y: number;
  x: number;
  brightness: number;
  channel: number;
}

/**
 * A light-sheet-like acquisition: fluorescent beads in a shared world, seen by tiles that overlap
 * in x (so stitching has something to find), drifting a little between timepoints, with camera
 * offset and noise. Writes one .npy per view plus the manifest that converts them.
 */
export async function makeSyntheticAcquisition(
  dir: string,
  o: SyntheticOptions = {},
): Promise<SyntheticAcquisition> {
  const timepoints = o.timepoints ?? 2;
  const channels = o.channels ?? 2;
  const tiles = o.tiles ?? 2;
  const shape = o.shapeZyx ?? [48, 256, 256];
  const overlap = o.overlapX ?? 32;
  const beads = scatterBeads(shape, tiles * shape[2] - (tiles - 1) * overlap, o.seed ?? 2026);
  const viewX0 = (tile: number) => tile * (shape[2] - overlap);
  const rawDir = join(dir, 'raw');
  const indices: { time: number; channel: number; tile: number; file: string }[] = [];
  for (let time = 0; time < timepoints; time++)
    for (let channel = 0; channel < channels; channel++)
      for (let tile = 0; tile < tiles; tile++)
        indices.push({ time, channel, tile, file: `t${time}_c${channel}_s${tile}.npy` });
  const views: ViewSpecInput[] = indices.map(({ time, channel, tile, file }) => ({
    time,
    channel,
    tile,
    source: { uri: `raw/${file}` },
    ...demoViewMetadata(viewX0(tile)),
  }));
  // The manifest comes first: it is what marks the folder as a demo's (`bdv demo --overwrite`
  // replaces only such a folder), so a demo stopped while rendering can still be replaced.
  const manifest: ManifestInput = { dataset: demoDataset(channels, tiles), views };
  const manifestPath = join(dir, 'manifest.json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(rawDir, { recursive: true });
  for (const { time, channel, tile, file } of indices) {
    const stack = renderView(shape, beads, {
      x0: viewX0(tile),
      drift: time * 1.5,
      channel: channel % 2,
      noise: mulberry32(1000 * time + 10 * channel + tile),
    });
    await writeNpy(join(rawDir, file), shape, [stack]);
  }
  return { rawDir, manifestPath, manifest };
}

/** Beads at random places of a world `worldX` wide, half in each of two channels. */
function scatterBeads(shape: Zyx, worldX: number, seed: number): Bead[] {
  const [nz, ny] = shape;
  const random = mulberry32(seed);
  return Array.from({ length: Math.round((nz * ny * worldX) / 6000) }, () => ({
    z: random() * nz,
    y: random() * ny,
    x: random() * worldX,
    brightness: 800 + random() * 20000,
    channel: random() < 0.5 ? 0 : 1,
  }));
}

/** What a light-sheet microscope would record of a tile starting at x0: anisotropic voxels. */
function demoViewMetadata(x0: number): Omit<ViewSpecInput, 'source'> {
  return {
    voxelSizeXyz: [0.65, 0.65, 2],
    voxelUnits: 'um',
    calibrationXyz: [1, 1, 2 / 0.65],
    affine: [1, 0, 0, x0, 0, 1, 0, 0, 0, 0, 1, 0],
    affineName: 'tile position',
    exposureTime: 20,
    exposureUnits: 'ms',
    cameraName: 'demo sCMOS',
  };
}

function demoDataset(channels: number, tiles: number): ManifestInput['dataset'] {
  return {
    name: 'demo',
    setup: { channels, tiles },
    compression: 'gzip',
    subsamplingZyx: [
      [1, 1, 1],
      [2, 2, 2],
      [4, 4, 4],
    ],
    blockSizeZyx: [[4, 64, 64]],
    attributeLabels: { channel: ['488', '561', '640', '405'].slice(0, channels) },
    microscope: { name: 'bdv-cluster demo', version: '1.0', user: 'demo' },
  };
}

function renderView(
  shape: Zyx,
  beads: Bead[],
  o: { x0: number; drift: number; channel: number; noise: () => number },
): Uint16Array {
  const [nz, ny, nx] = shape;
  const volume = new Float32Array(nz * ny * nx);
  const radius = 3;
  for (const b of beads) {
    if (b.channel !== o.channel) continue;
    const bx = b.x - o.x0 + o.drift;
    if (bx < -radius || bx > nx + radius) continue;
    for (let z = Math.max(0, Math.floor(b.z - radius)); z <= Math.min(nz - 1, Math.ceil(b.z + radius)); z++) {
      for (
        let y = Math.max(0, Math.floor(b.y - radius));
        y <= Math.min(ny - 1, Math.ceil(b.y + radius));
        y++
      ) {
        for (
          let x = Math.max(0, Math.floor(bx - radius));
          x <= Math.min(nx - 1, Math.ceil(bx + radius));
          x++
        ) {
          const d2 = (x - bx) ** 2 + (y - b.y) ** 2 + ((z - b.z) * 0.6) ** 2;
          volume[(z * ny + y) * nx + x]! += b.brightness * Math.exp(-d2 / 2.5);
        }
      }
    }
  }
  const out = new Uint16Array(volume.length);
  for (let i = 0; i < volume.length; i++)
    out[i] = Math.min(65535, Math.round(100 + volume[i]! + o.noise() * 20));
  return out;
}
