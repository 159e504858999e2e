/**
 * Local file-system backend (a plain path or a `file:///` URL).
 *
 * Atomic exclusive writes: the bytes go to `<path>.tmp-<uuid>` in the target directory,
 * are fsynced, and are hard-linked to the final name (link(2) fails if the name exists,
 * so two writers can never overwrite each other), then the temporary name is unlinked and
 * the directory fsynced. On file systems without hard links the temporary file is renamed
 * after an existence check. Overwriting writes use rename(2).
 */

import { constants as fsc } from 'node:fs';
import {
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AlreadyExistsError, DatastoreError, NotFoundError, StorageError } from '../errors.ts';
import {
  type ByteRange,
  checkRelativePath,
  type StorageBackend,
  type StoredFile,
  tempName,
  type WriteOptions,
} from './types.ts';

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Local-disk {@link StorageBackend} rooted at an absolute directory. */
export class LocalBackend implements StorageBackend {
  readonly kind = 'file' as const;
  readonly root: string;
  /** Absolute root directory. */
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
    this.root = pathToFileURL(this.rootDir).toString();
  }

  private full(path: string, allowEmpty = false): string {
    const p = checkRelativePath(path, this.root, allowEmpty);
    return p === '' ? this.rootDir : join(this.rootDir, ...p.split('/'));
  }

  private fail(op: string, path: string, e: unknown): StorageError {
    const code = errno(e);
    if (code === 'ENOENT') return new NotFoundError(this.uri(path));
    const hint =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'check the permissions of the datastore directory'
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? 'free disk space or raise the quota'
          : 'check the datastore directory';
    return new StorageError(
      'DATASTORE_IO',
      this.uri(path),
      `cannot ${op} ${this.uri(path)}: ${(e as Error).message}; ${hint}`,
      { cause: e },
    );
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    const f = this.full(path);
    try {
      if (!range) {
        const b = await readFile(f);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // a view, not a copy
      }
      const fh = await open(f, 'r');
      try {
        const n = Math.max(0, range.end - range.start);
        const buf = new Uint8Array(n);
        let got = 0;
        while (got < n) {
          const { bytesRead } = await fh.read(buf, got, n - got, range.start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === n ? buf : buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw this.fail('read', path, e);
    }
  }

  /** Writes `bytes` to a fresh temporary file next to `f` and fsyncs it; returns its name. */
  private async writeTemp(f: string, bytes: Uint8Array): Promise<string> {
    await mkdir(dirname(f), { recursive: true });
    const tmp = tempName(f);
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    return tmp;
  }

  /** Puts the complete temporary file `tmp` at `f` (exclusive unless `overwrite`). */
  private async commit(tmp: string, f: string, path: string, overwrite: boolean): Promise<void> {
    try {
      if (overwrite) {
        await rename(tmp, f);
      } else {
        try {
          await link(tmp, f);
        } catch (e) {
          const c = errno(e);
          if (c === 'EEXIST') throw new AlreadyExistsError(this.uri(path));
          if (c !== 'EPERM' && c !== 'ENOTSUP' && c !== 'EOPNOTSUPP' && c !== 'ENOSYS') throw e;
          // No hard links here: check, then rename (a tiny race window remains).
          if (await this.exists(path)) throw new AlreadyExistsError(this.uri(path));
          await rename(tmp, f);
        }
      }
      await syncDir(dirname(f));
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async writeAtomic(path: string, bytes: Uint8Array, options: WriteOptions = {}): Promise<void> {
    const f = this.full(path);
    try {
      const tmp = await this.writeTemp(f, bytes);
      await this.commit(tmp, f, path, options.overwrite ?? false);
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw this.fail('write', path, e);
    }
  }

  /**
   * Like {@link writeAtomic}, but `produce` writes the (complete, fsynced) temporary file
   * itself; returns the file's size, bytes.
   */
  async writeAtomicWith(
    path: string,
    produce: (tempPath: string) => Promise<void>,
    options: WriteOptions = {},
  ): Promise<number> {
    const f = this.full(path);
    const tmp = tempName(f);
    try {
      await mkdir(dirname(f), { recursive: true });
      try {
        await produce(tmp);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      const size = (await stat(tmp)).size;
      await this.commit(tmp, f, path, options.overwrite ?? false);
      return size;
    } catch (e) {
      if (e instanceof DatastoreError || errno(e) === undefined) throw e;
      throw this.fail('write', path, e);
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      return (await stat(this.full(path))).isFile();
    } catch (e) {
      if (e instanceof StorageError) throw e;
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return false;
      throw this.fail('stat', path, e);
    }
  }

  async size(path: string): Promise<number> {
    try {
      return (await stat(this.full(path))).size;
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw this.fail('stat', path, e);
    }
  }

  async remove(path: string): Promise<boolean> {
    try {
      await unlink(this.full(path));
      return true;
    } catch (e) {
      if (e instanceof StorageError) throw e;
      if (errno(e) === 'ENOENT') return false;
      throw this.fail('remove', path, e);
    }
  }

  async list(prefix = ''): Promise<StoredFile[]> {
    const start = this.full(prefix, true);
    const out: StoredFile[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
        throw this.fail('list', prefix, e);
      }
      for (const ent of entries) {
        const full = join(dir, ent.name);
        if (ent.isDirectory()) {
          await walk(full);
          continue;
        }
        if (!ent.isFile() && !ent.isSymbolicLink()) continue;
        let st: import('node:fs').Stats;
        try {
          st = await stat(full);
        } catch {
          st = await lstat(full); // a dangling symlink still shows up (as a leftover)
        }
        const rel = full
          .slice(this.rootDir.length + 1)
          .split(sep)
          .join('/');
        out.push({ path: rel, size: st.size, mtimeMs: st.mtimeMs });
      }
    };
    await walk(start);
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  async copyFrom(localPath: string, path: string, options: WriteOptions = {}): Promise<void> {
    const f = this.full(path);
    try {
      await mkdir(dirname(f), { recursive: true });
      const tmp = tempName(f);
      try {
        await copyFile(localPath, tmp, fsc.COPYFILE_EXCL);
        const fh = await open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      await this.commit(tmp, f, path, options.overwrite ?? false);
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw this.fail('copy a file to', path, e);
    }
  }

  async moveFrom(localPath: string, path: string, options: WriteOptions = {}): Promise<void> {
    const f = this.full(path);
    try {
      await mkdir(dirname(f), { recursive: true });
      const tmp = tempName(f);
      try {
        await rename(localPath, tmp);
      } catch (e) {
        if (errno(e) !== 'EXDEV') throw e;
        // Another file system: copy, then delete the source once the copy is in place.
        await this.copyFrom(localPath, path, options);
        await unlink(localPath);
        return;
      }
      try {
        await this.commit(tmp, f, path, options.overwrite ?? false);
      } catch (e) {
        // Give the file back to where it came from rather than losing it.
        await rename(tmp, localPath).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw this.fail('move a file to', path, e);
    }
  }

  async linkFrom(localPath: string, path: string): Promise<void> {
    const f = this.full(path);
    try {
      await mkdir(dirname(f), { recursive: true });
      try {
        await link(localPath, f);
      } catch (e) {
        const c = errno(e);
        if (c === 'EEXIST') throw new AlreadyExistsError(this.uri(path));
        if (c !== 'EXDEV' && c !== 'EPERM' && c !== 'ENOTSUP' && c !== 'EOPNOTSUPP') throw e;
        await symlink(resolve(localPath), f).catch((e2: unknown) => {
          if (errno(e2) === 'EEXIST') throw new AlreadyExistsError(this.uri(path));
          throw e2;
        });
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw this.fail('link a file to', path, e);
    }
  }

  uri(path: string): string {
    return pathToFileURL(this.full(path, true)).toString();
  }

  localPath(path: string): string {
    return this.full(path);
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: import('node:fs/promises').FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the file itself is synced.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
