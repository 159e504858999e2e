/**
 * Formatters by storage class, and the registry that picks one for a dataset (on write)
 * or by its recorded name (on read).
 */

import type { DatasetType } from '../../refs.ts';
import { FormatterError } from '../errors.ts';
import { bytesFormatter } from './bytes.ts';
import { parquetCatalogFormatter } from './catalog.ts';
import { exposureFitsFormatter } from './exposure.ts';
import { skyMapJsonFormatter } from './skymap.ts';
import { jsonFormatter, yamlFormatter } from './structured.ts';
import type { Formatter } from './types.ts';

export { bytesFormatter } from './bytes.ts';
export { parquetCatalogFormatter, parquetToCatalog } from './catalog.ts';
export { EXPOSURE_RECIPES, exposureFitsFormatter } from './exposure.ts';
export { type StoredSkyMap, skyMapJsonFormatter } from './skymap.ts';
export {
  jsonFormatter,
  type StructuredData,
  structuredDataProblem,
  yamlFormatter,
} from './structured.ts';
export type { Formatter, ReadParameters } from './types.ts';

/** Every built-in formatter. */
export const BUILTIN_FORMATTERS: readonly Formatter[] = [
  exposureFitsFormatter as Formatter,
  parquetCatalogFormatter as Formatter,
  jsonFormatter as Formatter,
  yamlFormatter as Formatter,
  skyMapJsonFormatter as Formatter,
  bytesFormatter as Formatter,
];

/**
 * Default formatter name per storage class (LSST's `formatters.yaml` choices). Storage
 * classes not listed use {@link bytesFormatter}.
 */
export const DEFAULT_FORMATTERS: Readonly<Record<string, string>> = {
  ExposureF: exposureFitsFormatter.name,
  SourceCatalog: parquetCatalogFormatter.name,
  ArrowAstropy: parquetCatalogFormatter.name,
  StructuredDataDict: jsonFormatter.name,
  Config: jsonFormatter.name,
  TaskMetadata: jsonFormatter.name,
  Packages: jsonFormatter.name,
  SkyMap: skyMapJsonFormatter.name,
  Bytes: bytesFormatter.name,
};

/** Formatters that read the same objects as another (so either may serve a storage class). */
const INTERCHANGEABLE: ReadonlyArray<readonly string[]> = [
  [jsonFormatter.name, yamlFormatter.name],
];

/** Options of {@link FormatterRegistry}. */
export interface FormatterRegistryOptions {
  /**
   * Formatter name per dataset type name or storage class (dataset type wins), e.g.
   * `{ Config: 'YamlFormatter' }` to write configs as YAML.
   */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Extra formatters (their names must not clash with built-in ones). */
  readonly extra?: readonly Formatter[];
}

/** Chooses formatters: by dataset type / storage class on write, by name on read. */
export class FormatterRegistry {
  private readonly byName = new Map<string, Formatter>();
  private readonly overrides: Readonly<Record<string, string>>;

  constructor(options: FormatterRegistryOptions = {}) {
    for (const f of [...BUILTIN_FORMATTERS, ...(options.extra ?? [])]) {
      if (this.byName.has(f.name)) {
        throw new FormatterError(
          'DATASTORE_FORMATTER',
          f.name,
          'two formatters have this name; give the extra formatter another name',
        );
      }
      this.byName.set(f.name, f);
    }
    this.overrides = { ...(options.overrides ?? {}) };
    for (const [key, name] of Object.entries(this.overrides)) {
      if (!this.byName.has(name)) {
        throw new FormatterError(
          'DATASTORE_FORMATTER',
          name,
          `unknown formatter named for '${key}'; known: ${[...this.byName.keys()].join(', ')}`,
        );
      }
    }
  }

  /** The formatter recorded under `name`. @throws FormatterError DATASTORE_FORMATTER */
  get(name: string): Formatter {
    const f = this.byName.get(name);
    if (!f) {
      throw new FormatterError(
        'DATASTORE_FORMATTER',
        name,
        `no such formatter in this datastore (known: ${[...this.byName.keys()].join(', ')}); ` +
          'the record was written by a newer or differently configured datastore',
      );
    }
    return f;
  }

  /** The formatter that writes datasets of `datasetType`. */
  forDatasetType(datasetType: DatasetType): Formatter {
    const name =
      this.overrides[datasetType.name] ??
      this.overrides[datasetType.storageClass] ??
      DEFAULT_FORMATTERS[datasetType.storageClass] ??
      bytesFormatter.name;
    return this.get(name);
  }

  /**
   * The formatter for ingesting a file with this extension (`.yaml`, `.fits`, ...) as a
   * dataset of `datasetType`: the usual formatter, or one interchangeable with it that
   * has this extension (a `.yaml` Config is read as YAML even when configs are written
   * as JSON).
   */
  forIngest(datasetType: DatasetType, extension: string): Formatter {
    const usual = this.forDatasetType(datasetType);
    const ext = extension.toLowerCase();
    if (usual.extension === ext) return usual;
    const group = INTERCHANGEABLE.find((g) => g.includes(usual.name));
    for (const name of group ?? []) {
      const f = this.byName.get(name);
      if (f && (f.extension === ext || (ext === '.yml' && f.extension === '.yaml'))) return f;
    }
    return usual;
  }
}
