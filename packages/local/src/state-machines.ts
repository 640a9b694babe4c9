import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { stateMachinesDir } from '../../../infra/paths.ts';
import { localLambdaContext } from './queues.ts';

type Json = Parameters<StateMachine['run']>[0];

/** A Lambda handler run in process for a Task state that invokes a function. */
export type LocalFunction = (event: any, context: Context) => unknown;
/** Runs a Task state in process: receives the state's effective input, returns its result. */
export type LocalTask = (input: any) => unknown;

export interface StateMachineOverrides {
  /** Task state name → local implementation; wins over `functions`. Any Task that is not a Lambda call needs one. */
  tasks?: Record<string, LocalTask>;
  /**
   * Lambda functions the definition invokes, by the name it gives them: a function name,
   * an ARN, or a definition substitution (`${SweepFunctionArn}` → `SweepFunctionArn`).
   */
  functions?: Record<string, LocalFunction>;
  /** Wait state name → milliseconds, instead of the definition's wait. */
  waits?: Record<string, number>;
  /** State name → milliseconds between retries, instead of the definition's intervals. */
  retryIntervals?: Record<string, number | number[]>;
  /** Names the execution in the context object (`$$.Execution.Name`); a UUID by default. */
  executionName?: string;
}

const REGION = () => process.env.AWS_REGION ?? 'us-east-1';
const ACCOUNT = '000000000000';

/** The state machines CDK deploys: one `<name>.asl.json` each in `infra/state-machines/`. */
export function listStateMachines(directory = stateMachinesDir): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.asl.json'))
    .map((file) => file.slice(0, -'.asl.json'.length))
    .sort();
}

