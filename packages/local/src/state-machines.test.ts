import { afterEach, describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  ensurePromiseWithResolvers,
  listStateMachines,
  runDefinition,
  runStateMachine,
  type LocalFunction,
} from './state-machines.ts';

const definition = (value: object) => value as unknown as StateMachineDefinition;

describe('the deployed definitions', () => {
  it('lists the ASL files CDK deploys', () => {
    expect(listStateMachines()).toContain('housekeeping');
  });

  it('runs housekeeping.asl.json and returns its output', async () => {
    const before = Date.now();
    const output = (await runStateMachine('housekeeping', { job: 'housekeeping' })) as Record<string, unknown>;
    expect(output).toEqual({ job: 'housekeeping', startedAt: expect.any(String), workItems: 0 });
    const startedAt = Date.parse(output.startedAt as string);
    expect(startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(startedAt).toBeLessThanOrEqual(Date.now());
  });

  it('refuses a name that is not a definition', async () => {
    await expect(runStateMachine('nightly', {})).rejects.toThrow('No state machine "nightly"');
    await expect(runStateMachine('../state-machines/housekeeping', {})).rejects.toThrow('there are: housekeeping');
  });
});

describe('Task states', () => {
  const pipeline = definition({
    StartAt: 'Sweep',
    States: {
      Sweep: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: '${SweepFunctionArn}', 'Payload.$': '$' },
        ResultSelector: { 'swept.$': '$.Payload.swept' },
        Next: 'Notify',
      },
      Notify: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:123456789012:function:platform-dev-notify:live',
        End: true,
      },
    },
  });

  it('resolves Lambda calls to in-process functions by the name the definition gives them', async () => {
    const calls: { fn: string; event: unknown; name: string }[] = [];
    const sweep: LocalFunction = async (event, context) => {
      calls.push({ fn: 'sweep', event, name: context.functionName });
      return { swept: 3 };
    };
    const notify: LocalFunction = async (event, context) => {
      calls.push({ fn: 'notify', event, name: context.functionName });
      return { notified: true, ...event };
    };
    const output = await runDefinition(
      'pipeline',
      pipeline,
      { olderThanDays: 7 },
      {
        functions: { SweepFunctionArn: sweep, 'platform-dev-notify': notify },
      },
    );
    expect(output).toEqual({ notified: true, swept: 3 });
    expect(calls).toEqual([
      { fn: 'sweep', event: { olderThanDays: 7 }, name: 'SweepFunctionArn' },
      { fn: 'notify', event: { swept: 3 }, name: 'platform-dev-notify' },
    ]);
  });

  it('lets a task override, keyed by state name, replace a function', async () => {
    const output = await runDefinition(
      'pipeline',
      pipeline,
      {},
      {
        functions: { SweepFunctionArn: () => ({ swept: 1 }) },
        tasks: { Notify: (input) => ({ overridden: input }) },
      },
    );
    expect(output).toEqual({ overridden: { swept: 1 } });
  });

  it('refuses, before running anything, a Task with no local implementation', async () => {
    let swept = false;
    const run = runDefinition(
      'pipeline',
      pipeline,
      {},
      {
        functions: {
          SweepFunctionArn: () => {
            swept = true;
            return {};
          },
        },
      },
    );
    await expect(run).rejects.toThrow(
      'State machine pipeline has Task states without a local implementation: Notify (invokes arn:aws:lambda:us-east-1:123456789012:function:platform-dev-notify:live: add "platform-dev-notify" to functions)',
    );
    expect(swept).toBe(false);
  });

  it('refuses a service integration that is not Lambda unless a task override runs it', async () => {
    const putItem = definition({
      StartAt: 'Record',
      States: {
        Record: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: { TableName: 't', Item: {} },
          End: true,
        },
      },
    });
    await expect(runDefinition('put', putItem, {})).rejects.toThrow(
      'Record (calls arn:aws:states:::dynamodb:putItem: add it to tasks)',
    );
    await expect(runDefinition('put', putItem, {}, { tasks: { Record: () => ({ stored: true }) } })).resolves.toEqual({
      stored: true,
    });
  });

  it('finds Task states inside Map iterations and Parallel branches', async () => {
    const fanOut = definition({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: { StartAt: 'Double', States: { Double: { Type: 'Task', Resource: '${DoubleFunctionArn}', End: true } } },
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Sum',
              States: {
                Sum: {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::lambda:invoke',
                  Parameters: { FunctionName: 'sum', 'Payload.$': '$' },
                  OutputPath: '$.Payload',
                  End: true,
                },
              },
            },
            {
              StartAt: 'Count',
              States: { Count: { Type: 'Pass', Parameters: { 'count.$': 'States.ArrayLength($)' }, End: true } },
            },
          ],
          End: true,
        },
      },
    });
    const output = await runDefinition(
      'fan-out',
      fanOut,
      { items: [1, 2, 3] },
      {
        functions: {
          DoubleFunctionArn: (n: number) => n * 2,
          sum: (values: number[]) => values.reduce((a, b) => a + b, 0),
        },
      },
    );
    expect(output).toEqual([12, { count: 3 }]);
  });

  it('retries and catches the errors a local function throws, by their name', async () => {
    class ThrottledError extends Error {
      override name = 'Throttled';
    }
    let attempts = 0;
    const flaky = definition({
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: '${CallFunctionArn}',
          Retry: [{ ErrorEquals: ['Throttled'], IntervalSeconds: 5, MaxAttempts: 2 }],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
          End: true,
        },
        Failed: { Type: 'Pass', End: true },
      },
    });
    const output = (await runDefinition(
      'flaky',
      flaky,
      {},
      {
        functions: {
          CallFunctionArn: () => {
            attempts += 1;
            throw new ThrottledError('slow down');
          },
        },
        retryIntervals: { Call: 0 },
      },
    )) as { error: { Error: string } };
    expect(attempts).toBe(3);
    expect(output.error.Error).toBe('Throttled');
  });

  it('gives the execution a name, an id and the state machine in the context object', async () => {
    const named = definition({
      StartAt: 'Context',
      States: {
        Context: {
          Type: 'Pass',
          Parameters: { 'name.$': '$$.Execution.Name', 'id.$': '$$.Execution.Id', 'machine.$': '$$.StateMachine.Name' },
          End: true,
        },
      },
    });
    const output = await runDefinition('named', named, {}, { executionName: 'run-1' });
    expect(output).toEqual({
      name: 'run-1',
      id: 'arn:aws:states:us-east-1:000000000000:execution:named:run-1',
      machine: 'named',
    });
  });
});

