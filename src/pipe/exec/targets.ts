/**
 * Where quanta read and write: a full Butler (registry + datastore; outputs are registered
 * together at the end of each quantum) or a quantum-backed butler (QBB: the datastore alone;
 * inputs located through the graph's datastore records or, for outputs of other quanta, the
 * datastore's file templates; outputs recorded in per-quantum outcome files and registered later
 * by `butler aggregate-graph`; the registry is never touched).
 */

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { Butler, CONFIG_FILE, type RepoConfig } from '../../butler/butler.ts';
import { Datastore } from '../../butler/datastore/index.ts';
import type { DatasetRef, DatastoreRecord } from '../../butler/refs.ts';
import { ExecError } from './errors.ts';

/** Options shared by both targets. */
export interface TargetOptions {
  /** Collections where an existing `<label>_metadata` means the quantum is done (skipped). */
  readonly skipExistingIn?: readonly string[];
  /** Remove registered outputs of a quantum that did not finish before re-running it. */
  readonly clobberOutputs?: boolean;
}

/** What the executor needs from a repository. */
export interface ExecutionTarget {
  /** `butler` (registry writes) or `qbb` (datastore only). */
  readonly kind: 'butler' | 'qbb';
  /** The datastore. */
  readonly datastore: Datastore;
  /** Records of an input: `known` (from the graph) or found now; null when the dataset does not exist. */
  inputRecords(
    ref: DatasetRef,
    known: readonly DatastoreRecord[] | undefined,
  ): Promise<readonly DatastoreRecord[] | null>;
  /** True when the quantum whose metadata output is `metadataRef` is done (skip it). */
  isDone(metadataRef: DatasetRef): Promise<boolean>;
  /**
   * Makes room for a quantum's outputs: removes unregistered files at their paths (leftovers of
   * an interrupted attempt); registered ones are removed with `clobberOutputs`, else an error.
   */
  prepareOutputs(refs: readonly DatasetRef[]): Promise<void>;
  /** Whether a stored dataset exists (registered for `butler`, its file for `qbb`). */
  exists(ref: DatasetRef): Promise<boolean>;
  /** Makes written outputs visible (registry transaction for `butler`; nothing for `qbb`). */
  commit(items: readonly { ref: DatasetRef; records: readonly DatastoreRecord[] }[]): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Reads `butler.yaml` of a repository. @throws ExecError */
export function readRepoConfig(repo: string): { dir: string; config: RepoConfig } {
  let dir = resolve(repo);
  if (dir.endsWith('.yaml')) dir = resolve(dir, '..');
  try {
    const config = YAML.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as RepoConfig;
    if (!config?.datastore?.root) throw new Error('no datastore.root');
    return { dir, config };
  } catch (e) {
    throw new ExecError(
      'EXEC_REPOSITORY',
      `cannot read ${join(dir, CONFIG_FILE)} (${(e as Error).message}); give the repository directory`,
      { cause: e },
    );
  }
}

/** The datastore of a repository, opened without its registry (what a QBB uses). */
export function openRepoDatastore(repo: string): Datastore {
  const { dir, config } = readRepoConfig(repo);
  const root = config.datastore.root;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(root) || isAbsolute(root) ? root : resolve(dir, root);
  return Datastore.fromUrl(url, {
    ...(config.datastore.checksum !== undefined ? { checksum: config.datastore.checksum } : {}),
    ...(config.datastore.templates ? { templates: config.datastore.templates } : {}),
    ...(config.datastore.recipes ? { recipes: config.datastore.recipes } : {}),
  });
}

/** The record a predicted dataset has if its file exists (size from the storage), else null. */
export async function predictedRecord(
  datastore: Datastore,
  ref: DatasetRef,
): Promise<DatastoreRecord | null> {
  const path = datastore.pathFor(ref);
  if (!(await datastore.backend.exists(path))) return null;
  return {
    datasetId: ref.id,
    path,
    formatter: datastore.formatterFor(ref.datasetType).name,
    storageClass: ref.datasetType.storageClass,
    checksum: null,
    size: await datastore.backend.size(path),
  };
}

/** A full Butler target. */
export class ButlerTarget implements ExecutionTarget {
  readonly kind = 'butler' as const;
  constructor(
    /** The butler (owned: closed by {@link close} when `owned`). */
    readonly butler: Butler,
    private readonly o: TargetOptions = {},
    private readonly owned = true,
  ) {}

  /** Opens the repository. */
  static async open(repo: string, o: TargetOptions = {}): Promise<ButlerTarget> {
    return new ButlerTarget(await Butler.open(repo), o);
  }

  get datastore(): Datastore {
    return this.butler.datastore;
  }