export function loadDefinition(name: string, directory = stateMachinesDir): StateMachineDefinition {
  const file = join(directory, `${name}.asl.json`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !existsSync(file)) {
    throw new Error(`No state machine "${name}" in ${directory} (there are: ${listStateMachines(directory).join(', ')})`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as StateMachineDefinition;
}

/**
 * Runs `infra/state-machines/<name>.asl.json`, the definition CDK deploys, with
 * aws-local-stepfunctions, and resolves with its output (rejects with its `ExecutionError`).
 * Every Task state runs in this process: Lambda calls through `functions`, anything else
 * through `tasks`; a Task left without one is refused before the run, so nothing local
 * ever calls AWS. What the runner cannot do (JSONata, Variables, task tokens) is refused
 * too, rather than run differently from AWS.
 */
export async function runStateMachine(name: string, input: Json, overrides: StateMachineOverrides = {}): Promise<Json> {
  return runDefinition(name, loadDefinition(name), input, overrides);
}

/** `runStateMachine` for a definition already in hand (tests of the runner itself). */
export async function runDefinition(
  name: string,
  definition: StateMachineDefinition,
  input: Json,
  overrides: StateMachineOverrides = {},
): Promise<Json> {
  ensurePromiseWithResolvers();
  const taskResourceLocalHandlers = localTaskHandlers(name, definition, overrides);
  const region = REGION();
  const machine = new StateMachine(withFunctionArns(definition, region));
  const executionName = overrides.executionName ?? randomUUID();
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers,
      ...(overrides.waits ? { waitTimeOverrides: overrides.waits } : {}),
      ...(overrides.retryIntervals ? { retryIntervalOverrides: overrides.retryIntervals } : {}),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${region}:${ACCOUNT}:execution:${name}:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: new Date().toISOString(),
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-local`,
      },
      StateMachine: { Id: `arn:aws:states:${region}:${ACCOUNT}:stateMachine:${name}`, Name: name },
    },
  });
  return execution.result;
}

/** aws-local-stepfunctions 3 calls `Promise.withResolvers` (Node 22) in every Task state. */
export function ensurePromiseWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: unknown };
  if (typeof promise.withResolvers === 'function') return;
  promise.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const created = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
}

interface StateDefinition {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  QueryLanguage?: string;
  Assign?: unknown;
  Branches?: { States: Record<string, StateDefinition> }[];
  Iterator?: { States: Record<string, StateDefinition> };
  ItemProcessor?: { States: Record<string, StateDefinition> };
}

/**
 * A copy whose Task `Resource: "${SweepFunctionArn}"` (a definition substitution, which CDK
 * replaces on deploy) reads as a Lambda ARN, so that the runner's schema accepts it. The
 * Task runs the local function either way.
 */
function withFunctionArns(definition: StateMachineDefinition, region: string): StateMachineDefinition {
  const copy = structuredClone(definition) as unknown as { States: Record<string, StateDefinition> };
  for (const [, state] of allStates(copy.States)) {
    const substitution = state.Type === 'Task' && state.Resource ? /^\$\{(.+)\}$/.exec(state.Resource) : null;
    if (substitution) state.Resource = `arn:aws:lambda:${region}:${ACCOUNT}:function:${substitution[1]}`;
  }
  return copy as unknown as StateMachineDefinition;
}

/** Every state, Parallel branches and Map iterations included (their names share one override map). */
function allStates(states: Record<string, StateDefinition>): [string, StateDefinition][] {
  return Object.entries(states).flatMap(([stateName, state]) => [
    [stateName, state] as [string, StateDefinition],
    ...(state.Branches ?? []).flatMap((branch) => allStates(branch.States)),
    ...(state.Iterator ? allStates(state.Iterator.States) : []),
    ...(state.ItemProcessor ? allStates(state.ItemProcessor.States) : []),
  ]);
}

const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/;

/** The key a function is given in `functions`: `${Name}` → `Name`, an ARN → the function name. */
function functionKey(reference: string): string {
  const substitution = /^\$\{(.+)\}$/.exec(reference);
  if (substitution) return substitution[1]!;
  const arn = LAMBDA_ARN.exec(reference);
  if (arn) return arn[1]!;
  return reference.split(':')[0]!;
}

function findFunction(functions: Record<string, LocalFunction>, reference: string): LocalFunction | undefined {
  return functions[reference] ?? functions[functionKey(reference)];
}

function localTaskHandlers(machine: string, definition: StateMachineDefinition, overrides: StateMachineOverrides) {
  const root = definition as unknown as { QueryLanguage?: string; States: Record<string, StateDefinition> };
  const states = allStates(root.States);
  const unsupported: string[] = [];
  if (root.QueryLanguage === 'JSONata') unsupported.push('the definition uses JSONata (JSONPath only locally)');
  for (const [stateName, state] of states) {
    if (state.QueryLanguage === 'JSONata') unsupported.push(`${stateName} uses JSONata`);
    if (state.Assign !== undefined) unsupported.push(`${stateName} assigns Variables`);
    if (state.Resource?.endsWith('.waitForTaskToken')) unsupported.push(`${stateName} waits for a task token`);
  }
  if (unsupported.length) {
    throw new Error(`State machine ${machine} cannot run locally: ${unsupported.join('; ')}`);
  }

  const tasks = overrides.tasks ?? {};
  const functions = overrides.functions ?? {};
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const missing: string[] = [];
  for (const [stateName, state] of states) {
    if (state.Type !== 'Task') continue;
    const task = tasks[stateName];
    const resource = state.Resource ?? '';
    if (task) {
      handlers[stateName] = async (input) => (await task(input)) as Json;
    } else if (LAMBDA_INVOKE.test(resource)) {
      // The function is named in the effective input (`FunctionName` or `FunctionName.$`), so resolve it per call.
      const named = state.Parameters?.FunctionName;
      if (typeof named === 'string' && !findFunction(functions, named)) {
        missing.push(`${stateName} (invokes ${named}: add "${functionKey(named)}" to functions)`);
        continue;
      }
      handlers[stateName] = async (input) => {
        const { FunctionName, Payload } = input as { FunctionName?: string; Payload?: unknown };
        const fn = FunctionName ? findFunction(functions, FunctionName) : undefined;
        if (!fn) throw new Error(`${stateName} invokes ${FunctionName}, which has no local function`);
        const key = functionKey(FunctionName!);
        const result = await fn(Payload ?? {}, localLambdaContext(key, REGION()));
        // The lambda:invoke integration's result; definitions select `$.Payload`.
        return { ExecutedVersion: '$LATEST', Payload: (result ?? null) as Json, StatusCode: 200 };
      };
    } else if (LAMBDA_ARN.test(resource) || /^\$\{.+\}$/.test(resource)) {
      const fn = findFunction(functions, resource);
      if (!fn) {
        missing.push(`${stateName} (invokes ${resource}: add "${functionKey(resource)}" to functions)`);
        continue;
      }
      const key = functionKey(resource);
      handlers[stateName] = async (input) => ((await fn(input, localLambdaContext(key, REGION()))) ?? null) as Json;
    } else {
      missing.push(`${stateName} (calls ${resource}: add it to tasks)`);
    }
  }
  if (missing.length) {
    throw new Error(`State machine ${machine} has Task states without a local implementation: ${missing.join('; ')}`);
  }
  return handlers;
}