describe('what the local runner refuses rather than run differently from AWS', () => {
  const pass = { Type: 'Pass', End: true };
  it.each([
    ['JSONata', { QueryLanguage: 'JSONata', StartAt: 'A', States: { A: pass } }, 'the definition uses JSONata'],
    ['a JSONata state', { StartAt: 'A', States: { A: { ...pass, QueryLanguage: 'JSONata' } } }, 'A uses JSONata'],
    ['Variables', { StartAt: 'A', States: { A: { ...pass, Assign: { x: 1 } } } }, 'A assigns Variables'],
    [
      'task tokens',
      {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', End: true } },
      },
      'A waits for a task token',
    ],
  ])('%s', async (_, value, message) => {
    await expect(runDefinition('m', definition(value), {}, { tasks: { A: () => ({}) } })).rejects.toThrow(message);
  });
});

describe('Promise.withResolvers (Node 22) on Node 20', () => {
  const original = (Promise as unknown as { withResolvers?: unknown }).withResolvers;
  afterEach(() => {
    (Promise as unknown as { withResolvers?: unknown }).withResolvers = original;
  });

  it('is added when missing, and works', async () => {
    delete (Promise as unknown as { withResolvers?: unknown }).withResolvers;
    ensurePromiseWithResolvers();
    const { promise, resolve } = (
      Promise as unknown as { withResolvers: <T>() => { promise: Promise<T>; resolve: (v: T) => void } }
    ).withResolvers<number>();
    resolve(42);
    await expect(promise).resolves.toBe(42);
  });

  it('is left alone when the runtime has it', () => {
    const native = () => undefined;
    (Promise as unknown as { withResolvers?: unknown }).withResolvers = native;
    ensurePromiseWithResolvers();
    expect((Promise as unknown as { withResolvers?: unknown }).withResolvers).toBe(native);
  });
});
