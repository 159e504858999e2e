/**
 * Credentials for HTTP(S)/WebDAV storage: `GPU_DRP_WEBDAV_USER` /
 * `GPU_DRP_WEBDAV_PASSWORD`, else the `~/.netrc` entry of the host (`$NETRC` names
 * another file), else user:password in the URL itself. Credentials are kept out of every
 * URI and message (see errors.ts).
 */

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A user name and password for HTTP Basic authentication. */
export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * The login and password for `host` in a .netrc text (`machine HOST login U password P`,
 * or the `default` entry), or null. Tokens are whitespace separated; `macdef` bodies are
 * skipped.
 */
export function parseNetrc(text: string, host: string): BasicCredentials | null {
  const tokens = text.split(/\s+/).filter((t) => t !== '');
  let current: { machine: string | null; login?: string; password?: string } | null = null;
  const entries: Array<{ machine: string | null; login?: string; password?: string }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'machine') {
      current = { machine: tokens[++i] ?? '' };
      entries.push(current);
    } else if (t === 'default') {
      current = { machine: null };
      entries.push(current);
    } else if (t === 'login' && current) {
      current.login = tokens[++i] ?? '';
    } else if (t === 'password' && current) {
      current.password = tokens[++i] ?? '';
    } else if (t === 'account') {
      i++;
    } else if (t === 'macdef') {
      // A macro runs to the next blank line; tokens lost that information, so stop here.
      break;
    }
  }
  const match =
    entries.find((e) => e.machine !== null && e.machine.toLowerCase() === host.toLowerCase()) ??
    entries.find((e) => e.machine === null);
  if (!match || match.login === undefined || match.password === undefined) return null;
  return { user: match.login, password: match.password };
}

/** Credentials for `url` (see the module comment), or null for anonymous access. */
export function webdavCredentials(url: URL): BasicCredentials | null {
  const user = process.env.GPU_DRP_WEBDAV_USER;
  const password = process.env.GPU_DRP_WEBDAV_PASSWORD;
  if (user && password !== undefined) return { user, password };
  const netrcPath = process.env.NETRC || join(homedir(), '.netrc');
  try {
    const found = parseNetrc(readFileSync(netrcPath, 'utf8'), url.hostname);
    if (found) return found;
  } catch {
    // no .netrc
  }
  if (url.username) {
    return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  }
  return null;
}
