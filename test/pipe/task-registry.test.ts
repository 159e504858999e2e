import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineConnections,
  getTask,
  InvalidConnectionsError,
  isPipelineTaskClass,
  lookupTask,
  output,
  PipelineTask,
  registeredTaskNames,
  registerTask,
  resolveTask,
  TaskNotFoundError,
  unregisterTask,
} from '../../src/pipe/index.ts';
import { AddNumbersTask, GatherSumsTask, ScaleTask } from './test-tasks.ts';

async function rejected(p: Promise<unknown>): Promise<TaskNotFoundError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TaskNotFoundError) return err;
    throw err;
  }
  throw new Error('expected a TaskNotFoundError');
}

describe('task registry', () => {
  it('registers and looks up dotted names', () => {
    expect(getTask('gpu_drp.test.AddNumbersTask')).toBe(AddNumbersTask);
    expect(lookupTask('gpu_drp.test.Nothing')).toBeUndefined();
    expect(registeredTaskNames()).toContain('gpu_drp.test.GatherSumsTask');
    // registering the same class twice is fine; another class under the name is not
    registerTask('gpu_drp.test.AddNumbersTask', AddNumbersTask);
    expect(() => registerTask('gpu_drp.test.AddNumbersTask', GatherSumsTask)).toThrow(
      /already registered to AddNumbersTask/,
    );
    expect(() => registerTask('has space', AddNumbersTask)).toThrow(TaskNotFoundError);
    expect(() => registerTask('x.NotATask', class {} as never)).toThrow(
      /not a PipelineTask subclass/,
    );
    registerTask('gpu_drp.test.Temporary', ScaleTask);
    expect(unregisterTask('gpu_drp.test.Temporary')).toBe(true);
    expect(lookupTask('gpu_drp.test.Temporary')).toBeUndefined();
  });

  it('suggests close names for unknown ones', () => {
    const e = (() => {
      try {
        getTask('gpu_drp.test.AddNumberTask');
      } catch (err) {
        return err as TaskNotFoundError;
      }
      throw new Error('expected an error');
    })();
    expect(e.code).toBe('PIPE_TASK_NOT_FOUND');
    expect(e.taskName).toBe('gpu_drp.test.AddNumberTask');
    expect(e.message).toContain("Did you mean 'gpu_drp.test.AddNumbersTask'?");
    expect(() => getTask('test/pipe/test-tasks.ts#X')).toThrow(/resolveTask/);
  });

  it('checks connections when registering', () => {
    class BadTask extends PipelineTask {
      static _DefaultName = 'bad';
      static ConfigSchema = z.object({});
      static connections = defineConnections({
        dimensions: ['instrument'],
        connections: {
          out: output({ name: '{nope}X', storageClass: 'n', dimensions: ['instrument'] }),
        },
      });
      async run(): Promise<Record<string, unknown>> {
        return {};
      }
    }
    expect(isPipelineTaskClass(BadTask)).toBe(true);
    expect(() => registerTask('gpu_drp.test.BadTask', BadTask)).toThrow(InvalidConnectionsError);
  });

  it('imports module paths relative to the project root or a base folder', async () => {
    const cls = await resolveTask('test/pipe/test-tasks.ts#ScaleTask');
    expect(cls).toBe(ScaleTask);
    // root-relative module paths are registered under their name afterwards
    expect(getTask('test/pipe/test-tasks.ts#ScaleTask')).toBe(ScaleTask);
    expect(
      await resolveTask('./test-tasks.ts#GatherSumsTask', { baseDir: import.meta.dirname }),
    ).toBe(GatherSumsTask);
    expect(await resolveTask(`${join(import.meta.dirname, 'test-tasks.ts')}#AddNumbersTask`)).toBe(
      AddNumbersTask,
    );
    expect(
      await resolveTask('pipe/test-tasks.ts#ScaleTask', {
        moduleRoot: join(import.meta.dirname, '..'),
      }),
    ).toBe(ScaleTask);
  });

  it('reports missing modules, exports and non-task exports', async () => {
    const missing = await rejected(resolveTask('test/pipe/no-such-file.ts#X'));
    expect(missing.message).toContain("cannot import 'test/pipe/no-such-file.ts'");
    const noExport = await rejected(resolveTask('test/pipe/test-tasks.ts#ScaleTsk'));
    expect(noExport.message).toContain("has no export 'ScaleTsk'. Did you mean 'ScaleTask'?");
    const notTask = await rejected(resolveTask('test/pipe/memory-context.ts#makeRef'));
    expect(notTask.message).toContain('is not a PipelineTask subclass');
    const malformed = await rejected(resolveTask('test/pipe/test-tasks.ts#'));
    expect(malformed.message).toContain('path/to/module.ts#ExportName');
  });
});
