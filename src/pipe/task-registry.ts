/**
 * The task registry: pipelines name task classes by a string, either a dotted class path
 * registered in this process (`gpu_drp.tasks.AssembleCoaddTask`, via {@link registerTask}), or a
 * module path with an export name (`tasks/assemble-coadd.ts#AssembleCoaddTask`), imported on
 * demand by {@link resolveTask}.
 *
 * Module paths: `./x.ts` and `../x.ts` are relative to `baseDir` (the pipeline file's folder);
 * other relative paths to `moduleRoot` (default: the working directory, i.e. the project root);
 * absolute paths as they are; anything else that is not a file is tried as a package specifier.
 * When a `.ts` file is missing, the `.js` next to it is tried (compiled builds).
 */

import { existsSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkConnectionsDefinition } from './connections.ts';
import { TaskNotFoundError } from './errors.ts';
import { suggestNames } from './suggest.ts';
import { isPipelineTaskClass, type PipelineTaskClass } from './task.ts';

const registry = new Map<string, PipelineTaskClass>();

/** True if `name` is a module path (`file#Export`), not a dotted class path. */
export function isModuleTaskName(name: string): boolean {
  return name.includes('#');
}

/**
 * Registers a task class under `name` (a dotted path like `gpu_drp.tasks.AddTask`, or any
 * string a pipeline will use). Registering the same class again is a no-op.
 *
 * @throws TaskNotFoundError if `name` is taken by another class or `cls` is not a task class.
 * @throws InvalidConnectionsError if the class's connections definition is malformed.
 */
export function registerTask(name: string, cls: PipelineTaskClass): void {
  if (name.trim() === '' || /\s/.test(name)) {
    throw new TaskNotFoundError(
      name,
      `task name '${name}' is empty or has spaces. Use a dotted path like gpu_drp.tasks.MyTask.`,
    );
  }
  if (!isPipelineTaskClass(cls)) {
    throw new TaskNotFoundError(
      name,
      `'${name}': ${String((cls as { name?: string } | null)?.name ?? cls)} is not a PipelineTask subclass with static _DefaultName, ConfigSchema and connections.`,
    );
  }
  const existing = registry.get(name);
  if (existing !== undefined && existing !== cls) {
    throw new TaskNotFoundError(
      name,
      `task name '${name}' is already registered to ${existing.name}. Choose another name or unregister the old one.`,
    );
  }
  checkConnectionsDefinition(cls.connections, cls._DefaultName);
  registry.set(name, cls);
}

/** Removes a registration (tests, plugin reloads). Returns whether one was removed. */
export function unregisterTask(name: string): boolean {
  return registry.delete(name);
}

/** Names registered so far, sorted. */
export function registeredTaskNames(): string[] {
  return [...registry.keys()].sort();
}

/** The class registered under `name`, or undefined (no import is attempted). */
export function lookupTask(name: string): PipelineTaskClass | undefined {
  return registry.get(name);
}

/**
 * The class registered under `name`.
 *
 * @throws TaskNotFoundError with suggestions (and, for module paths, a hint to import first).
 */
export function getTask(name: string): PipelineTaskClass {
  const cls = registry.get(name);
  if (cls !== undefined) return cls;
  if (isModuleTaskName(name)) {
    throw new TaskNotFoundError(
      name,
      `task '${name}' is a module path that has not been imported yet. Call await resolveTask(name) (or await pipeline.importTasks()) first.`,
    );
  }
  const close = suggestNames(name, registry.keys());
  throw new TaskNotFoundError(
    name,
    `no task is registered as '${name}'.${close.length > 0 ? ` Did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : ''} Register it with registerTask('${name}', Class), or name it by module path (path/to/file.ts#ClassName).`,
  );
}

/** Where to look for module paths. */
export interface ResolveTaskOptions {
  /** Folder for `./` and `../` paths (the pipeline file's folder). Default: `moduleRoot`. */
  readonly baseDir?: string;
  /** Folder for other relative paths (the project root). Default: the working directory. */
  readonly moduleRoot?: string;
}

/**
 * The task class for a pipeline's class string: registered names first, then module paths
 * imported dynamically (and registered under `name` when that is unambiguous, i.e. for paths
 * that do not start with `./` or `../`).
 *
 * @throws TaskNotFoundError when nothing matches, the module cannot be imported, or the export is
 *   missing or not a task class.
 */
export async function resolveTask(
  name: string,
  options: ResolveTaskOptions = {},
): Promise<PipelineTaskClass> {
  const known = registry.get(name);
  if (known !== undefined) return known;
  if (!isModuleTaskName(name)) return getTask(name);
  const hash = name.lastIndexOf('#');
  const modulePath = name.slice(0, hash);
  const exportName = name.slice(hash + 1);
  if (modulePath === '' || exportName === '') {
    throw new TaskNotFoundError(
      name,
      `task '${name}' must be of the form path/to/module.ts#ExportName.`,
    );
  }
  const specifier = moduleSpecifier(modulePath, options);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new TaskNotFoundError(
      name,
      `cannot import '${modulePath}' for task '${name}' (${(err as Error).message.split('\n')[0]}). Check the path: relative paths are resolved against ${options.moduleRoot ?? 'the working directory'}.`,
      { cause: err },
    );
  }
  const cls = mod[exportName];
  if (cls === undefined) {
    const exports = Object.keys(mod);
    const close = suggestNames(exportName, exports);
    throw new TaskNotFoundError(
      name,
      `module '${modulePath}' has no export '${exportName}'.${close.length > 0 ? ` Did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : ''} Exports: ${exports.join(', ') || 'none'}.`,
    );
  }
  if (!isPipelineTaskClass(cls)) {
    throw new TaskNotFoundError(
      name,
      `'${name}' is not a PipelineTask subclass with static _DefaultName, ConfigSchema and connections.`,
    );
  }
  checkConnectionsDefinition(cls.connections, cls._DefaultName);
  if (!modulePath.startsWith('./') && !modulePath.startsWith('../')) registry.set(name, cls);
  return cls;
}

function moduleSpecifier(modulePath: string, options: ResolveTaskOptions): string {
  const root = options.moduleRoot ?? process.cwd();
  const base =
    modulePath.startsWith('./') || modulePath.startsWith('../') ? (options.baseDir ?? root) : root;
  const file = isAbsolute(modulePath) ? modulePath : resolvePath(base, modulePath);
  if (existsSync(file)) return pathToFileURL(file).href;
  if (file.endsWith('.ts')) {
    const js = `${file.slice(0, -3)}.js`;
    if (existsSync(js)) return pathToFileURL(js).href;
  }
  if (isAbsolute(modulePath) || modulePath.startsWith('.')) return pathToFileURL(file).href;
  // Not a file: let Node resolve it as a package specifier (e.g. gpu-drp/tasks/x.js).
  return modulePath;
}
