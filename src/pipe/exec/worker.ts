/**
 * A child process of the multi-process executor: opens the repository and the graph once
 * ({type: 'init', spec}), then runs one quantum per {type: 'run', id} message and answers
 * {type: 'done', outcome}; {type: 'exit'} closes it.
 */

import type { QuantumGraphReader } from '../graph/index.ts';
import { type ExecSpec, openSession } from './executor.ts';
import type { ExecutionSession } from './session.ts';

let opened: Promise<{ session: ExecutionSession; reader: QuantumGraphReader }> | null = null;
let chain: Promise<void> = Promise.resolve();

process.on(
  'message',
  (m: { type: 'init'; spec: ExecSpec } | { type: 'run'; id: string } | { type: 'exit' }) => {
    if (m.type === 'init') {
      opened = openSession(m.spec);
      opened.catch((e: unknown) => {
        process.send?.({ type: 'fatal', error: (e as Error).message });
      });
      return;
    }
    chain = chain.then(async () => {
      if (opened === null) return;
      if (m.type === 'exit') {
        const { session, reader } = await opened.catch(() => ({ session: null, reader: null }));
        await session?.target.close();
        await reader?.close();
        process.disconnect?.();
        return;
      }
      const { session, reader } = await opened;
      const outcome = await session.execute(await reader.readQuantum(m.id));
      process.send?.({ type: 'done', outcome });
    });
  },
);
