import { ViewTaskError } from '@bdv-cluster/convert';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outputDirProblem, prepareOutputFolder } from '../src/outage/output-folder.js';
import { tempDir } from '../../../test/support/oracle.js';

// Where a writer agrees to write a dataset, on real folders and symbolic links.

const dir = tempDir('bdv-output-folder-');
afterAll(() => dir.remove());

/** A fresh OUTPUT_DIR (and a folder beside it), as a writer's volume. */
function volume(name: string): { out: string; beside: string } {
  const out = join(dir.path, name, 'output');
  const beside = join(dir.path, name, 'elsewhere');
  mkdirSync(out, { recursive: true });
  mkdirSync(beside, { recursive: true });
  return { out, beside };
}

function refusal(outputDir: string, h5: string): ViewTaskError {
  try {
    prepareOutputFolder(outputDir, h5);
  } catch (error) {
    expect(error).toBeInstanceOf(ViewTaskError);
    return error as ViewTaskError;
  }
  throw new Error(`${h5} was accepted`);
}

describe('prepareOutputFolder', () => {
  it("creates the dataset's own folder under OUTPUT_DIR, and takes one that is there", () => {
    const { out } = volume('creates');
    prepareOutputFolder(out, join(out, 'run1', 'run1.h5'));
    expect(readdirSync(out)).toEqual(['run1']);
    prepareOutputFolder(out, join(out, 'run1', 'run1.h5'));
    prepareOutputFolder(`${out}/`, join(out, 'run1', 'run1.h5'));
  });

  it('refuses for good a dataset outside OUTPUT_DIR, naming both paths, and creates nothing', () => {
    const { out, beside } = volume('outside');
    const h5 = join(beside, 'run1', 'run1.h5');
    const e = refusal(out, h5);
    expect(e.kind).toBe('permanent');
    expect(e.message).toContain(h5);
    expect(e.message).toContain(out);
    expect(e.message).toMatch(/the API and every writer must mount the output volume at the same path/);
    expect(readdirSync(beside)).toEqual([]);
    // a path the API's OUTPUT_DIR would give on another mount point, missing here altogether
    expect(refusal(out, '/data/output-of-the-api/run1/run1.h5').kind).toBe('permanent');
    expect(existsSync('/data/output-of-the-api')).toBe(false);
  });

  it('compares real paths: no way out through "..", a name that starts with "..", or a symbolic link', () => {
    const { out, beside } = volume('tricks');
    expect(refusal(out, `${out}/../elsewhere/run1/run1.h5`).kind).toBe('permanent');
    symlinkSync(beside, join(out, 'link'));
    expect(refusal(out, join(out, 'link', 'run1.h5')).kind).toBe('permanent');
    expect(refusal(out, join(out, 'link', 'run1', 'run1.h5')).kind).toBe('permanent');
    expect(readdirSync(beside)).toEqual([]);
    prepareOutputFolder(out, join(out, '..run1', '..run1.h5'));
    expect(existsSync(join(out, '..run1'))).toBe(true);
  });

  it('takes a dataset whose path names the same folder another way (OUTPUT_DIR a symbolic link)', () => {
    const { out } = volume('linked');
    const link = join(dir.path, 'linked', 'mounted-here');
    symlinkSync(out, link);
    prepareOutputFolder(link, join(out, 'run1', 'run1.h5'));
    prepareOutputFolder(out, join(link, 'run2', 'run2.h5'));
    expect(readdirSync(out).sort()).toEqual(['run1', 'run2']);
  });

  it('does not create a missing OUTPUT_DIR: the view waits, saying the volume may not be mounted', () => {
    const missing = join(dir.path, 'unmounted', 'output');
    expect(outputDirProblem(missing)).toBe(`output folder ${missing} missing: is the volume mounted?`);
    const e = refusal(missing, join(missing, 'run1', 'run1.h5'));
    expect(e.kind).toBe('outage');
    expect(e.message).toBe(`output folder ${missing} missing: is the volume mounted?`);
    expect(existsSync(join(dir.path, 'unmounted'))).toBe(false);
  });
});