  async inputRecords(
    ref: DatasetRef,
    known: readonly DatastoreRecord[] | undefined,
  ): Promise<readonly DatastoreRecord[] | null> {
    if (known && known.length > 0) return known;
    const recs = await this.butler.registry.getDatastoreRecords([ref.id]);
    return recs.length > 0 ? recs : null;
  }

  async isDone(metadataRef: DatasetRef): Promise<boolean> {
    const skip = this.o.skipExistingIn ?? [];
    if (skip.length === 0) return false;
    const found = await this.butler.registry.findDataset(
      metadataRef.datasetType.name,
      metadataRef.dataId,
      { collections: [...skip] },
    );
    return found !== null;
  }

  async exists(ref: DatasetRef): Promise<boolean> {
    return (await this.butler.registry.getDataset(ref.id)) !== null;
  }

  async prepareOutputs(refs: readonly DatasetRef[]): Promise<void> {
    const registered: DatasetRef[] = [];
    for (const ref of refs) {
      if (await this.exists(ref)) registered.push(ref);
      else {
        const path = this.datastore.pathFor(ref);
        if (await this.datastore.backend.exists(path)) await this.datastore.backend.remove(path);
      }
    }
    if (registered.length === 0) return;
    if (!this.o.clobberOutputs) {
      throw new ExecError(
        'EXEC_OUTPUTS_EXIST',
        `${registered.length} output(s) of this quantum exist in run ${registered[0]!.run} (e.g. ${registered[0]!.datasetType.name} ${JSON.stringify(registered[0]!.dataId)}) but the quantum did not finish; re-run with --clobber-outputs to replace them, or --skip-existing-in ${registered[0]!.run}`,
      );
    }
    await this.butler.pruneDatasets(registered, { purge: true });
  }

  async commit(
    items: readonly { ref: DatasetRef; records: readonly DatastoreRecord[] }[],
  ): Promise<void> {
    if (items.length === 0) return;
    await registerWithRecords(this.butler, items);
  }

  async close(): Promise<void> {
    if (this.owned) await this.butler.close();
  }
}

/**
 * Registers datasets with their records in one transaction; datasets already registered with the
 * same id are skipped, records only inserted where missing (so re-registration is a no-op).
 */
export async function registerWithRecords(
  butler: Butler,
  items: readonly { ref: DatasetRef; records: readonly DatastoreRecord[] }[],
): Promise<void> {
  await butler.registry.transaction(async (tx) => {
    // Registry.importDatasets cannot re-check an existing dataset without dimensions (its
    // data-ID query has no columns), so those are filtered here by id first.
    const refs: DatasetRef[] = [];
    for (const i of items) {
      if (i.ref.datasetType.dimensions.length === 0 && (await tx.getDataset(i.ref.id))) continue;
      refs.push(i.ref);
    }
    if (refs.length > 0) await tx.importDatasets(refs);
    const have = new Set(
      (await tx.getDatastoreRecords(items.map((i) => i.ref.id))).map(
        (r) => `${r.datasetId}|${r.component ?? ''}`,
      ),
    );
    const fresh = items
      .flatMap((i) => i.records)
      .filter((r) => !have.has(`${r.datasetId}|${r.component ?? ''}`));
    if (fresh.length > 0) await tx.insertDatastoreRecords(fresh);
  });
}

/** A quantum-backed butler target: the datastore only. */
export class QbbTarget implements ExecutionTarget {
  readonly kind = 'qbb' as const;
  constructor(readonly datastore: Datastore) {}

  /** Opens the datastore of a repository (the registry is not opened). */
  static open(repo: string): QbbTarget {
    return new QbbTarget(openRepoDatastore(repo));
  }

  async inputRecords(
    ref: DatasetRef,
    known: readonly DatastoreRecord[] | undefined,
  ): Promise<readonly DatastoreRecord[] | null> {
    if (known && known.length > 0) return known;
    const r = await predictedRecord(this.datastore, ref);
    return r ? [r] : null;
  }

  async isDone(metadataRef: DatasetRef): Promise<boolean> {
    // Metadata is written last: its file means every output of the quantum is complete.
    return this.datastore.backend.exists(this.datastore.pathFor(metadataRef));
  }

  async exists(ref: DatasetRef): Promise<boolean> {
    return this.datastore.backend.exists(this.datastore.pathFor(ref));
  }

  async prepareOutputs(refs: readonly DatasetRef[]): Promise<void> {
    // Nothing is registered yet: files at the output paths are leftovers of an interrupted try.
    for (const ref of refs) {
      const path = this.datastore.pathFor(ref);
      if (await this.datastore.backend.exists(path)) await this.datastore.backend.remove(path);
    }
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {}
}
