import { describe, expect, it } from 'vitest';
import {
  ContractError,
  ContractExpressionError,
  checkContracts,
  evaluateContract,
  parseContract,
  resolveConfig,
} from '../../src/pipe/index.ts';
import { AddNumbersTask, GatherSumsTask } from './test-tasks.ts';

const env = {
  assembleCoadd: {
    statistic: 'MEANCLIP',
    nSigma: 3,
    badMaskPlanes: ['NO_DATA', 'BAD', 'SAT', 'EDGE'],
    connections: { coaddName: 'deep', coadd: '{coaddName}Coadd' },
    empty: {},
    off: null,
  },
  detect: {
    statistic: 'MEANCLIP',
    thresholdValue: 5.0,
    doSmooth: true,
    connections: { coaddName: 'deep' },
  },
};

function exprError(fn: () => unknown): ContractExpressionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ContractExpressionError) return err;
    throw err;
  }
  throw new Error('expected a ContractExpressionError');
}

const ev = (text: string) => evaluateContract(text, env);

describe('contract evaluation', () => {
  it('compares config values across tasks', () => {
    expect(ev('assembleCoadd.statistic == detect.statistic')).toBe(true);
    expect(ev('assembleCoadd.connections.coaddName == detect.connections.coaddName')).toBe(true);
    expect(ev('assembleCoadd.nSigma != detect.thresholdValue')).toBe(true);
    expect(ev("assembleCoadd.statistic == 'MEAN'")).toBe(false);
  });

  it('follows Python for literals, arithmetic and logic', () => {
    expect(ev('1 == 1.0')).toBe(true);
    expect(ev('True == 1')).toBe(true);
    expect(ev('None is None')).toBe(true);
    expect(ev('assembleCoadd.off is None')).toBe(true);
    expect(ev('assembleCoadd.off is not None')).toBe(false);
    expect(ev('2 ** 3 ** 2')).toBe(512);
    expect(ev('-2 ** 2')).toBe(-4);
    expect(ev('7 // 2')).toBe(3);
    expect(ev('-7 // 2')).toBe(-4);
    expect(ev('-7 % 3')).toBe(2);
    expect(ev('1 + 2 * 3 - 4 / 2')).toBe(5);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev("'ab' + 'cd'")).toBe('abcd');
    expect(ev('[1, 2] + [3]')).toEqual([1, 2, 3]);
    expect(ev("'-' * 3")).toBe('---');
    expect(ev('1_000 + .5 + 1e3')).toBe(2000.5);
    expect(ev('0 or 5')).toBe(5);
    expect(ev('0 and 5')).toBe(0);
    expect(ev("not ''")).toBe(true);
    expect(ev('not assembleCoadd.empty')).toBe(true);
    expect(ev('1 < 2 < 3')).toBe(true);
    expect(ev('1 < 3 < 2')).toBe(false);
    expect(ev('[1, 2] < [1, 3]')).toBe(true);
    expect(ev("'abc' < 'abd'")).toBe(true);
    expect(ev('(1, 2) == [1, 2]')).toBe(true);
    expect(ev('"tab\\there"')).toBe('tab\there');
  });

  it('supports in, not in, indexing and len()', () => {
    expect(ev("'BAD' in assembleCoadd.badMaskPlanes")).toBe(true);
    expect(ev("'CR' not in assembleCoadd.badMaskPlanes")).toBe(true);
    expect(ev("'coaddName' in assembleCoadd.connections")).toBe(true);
    expect(ev("'CLIP' in assembleCoadd.statistic")).toBe(true);
    expect(ev('len(assembleCoadd.badMaskPlanes) == 4')).toBe(true);
    expect(ev('len(assembleCoadd.connections)')).toBe(2);
    expect(ev('assembleCoadd.badMaskPlanes[-1]')).toBe('EDGE');
    expect(ev("assembleCoadd['nSigma'] + 1")).toBe(4);
    expect(ev('assembleCoadd.statistic[0]')).toBe('M');
  });

  it('is evaluated lazily like Python (short-circuit)', () => {
    // the right operand would be an error if evaluated
    expect(ev('False and nosuchtask.x')).toBe(false);
    expect(ev('True or 1 / 0')).toBe(true);
  });
});

