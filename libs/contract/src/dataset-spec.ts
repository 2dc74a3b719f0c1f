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

export const DatasetSpec = z
  .object({
    name: SafeName,
    setup: SetupSpec.default({ illuminations: 1, channels: 1, tiles: 1, angles: 1 }),
    timepoints: z.number().int().min(1).optional(),
    compression: z.enum(['none', 'gzip', 'lzf']).default('none'),
    compressionLevel: z.number().int().min(0).max(9).optional(),
    subsamplingZyx: z
      .array(Zyx)
      .min(1)
      .default([[1, 1, 1]]),
    blockSizeZyx: z
      .array(Zyx)
      .min(1)
      .default([[4, 256, 256]]),
    layout: z.enum(['single', 'partitioned']).default('single'),
    attributeLabels: z
      .object({ illumination: Labels, channel: Labels, tile: Labels, angle: Labels })
      .partial()
      .strict()
      .optional(),
    microscope: z
      .object({ name: z.string(), version: z.string(), user: z.string() })
      .partial()
      .strict()
      .optional(),
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
    microscope: z
      .object({ name: z.string(), version: z.string(), user: z.string() })
      .partial()
      .strict()
      .optional(),
    camera: z.string().min(1).optional(),
  })
  .strict();
export type FinalizeSpec = z.output<typeof FinalizeSpec>;
