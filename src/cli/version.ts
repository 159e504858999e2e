import { readFileSync } from 'node:fs';

/** The package version from package.json (src/cli -> ../../, dist/src/cli -> ../../../). */
export function packageVersion(): string {
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      const j = JSON.parse(readFileSync(new URL(p, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (j.name === 'gpu-drp' && j.version) return j.version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0-unknown';
}