describe('contract errors carry positions', () => {
  it('for syntax errors', () => {
    const e = exprError(() => parseContract('a.x == = 3'));
    expect(e.code).toBe('PIPE_CONTRACT_EXPRESSION');
    expect(e.position).toBe(7);
    expect(e.message).toContain('column 8');
    expect(e.message).toContain('\n  a.x == = 3\n         ^');
    expect(exprError(() => parseContract('a.x = 3')).position).toBe(4);
    expect(exprError(() => parseContract('(a.x == 3')).position).toBe(9);
    expect(exprError(() => parseContract("a.x == 'open")).position).toBe(7);
    expect(exprError(() => parseContract('a.x && b')).position).toBe(4);
    expect(exprError(() => parseContract('')).detail).toBe('empty contract');
    expect(exprError(() => parseContract('a. == 1')).position).toBe(3);
    expect(exprError(() => parseContract('12abc')).position).toBe(0);
    expect(exprError(() => parseContract('a b')).position).toBe(2);
  });

  it('for unknown names and fields, with suggestions', () => {
    const e = exprError(() => ev('assembleCoad.statistic == 1'));
    expect(e.position).toBe(0);
    expect(e.message).toContain("did you mean 'assembleCoadd'");
    const f = exprError(() => ev('detect.statistic == assembleCoadd.statistc'));
    expect(f.position).toBe(34);
    expect(f.message).toContain("Did you mean 'statistic'");
  });

  it('for type errors', () => {
    expect(exprError(() => ev('detect.statistic < 3')).position).toBe(17);
    expect(exprError(() => ev('1 / 0')).detail).toBe('division by zero');
    expect(exprError(() => ev("'a' - 'b'")).detail).toContain(
      'unsupported operand types for -: str and str',
    );
    expect(exprError(() => ev('detect.thresholdValue.x')).detail).toContain(
      "a number has no attribute 'x'",
    );
    expect(exprError(() => ev('assembleCoadd.badMaskPlanes[9]')).detail).toContain('out of range');
    expect(exprError(() => ev('3 in 4')).detail).toContain('not a container');
    expect(exprError(() => ev('len(3)')).detail).toBe('len() of a number');
    expect(exprError(() => parseContract('len(1, 2)')).detail).toContain('exactly one argument');
  });
});

describe('contracts cannot run code', () => {
  it('refuses calls other than len()', () => {
    const e = exprError(() => parseContract("__import__('os').system('touch /tmp/pwned')"));
    expect(e.detail).toBe('only len() may be called in a contract');
    expect(e.position).toBe(10);
    expect(exprError(() => parseContract('detect.statistic.upper()')).detail).toBe(
      'only len() may be called in a contract',
    );
    expect(exprError(() => parseContract('eval("1")')).position).toBe(4);
  });

  it('does not reach prototypes or host globals', () => {
    const ctor = exprError(() => ev('constructor.constructor'));
    expect(ctor.detail).toBe("unknown name 'constructor'");
    const proto = exprError(() => ev('detect.constructor'));
    expect(proto.detail).toBe("no config field 'constructor'");
    expect(exprError(() => ev('detect.__proto__')).detail).toBe("no config field '__proto__'");
    expect(exprError(() => ev("detect['constructor']")).detail).toContain('not found');
    expect(exprError(() => ev('assembleCoadd.badMaskPlanes.length')).detail).toContain(
      'a list has no attribute',
    );
    expect(exprError(() => ev('process')).detail).toBe("unknown name 'process'");
    expect(exprError(() => ev('globalThis')).detail).toBe("unknown name 'globalThis'");
    expect(exprError(() => parseContract('lambda x')).detail).toBe("unexpected keyword 'lambda'");
  });

  it('keeps huge repetitions out', () => {
    expect(exprError(() => ev("'x' * 10000000")).detail).toBe('repetition result too large');
  });
});

describe('checkContracts', () => {
  const add = resolveConfig(AddNumbersTask.ConfigSchema, AddNumbersTask.connections, [
    { kind: 'assign', key: 'scale', value: 2, source: 't' },
  ]);
  const gather = resolveConfig(GatherSumsTask.ConfigSchema, GatherSumsTask.connections);
  const configs = new Map<string, Readonly<Record<string, unknown>>>([
    ['add', add],
    ['gather', gather],
  ]);

  it('passes when every contract holds', () => {
    expect(() =>
      checkContracts(
        [
          { contract: 'add.scale > 0' },
          { contract: "gather.connections.sums == 'visitSum'", msg: 'names' },
        ],
        configs,
      ),
    ).not.toThrow();
  });

  it('raises ContractError with the msg of the first false one', () => {
    let err: unknown;
    try {
      checkContracts(
        [
          { contract: 'add.scale > 0' },
          { contract: 'add.scale == 1', msg: 'add must not scale' },
          { contract: 'False', msg: 'never reached' },
        ],
        configs,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContractError);
    const ce = err as ContractError;
    expect(ce.code).toBe('PIPE_CONTRACT_FAILED');
    expect(ce.msg).toBe('add must not scale');
    expect(ce.contract).toBe('add.scale == 1');
    expect(ce.message).toContain('add must not scale');
  });

  it('names the parsed root labels', () => {
    expect([...parseContract("a.x == b.y and 'c' in d.z and len(e) > 0").names].sort()).toEqual([
      'a',
      'b',
      'd',
      'e',
    ]);
  });
});
