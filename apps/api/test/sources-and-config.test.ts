import { ConfigError, loadConfig, sourceBucketsOf } from '@bdv-cluster/pipeline';
import { isBucketName, parseSourceFolder, parseSourceUri, unsafeKeyReason } from '@bdv-cluster/storage';
import { describe, expect, it } from 'vitest';

// The rules behind the API's source checks and its start-up checks, as pure functions.

describe('bucket names and object keys', () => {
  it('accepts S3 bucket names only', () => {
    for (const name of ['raw', 'archive-2024', 'a.b-c', '123']) expect(isBucketName(name), name).toBe(true);
    for (const name of [
      'ab',
      'Raw',
      'raw_bucket',
      '-raw',
      'raw-',
      'a..b',
      'a.-b',
      '192.168.0.1',
      'x'.repeat(64),
      '',
    ])
      expect(isBucketName(name), name).toBe(false);
  });

  it('refuses dot segments, empty segments and control characters in keys', () => {
    expect(unsafeKeyReason('a/b/c.npy')).toBeUndefined();
    expect(unsafeKeyReason('prefix/')).toBeUndefined();
    expect(unsafeKeyReason('a..b/c.npy')).toBeUndefined();
    expect(unsafeKeyReason('../output/x')).toMatch(/"\." or "\.\." segment/);
    expect(unsafeKeyReason('a/./x')).toMatch(/"\." or "\.\." segment/);
    expect(unsafeKeyReason('a/..')).toMatch(/"\." or "\.\." segment/);
    expect(unsafeKeyReason('/x')).toMatch(/empty segment/);
    expect(unsafeKeyReason('a//x')).toMatch(/empty segment/);
    expect(unsafeKeyReason('a/\nx')).toMatch(/control characters/);
  });

  it('reads only allowed buckets when the allow-list is given', () => {
    const buckets = ['raw', 'archive'];
    expect(parseSourceUri('s3://archive/a/x.npy', [], buckets)).toMatchObject({
      bucket: 'archive',
      key: 'a/x.npy',
    });
    expect(() => parseSourceUri('s3://output/x.npy', [], buckets)).toThrow(
      /bucket output is not a source bucket/,
    );
    expect(() => parseSourceUri('s3://raw/../output/x.npy', [], buckets)).toThrow(/segment/);
    expect(() => parseSourceUri('s3://raw/', [], buckets)).toThrow(/expected s3:\/\/bucket\/key/);
    expect(() => parseSourceUri('s3://Bad_Name/x', [], buckets)).toThrow(/not a valid bucket name/);
    expect(parseSourceFolder('s3://raw/', [], buckets)).toMatchObject({
      kind: 's3',
      bucket: 'raw',
      prefix: '',
    });
    expect(parseSourceFolder('s3://raw/run1/', [], buckets)).toMatchObject({ prefix: 'run1/' });
    expect(() => parseSourceFolder('s3://output/run1/', [], buckets)).toThrow(/not a source bucket/);
    expect(() => parseSourceFolder('s3://raw//run1/', [], buckets)).toThrow(/empty segment/);
  });

  it('never names the allowed folders in a refusal', () => {
    expect(() => parseSourceUri('file:///etc/passwd', ['/srv/secret-root'])).toThrow(
      /^file:\/\/\/etc\/passwd: outside the allowed folders \(FILE_SOURCE_ROOTS\)$/,
    );
  });
});

describe('configuration of tokens and source buckets', () => {
  const base = { OUTPUT_DIR: '/out' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
  };

  it('splits API_TOKENS on "," only and refuses tokens shorter than 16 characters, without echoing them', () => {
    expect(
      loadConfig({ ...base, API_TOKENS: ' first-token-0123456 , sec:ond-token-0123456 ' }).API_TOKENS,
    ).toEqual(['first-token-0123456', 'sec:ond-token-0123456']);
    const refused = problems({ API_TOKENS: 'long-enough-token-1,tiny' });
    expect(refused).toEqual(['API_TOKENS: every token must be at least 16 characters (comma-separated)']);
    expect(refused.join()).not.toContain('tiny');
    // A colon is no separator: "aaaaaaaa:bbbbbbbb" is one 17-character token, not two short ones.
    expect(loadConfig({ ...base, API_TOKENS: 'aaaaaaaa:bbbbbbbb' }).API_TOKENS).toEqual([
      'aaaaaaaa:bbbbbbbb',
    ]);
  });

  it('takes SOURCE_BUCKETS as valid bucket names; sources may name RAW_BUCKET and those', () => {
    const c = loadConfig({ ...base, RAW_BUCKET: 'raw', SOURCE_BUCKETS: 'archive-2024, raw,scratch' });
    expect(sourceBucketsOf(c)).toEqual(['raw', 'archive-2024', 'scratch']);
    expect(sourceBucketsOf(loadConfig(base))).toEqual(['raw']);
    expect(problems({ SOURCE_BUCKETS: 'ok-bucket,Not_A_Bucket' })).toEqual([
      'SOURCE_BUCKETS: is not a valid S3 bucket name',
    ]);
    expect(problems({ RAW_BUCKET: 'Raw' })).toEqual(['RAW_BUCKET: is not a valid S3 bucket name']);
  });

  it('bounds UPLOAD_MAX_BYTES (256 GiB by default) between 1 MiB and 2 TiB', () => {
    expect(loadConfig(base).UPLOAD_MAX_BYTES).toBe(256 * 2 ** 30);
    expect(loadConfig({ ...base, UPLOAD_MAX_BYTES: '1073741824' }).UPLOAD_MAX_BYTES).toBe(2 ** 30);
    for (const bad of ['1000', String(2 ** 41 + 1), '2097152.5', 'lots'])
      expect(problems({ UPLOAD_MAX_BYTES: bad }), bad).toHaveLength(1);
  });
});
