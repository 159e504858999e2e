/**
 * S3 backend: `s3://bucket/prefix`.
 *
 * The endpoint comes from `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (path-style
 * addressing is then forced, as local S3 servers need), else AWS; the region from
 * `AWS_REGION` / `AWS_DEFAULT_REGION` (default us-east-1); credentials from the SDK's
 * default chain (environment, shared config/credentials files, ...).
 *
 * An object appears whole or not at all, so a single PUT is atomic; objects above
 * {@link MULTIPART_THRESHOLD} go up in parts through @aws-sdk/lib-storage (the object
 * appears when the upload completes; failed uploads are aborted). After a write a HEAD
 * checks the stored size. Exclusive writes check with HEAD first and send
 * `If-None-Match: *` (honoured by AWS; servers that ignore it, like s3rver, leave a small
 * race window between the HEAD and the PUT).
 */

import { createReadStream } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AlreadyExistsError, NotFoundError, redactSecrets, StorageError } from '../errors.ts';
import {
  type ByteRange,
  checkRelativePath,
  type StorageBackend,
  type StoredFile,
  type WriteOptions,
} from './types.ts';

/** Objects larger than this go up as multipart uploads, bytes (64 MiB). */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
/** Multipart part size, bytes (16 MiB). */
export const MULTIPART_PART_SIZE = 16 * 1024 * 1024;

interface AwsLikeError {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** S3 {@link StorageBackend}. */
export class S3Backend implements StorageBackend {
  readonly kind = 's3' as const;
  readonly root: string;
  readonly bucket: string;
  /** Key prefix ('' or ending in '/'). */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly secrets: string[];
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  /**
   * `url` is `s3://bucket[/prefix]`. `options` change the multipart threshold and part
   * size, bytes (defaults {@link MULTIPART_THRESHOLD}, {@link MULTIPART_PART_SIZE}; S3
   * needs parts of at least 5 MiB).
   */
  constructor(url: string, options: { multipartThreshold?: number; partSize?: number } = {}) {
    this.multipartThreshold = options.multipartThreshold ?? MULTIPART_THRESHOLD;
    this.partSize = Math.max(5 * 1024 * 1024, options.partSize ?? MULTIPART_PART_SIZE);
    const u = new URL(url);
    if (u.protocol !== 's3:' || !u.hostname) {
      throw new StorageError('DATASTORE_BAD_URL', url, `'${url}' is not an s3://bucket/prefix URL`);
    }
    this.bucket = u.hostname;
    const p = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
    this.prefix = p === '' ? '' : `${p}/`;
    this.root = `s3://${this.bucket}/${this.prefix}`;
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
    const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
    this.client = new S3Client(endpoint ? { region, endpoint, forcePathStyle: true } : { region });
    this.secrets = [process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN].filter(
      (s): s is string => typeof s === 'string' && s !== '',
    );
  }

  private key(path: string, allowEmpty = false): string {
    return this.prefix + checkRelativePath(path, this.root, allowEmpty);
  }

  private static status(e: unknown): number | undefined {
    return (e as AwsLikeError | undefined)?.$metadata?.httpStatusCode;
  }

  private static isNotFound(e: unknown): boolean {
    const x = e as AwsLikeError | undefined;
    return x?.name === 'NoSuchKey' || x?.name === 'NotFound' || S3Backend.status(e) === 404;
  }

