import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter: the one with python3-h5py (a python3 earlier on PATH may lack it). */
export const PYTHON = process.env.BDV_TEST_PYTHON ?? '/usr/bin/python3';
const ORACLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'oracle');

function python(script: string, args: string[]): string {
  return execFileSync(PYTHON, [join(ORACLE_DIR, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
}

export interface StackFixture {
  path: string;
  shape: number[];
  seed?: number;
  format?: 'npy' | 'raw' | 'tiff';
  dtype?: string;
  fortran?: boolean;
  compression?: string;
  npy_version?: [number, number];
}

/** Writes input stacks with numpy / tifffile. */
export function makeStacks(dir: string, items: StackFixture[]): void {
  const spec = join(dir, `stacks-${Date.now()}-${Math.random()}.json`);
  writeFileSync(spec, JSON.stringify(items));
  python('make_stacks.py', [spec]);
}

export interface DatasetInfo {
  dtype: string;
  shape: number[];
  chunks: number[] | null;
  compression: string | null;
  compression_opts: number | null;
  maxshape: number[];
  external?: string;
}

export interface XmlNode {
  tag: string;
  attrib: Record<string, string>;
  text: string;
  children: XmlNode[];
}

export interface Description {
  h5: {
    datasets: Record<string, DatasetInfo>;
    values: Record<string, number[][]>;
    attrs: Record<string, string[]>;
  };
  xml?: XmlNode;
}

/** The h5 structure as h5py sees it, and the XML as ElementTree parses it. */
export function describeBdv(h5: string, xml?: string): Description {
  return JSON.parse(python('bdv_oracle.py', ['describe', h5, ...(xml ? [xml] : [])])) as Description;
}

export interface ComparedView {
  time: number;
  setup: number;
  levels: { level: number; dtype: string; shape: number[]; expected_shape: number[]; mismatches: number }[];
}

/** Recomputes every level from the raw inputs with numpy and counts differing pixels. */
export function comparePixels(spec: {
  h5: string;
  subsampling_zyx: number[][];
  views: (
    | { time: number; setup: number; npy: string }
    | { time: number; setup: number; raw: { path: string; shape: number[]; dtype: string } }
  )[];
}): ComparedView[] {
  const file = join(dirname(spec.h5), `compare-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return (JSON.parse(python('bdv_oracle.py', ['compare', file])) as { views: ComparedView[] }).views;
}

export function tempDir(prefix = 'bdv-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Helpers over the parsed XML. */
export function child(node: XmlNode, tag: string): XmlNode {
  const found = node.children.find((c) => c.tag === tag);
  if (!found) throw new Error(`<${node.tag}> has no <${tag}>`);
  return found;
}

export function children(node: XmlNode, tag: string): XmlNode[] {
  return node.children.filter((c) => c.tag === tag);
}

export function numbers(text: string): number[] {
  return text.split(/\s+/).filter(Boolean).map(Number);
}
