/**
 * Registry URLs:
 * - SQLite: `sqlite:/abs/path.sqlite3`, `sqlite:///abs/path.sqlite3`, `sqlite:relative.db`,
 *   `sqlite::memory:` (in memory), or a plain path ending in `.sqlite3`, `.sqlite` or `.db`;
 * - PostgreSQL: `postgres://user[:password]@host[:port]/db[?options]` (also `postgresql://`).
 *   Credentials come only from the URL or from libpq's environment (`PGUSER`, `PGPASSWORD`,
 *   `PGHOST`, ...) and `~/.pgpass`, which `pg` reads. Never log a URL without
 *   {@link redactUrl}.
 */

import { RegistryUrlError } from './errors.ts';

/** Where a registry lives. */
export type RegistryLocation =
  | { readonly kind: 'sqlite'; readonly path: string; readonly memory: boolean }
  | { readonly kind: 'postgres'; readonly url: string };

/**
 * Parses a registry URL or path.
 *
 * @throws RegistryUrlError for anything else (the message shows the redacted URL).
 */
export function parseRegistryUrl(url: string): RegistryLocation {
  const u = url.trim();
  if (u.length === 0) throw new RegistryUrlError('empty registry URL; give a path or a URL');
  if (/^postgres(ql)?:\/\//i.test(u)) {
    try {
      new URL(u);
    } catch {
      throw new RegistryUrlError(
        `malformed PostgreSQL URL ${redactUrl(u)}; use postgres://user@host:port/db`,
      );
    }
    return { kind: 'postgres', url: u };
  }
  if (/^sqlite:/i.test(u)) {
    let rest = u.slice('sqlite:'.length);
    if (rest === ':memory:' || rest === '//:memory:')
      return { kind: 'sqlite', path: ':memory:', memory: true };
    if (rest.startsWith('//')) rest = rest.slice(2);
    if (rest.length === 0)
      throw new RegistryUrlError(
        `SQLite URL ${u} names no file; use sqlite:/path/to/registry.sqlite3`,
      );
    return { kind: 'sqlite', path: decodeURIComponent(rest), memory: false };
  }
  if (/^file:\/\//i.test(u)) {
    const path = decodeURIComponent(new URL(u).pathname);
    if (/\.(sqlite3|sqlite|db)$/i.test(path)) return { kind: 'sqlite', path, memory: false };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u) && /\.(sqlite3|sqlite|db)$/i.test(u)) {
    return { kind: 'sqlite', path: u, memory: false };
  }
  throw new RegistryUrlError(
    `cannot tell the database of ${redactUrl(u)}; use sqlite:/path/to/gpu_drp.sqlite3, a path ending in ` +
      '.sqlite3/.sqlite/.db, sqlite::memory:, or postgres://user@host:port/db',
  );
}

/**
 * The URL with any password replaced by `***` (userinfo `user:password@` and `password=`
 * query parameters). Safe to print.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}
