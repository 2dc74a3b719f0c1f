import {
  COMPRESSION_NAMES,
  DEFAULT_BLOCK_ZYX,
  DEFAULT_SUBSAMPLING_ZYX,
  LAYOUTS,
  MAX_GZIP_LEVEL,
  SINGLE_SETUP,
} from '@bdv-cluster/bdv';
import { z } from 'zod';

/** Names become file names: keep them to a safe alphabet (no path traversal, no spaces). */
export const SafeName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ -')
  .refine((s) => s !== '.' && s !== '..', 'must not be . or ..');

const Count = z.number().int().min(1);
const Factor = z.number().int().min(1);
const Zyx = z.tuple([Factor, Factor, Factor]);

export const SetupSpec = z
  .object({
    illuminations: Count.default(1),
    channels: Count.default(1),
    tiles: Count.default(1),
    angles: Count.default(1),
  })
  .strict();

const Labels = z.array(z.string().min(1).max(128));

/** `generatedBy/microscope` of the XML (npy2bdv's write_xml arguments). */
export const MicroscopeSpec = z
  .object({ name: z.string(), version: z.string(), user: z.string() })
  .partial()
  .strict();

const copy = <T>(value: T): T => structuredClone(value);

export const DatasetSpec = z
  .object({
    name: SafeName,
    setup: SetupSpec.default(copy(SINGLE_SETUP)),
    timepoints: z.number().int().min(1).optional(),
    compression: z.enum(COMPRESSION_NAMES).default('none'),
    compressionLevel: z.number().int().min(0).max(MAX_GZIP_LEVEL).optional(),
    subsamplingZyx: z.array(Zyx).min(1).default(copy(DEFAULT_SUBSAMPLING_ZYX)),
    blockSizeZyx: z.array(Zyx).min(1).default(copy(DEFAULT_BLOCK_ZYX)),
    layout: z.enum(LAYOUTS).default('single'),
    attributeLabels: z
      .object({ illumination: Labels, channel: Labels, tile: Labels, angle: Labels })
      .partial()
      .strict()
      .optional(),
    microscope: MicroscopeSpec.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.compressionLevel !== undefined && d.compression !== 'gzip') {
      ctx.addIssue({
        code: 'custom',
        path: ['compressionLevel'],
        message: 'only applies to compression "gzip"',
      });
    }
    const counts = {
      illumination: d.setup.illuminations,
      channel: d.setup.channels,
      tile: d.setup.tiles,
      angle: d.setup.angles,
    };
    for (const [attribute, labels] of Object.entries(d.attributeLabels ?? {})) {
      const expected = counts[attribute as keyof typeof counts];
      if (labels && labels.length !== expected) {
        ctx.addIssue({
          code: 'custom',
          path: ['attributeLabels', attribute],
          message: `needs ${expected} labels, got ${labels.length}`,
        });
      }
    }
  });

export type DatasetSpecInput = z.input<typeof DatasetSpec>;
export type DatasetSpec = z.output<typeof DatasetSpec>;

/** POST /v1/datasets/:id/finalize */
export const FinalizeSpec = z
  .object({
    timepoints: z.number().int().min(1).optional(),
    microscope: MicroscopeSpec.optional(),
    camera: z.string().min(1).optional(),
  })
  .strict();
export type FinalizeSpec = z.output<typeof FinalizeSpec>;