  /** A StorageError for an SDK failure; the SDK error is summarized, never attached. */
  private fail(op: string, path: string, e: unknown): StorageError {
    if (e instanceof StorageError) return e;
    const uri = this.uri(path);
    if (S3Backend.isNotFound(e)) return new NotFoundError(uri);
    const x = e as AwsLikeError;
    const status = S3Backend.status(e);
    const detail = redactSecrets(`${x?.name ?? 'Error'}: ${x?.message ?? String(e)}`, this.secrets);
    const auth = status === 401 || status === 403;
    const hint = auth
      ? 'check the S3 credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials) and the bucket policy'
      : 'check the endpoint (AWS_ENDPOINT_URL_S3), the bucket and the network';
    return new StorageError(
      auth ? 'DATASTORE_AUTH' : 'DATASTORE_IO',
      uri,
      `cannot ${op} ${uri}: ${detail}${status ? ` (HTTP ${status})` : ''}; ${hint}`,
      status === undefined ? {} : { status },
    );
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    const Key = this.key(path);
    if (range && range.end <= range.start) return new Uint8Array(0);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key,
          ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
        }),
      );
      if (!out.Body) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (e) {
      throw this.fail('read', path, e);
    }
  }

  private async head(path: string): Promise<number | null> {
    try {
      const h = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }),
      );
      return h.ContentLength ?? 0;
    } catch (e) {
      if (S3Backend.isNotFound(e)) return null;
      throw this.fail('stat', path, e);
    }
  }

  /** Uploads `body` (bytes or a local file) to `path`, then verifies the stored size. */
  private async upload(
    path: string,
    body: Uint8Array | { file: string; size: number },
    options: WriteOptions,
  ): Promise<void> {
    const Key = this.key(path);
    const exclusive = !(options.overwrite ?? false);
    if (exclusive && (await this.head(path)) !== null) throw new AlreadyExistsError(this.uri(path));
    const size = body instanceof Uint8Array ? body.length : body.size;
    try {
      if (size <= this.multipartThreshold) {
        // Small files go up from memory: a stream body makes the SDK send aws-chunked
        // encoding with a checksum trailer, which some S3 servers (s3rver) store verbatim.
        const Body = body instanceof Uint8Array ? body : await readFile(body.file);
        const put = (ifNoneMatch: boolean) =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key,
              Body,
              ContentLength: size,
              ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            }),
          );
        try {
          await put(exclusive);
        } catch (e) {
          const status = S3Backend.status(e);
          if (status === 412 || (e as AwsLikeError).name === 'PreconditionFailed') {
            throw new AlreadyExistsError(this.uri(path));
          }
          // Servers without conditional writes may answer 501; the HEAD above stands in.
          const retriable = exclusive && status === 501;
          if (!retriable) throw e;
          await put(false);
        }
      } else {
        const upload = new Upload({
          client: this.client,
          params: {
            Bucket: this.bucket,
            Key,
            Body: body instanceof Uint8Array ? body : createReadStream(body.file),
          },
          partSize: this.partSize,
          queueSize: 4,
          leavePartsOnError: false,
        });
        await upload.done();
      }
    } catch (e) {
      throw this.fail('write', path, e);
    }
    const stored = await this.head(path);
    if (stored !== size) {
      await this.remove(path).catch(() => undefined);
      throw new StorageError(
        'DATASTORE_IO',
        this.uri(path),
        `write of ${this.uri(path)} stored ${stored ?? 'no'} bytes instead of ${size}; the object was removed, try again`,
      );
    }
  }

  async writeAtomic(path: string, bytes: Uint8Array, options: WriteOptions = {}): Promise<void> {
    await this.upload(path, bytes, options);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.head(path)) !== null;
  }

  async size(path: string): Promise<number> {
    const n = await this.head(path);
    if (n === null) throw new NotFoundError(this.uri(path));
    return n;
  }

  async remove(path: string): Promise<boolean> {
    const present = await this.exists(path);
    if (!present) return false;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return true;
    } catch (e) {
      throw this.fail('remove', path, e);
    }
  }

  async list(prefix = ''): Promise<StoredFile[]> {
    const p = checkRelativePath(prefix, this.root, true);
    const Prefix = this.prefix + (p === '' ? '' : `${p}/`);
    const out: StoredFile[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          out.push({
            path: o.Key.slice(this.prefix.length),
            size: o.Size ?? 0,
            mtimeMs: o.LastModified ? o.LastModified.getTime() : null,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.fail('list', prefix, e);
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  async copyFrom(localPath: string, path: string, options: WriteOptions = {}): Promise<void> {
    const st = await stat(localPath);
    await this.upload(path, { file: localPath, size: st.size }, options);
  }

  async moveFrom(localPath: string, path: string, options: WriteOptions = {}): Promise<void> {
    await this.copyFrom(localPath, path, options);
    await unlink(localPath);
  }

  async linkFrom(_localPath: string, path: string): Promise<void> {
    throw new StorageError(
      'DATASTORE_UNSUPPORTED',
      this.uri(path),
      `cannot link into ${this.root}: links exist only on local file systems; ingest with 'copy' or 'move'`,
    );
  }

  uri(path: string): string {
    return `s3://${this.bucket}/${this.key(path, true)}`;
  }

  localPath(): null {
    return null;
  }
}
