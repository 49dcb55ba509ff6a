/**
 * Hand-made n8n execution contexts for the nodes of this package, as n8n's guide recommends for
 * community nodes (n8n-core's NodeTestHarness and its real contexts are not published).
 *
 * What is copied from n8n 2.41 (n8n-core / n8n-workflow), because the nodes rely on it:
 *  - parameters: the node's stored parameters are completed with the defaults of every DISPLAYED
 *    property and stripped of hidden ones (NodeHelpers.getNodeParameters, exactly what Workflow does
 *    before a node runs); getNodeParameter reads a dotted path ('options.cc'), returns a copy, falls
 *    back to `fallbackValue`, and throws "Could not get parameter" when neither exists;
 *    `extractValue` turns a resource-locator value `{ __rl, mode, value }` into its `value`;
 *  - binary data: assertBinaryData with n8n's two messages, getBinaryDataBuffer, prepareBinaryData
 *    (file name split like path.parse, fileType, fileExtension, pretty `fileSize`, numeric `bytes`)
 *    in the default (memory) mode — `data` is base64 — or in 'filesystem' mode, where `data` is only
 *    the marker "filesystem-v2" and the bytes sit behind `id` (catches nodes that read `.data`);
 *  - poll contexts: getWorkflowStaticData('node') returns ONE object, reused across calls;
 *    getMode() / getActivationMode() as n8n sets them;
 *  - trigger contexts: emit() records the static data as n8n saves it on every emit, then the items;
 *    saveFailedExecution() and emitError() are recorded apart (the second deactivates in n8n).
 */
import { randomUUID } from 'node:crypto';
import { parse as parsePath } from 'node:path';
import {
  NodeHelpers,
  NodeOperationError,
  deepCopy,
  fileTypeFromMimeType,
  isResourceLocatorValue,
  type IBinaryData,
  type ICredentialDataDecryptedObject,
  type ICredentialTestFunctions,
  type IDataObject,
  type IExecuteFunctions,
  type IGetNodeParameterOptions,
  type ILoadOptionsFunctions,
  type INode,
  type INodeExecutionData,
  type INodeParameters,
  type INodeProperties,
  type INodeTypeDescription,
  type IPollFunctions,
  type ITriggerFunctions,
  type Logger,
} from 'n8n-workflow';
import { Enmeshed } from '../../nodes/Enmeshed/Enmeshed.node';
import { EnmeshedTrigger } from '../../nodes/EnmeshedTrigger/EnmeshedTrigger.node';

// ------------------------------------------------------------------------------------------------
// Binary data
// ------------------------------------------------------------------------------------------------

/** 'default': bytes as base64 in `data` (n8n's memory mode). 'filesystem': `data` is a marker, bytes behind `id`. */
export type BinaryMode = 'default' | 'filesystem';

const FILESYSTEM_MARKER = 'filesystem-v2';
/** The "binary data store" of the filesystem mode, shared by every context (like n8n's storage folder). */
const store = new Map<string, Buffer>();

/** pretty-bytes, as n8n shows `fileSize` ("9 B", "1.54 kB", "5.5 MB"). */
export function prettyBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  do {
    value /= 1000;
    unit++;
  } while (value >= 1000 && unit < units.length - 1);
  return `${Number(value.toPrecision(3))} ${units[unit]}`;
}

const EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/json': 'json',
  'application/octet-stream': 'bin',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'text/plain': 'txt',
  'text/csv': 'csv',
};

/** n8n's prepareBinaryData (n8n-core binary-helper-functions) for a Buffer, in the given mode. */
export function prepareBinary(buffer: Buffer, filePath?: string, mimeType?: string, mode: BinaryMode = 'default'): IBinaryData {
  const mime = mimeType || 'text/plain'; // n8n falls back to text/plain when nothing is known
  const binary: IBinaryData = { mimeType: mime, fileType: fileTypeFromMimeType(mime), fileExtension: EXTENSIONS[mime.split(';')[0]], data: '' };
  if (filePath) {
    const parts = parsePath(filePath.includes('?') ? filePath.split('?')[0] : filePath);
    if (parts.dir !== '') binary.directory = parts.dir;
    binary.fileName = parts.base;
    const extension = parts.ext.slice(1);
    if (extension) binary.fileExtension = extension;
  }
  const bytes = Buffer.from(buffer);
  if (mode === 'filesystem') {
    const id = `${FILESYSTEM_MARKER}:workflows/1/executions/1/binary_data/${randomUUID()}`;
    store.set(id, bytes);
    binary.id = id;
    binary.data = FILESYSTEM_MARKER;
  } else {
    binary.data = bytes.toString('base64');
  }
  binary.fileSize = prettyBytes(bytes.length);
  binary.bytes = bytes.length;
  return binary;
}

/** The bytes of a binary entry, in either mode (what n8n's BinaryDataService.getAsBuffer does). */
export function binaryBuffer(binary: IBinaryData): Buffer {
  if (binary.id) {
    const bytes = store.get(binary.id);
    if (!bytes) throw new Error(`No stored binary data for ${binary.id}`);
    return Buffer.from(bytes);
  }
  return Buffer.from(binary.data, 'base64');
}

export interface InputFile {
  data: Buffer | string;
  fileName?: string;
  mimeType?: string;
}

/** An input item with binary properties, as a previous node (Read File, HTTP Request…) would emit it. */
export function binaryItem(json: IDataObject, files: Record<string, InputFile>, mode: BinaryMode = 'default'): INodeExecutionData {
  const binary: Record<string, IBinaryData> = {};
  for (const [property, file] of Object.entries(files)) {
    binary[property] = prepareBinary(Buffer.isBuffer(file.data) ? file.data : Buffer.from(file.data, 'utf8'), file.fileName, file.mimeType, mode);
  }
  return { json, binary };
}

function returnJsonArray(jsonData: IDataObject | IDataObject[]): INodeExecutionData[] {
  const list = Array.isArray(jsonData) ? jsonData : [jsonData];
  return list.map((json) => (json && typeof json === 'object' && 'json' in json ? (json as unknown as INodeExecutionData) : { json }));
}

function binaryHelpers(node: () => INode, items: () => INodeExecutionData[], mode: BinaryMode) {
  /** n8n-core assertBinaryData: the two messages and descriptions n8n uses. */
  const assertBinaryData = (itemIndex: number, parameterData: string | IBinaryData): IBinaryData => {
    if (typeof parameterData !== 'string') return parameterData;
    const binary = items()[itemIndex]?.binary;
    if (binary === undefined) {
      throw new NodeOperationError(
        node(),
        `This operation expects the node's input data to contain a binary file '${parameterData}', but none was found [item ${itemIndex}]`,
        { itemIndex, description: 'Make sure that the previous node outputs a binary file' },
      );
    }
    const data = binary[parameterData];
    if (data === undefined) {
      throw new NodeOperationError(node(), `The item has no binary field '${parameterData}' [item ${itemIndex}]`, {
        itemIndex,
        description: 'Check that the parameter where you specified the input binary field name is correct, and that it matches a field in the binary input',
      });
    }
    return data;
  };
  return {
    assertBinaryData,
    getBinaryDataBuffer: async (itemIndex: number, parameterData: string | IBinaryData): Promise<Buffer> =>
      binaryBuffer(assertBinaryData(itemIndex, parameterData)),
    prepareBinaryData: async (binaryData: Buffer, filePath?: string, mimeType?: string): Promise<IBinaryData> => {
      if (!Buffer.isBuffer(binaryData)) throw new Error('This test context takes Buffers only');
      return prepareBinary(binaryData, filePath, mimeType, mode);
    },
    binaryToBuffer: async (body: Buffer): Promise<Buffer> => Buffer.from(body),
    returnJsonArray,
    createDeferredPromise: () => {
      throw new Error('not available in the test context');
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Parameters
// ------------------------------------------------------------------------------------------------

/** Parameters as a user sets them; a function gives per-item values (what expressions do in n8n). */
export type ParameterSource = INodeParameters | ((itemIndex: number) => INodeParameters);

/** A resource-locator value as the n8n editor stores it. */
export function rl(mode: string, value: string): INodeParameters {
  return { __rl: true, mode, value };
}

function findProperty(description: INodeTypeDescription | undefined, name: string): INodeProperties | undefined {
  return description?.properties.find((p) => p.name === name.split('.')[0]);
}

/** Adds `__rl: true` to resource-locator values given as plain `{ mode, value }`. */
function normalise(description: INodeTypeDescription | undefined, raw: INodeParameters): INodeParameters {
  const out: INodeParameters = { ...raw };
  for (const [name, value] of Object.entries(out)) {
    const isLocator = description?.properties.some((p) => p.name === name && p.type === 'resourceLocator');
    if (isLocator && value && typeof value === 'object' && !Array.isArray(value) && 'mode' in value && 'value' in value && !('__rl' in value)) {
      out[name] = { __rl: true, ...(value as INodeParameters) };
    }
  }
  return out;
}

/** What n8n's Workflow does to a node's parameters before it runs: defaults in, hidden parameters out. */
export function resolveParameters(description: INodeTypeDescription | undefined, raw: INodeParameters, typeVersion = 1): INodeParameters {
  const normalised = normalise(description, raw);
  if (!description) return normalised;
  return NodeHelpers.getNodeParameters(description.properties, normalised, true, false, { typeVersion }, description) ?? {};
}

function getPath(source: INodeParameters, path: string): unknown {
  let current: unknown = source;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function parameterReader(description: INodeTypeDescription | undefined, source: ParameterSource, typeVersion: number) {
  const cache = new Map<number, INodeParameters>();
  const forItem = (itemIndex: number): INodeParameters => {
    let resolved = cache.get(itemIndex);
    if (!resolved) {
      resolved = resolveParameters(description, typeof source === 'function' ? source(itemIndex) : source, typeVersion);
      cache.set(itemIndex, resolved);
    }
    return resolved;
  };
  const read = (name: string, itemIndex: number, fallbackValue?: unknown, options?: IGetNodeParameterOptions): unknown => {
    const found = getPath(forItem(itemIndex), name);
    const value = found === undefined ? fallbackValue : found;
    // n8n-core: `get(node.parameters, name, fallback)`, then "Could not get parameter" when still undefined.
    if (value === undefined) throw new Error(`Could not get parameter "${name}"`);
    const out: unknown = value !== null && typeof value === 'object' ? deepCopy(value) : value;
    if (options?.extractValue && findProperty(description, name)?.type === 'resourceLocator' && isResourceLocatorValue(out)) {
      return out.value;
    }
    return out;
  };
  return { read, forItem };
}

// ------------------------------------------------------------------------------------------------
// Node, logger, credentials
// ------------------------------------------------------------------------------------------------

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  meta?: unknown;
}

export function testLogger(entries: LogEntry[]): Logger {
  const log = (level: LogEntry['level']) => (message: string, meta?: unknown) => void entries.push({ level, message, meta });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Logger;
}

function makeNode(name: string, type: string, typeVersion: number, parameters: INodeParameters): INode {
  return {
    id: randomUUID(),
    name,
    type,
    typeVersion,
    position: [240, 300],
    parameters,
    credentials: { enmeshedApi: { id: 'cred-1', name: 'Enmeshed account' } },
  };
}

function credentialGetter(node: () => INode, credentials: ICredentialDataDecryptedObject | undefined) {
  return async <T = ICredentialDataDecryptedObject>(type: string): Promise<T> => {
    if (type !== 'enmeshedApi') throw new NodeOperationError(node(), `Node type does not have credentials of type "${type}" defined`);
    if (!credentials) throw new NodeOperationError(node(), 'Node does not have any credentials set');
    return deepCopy(credentials) as unknown as T;
  };
}

export type EnmeshedVersion = 1 | 2;
const enmeshedDescription = (version: EnmeshedVersion): INodeTypeDescription => new Enmeshed().nodeVersions[version].description;

// ------------------------------------------------------------------------------------------------
// IExecuteFunctions
// ------------------------------------------------------------------------------------------------

export interface ExecuteContextOptions {
  parameters: ParameterSource;
  /** Input items (default: one empty item, as after a Manual Trigger). */
  items?: INodeExecutionData[];
  credentials?: ICredentialDataDecryptedObject;
  continueOnFail?: boolean;
  binaryMode?: BinaryMode;
  /** Default: the Enmeshed node of `version`. */
  description?: INodeTypeDescription;
  /** Version of the Enmeshed node (default 1). */
  version?: EnmeshedVersion;
  nodeName?: string;
}

export type TestExecuteFunctions = IExecuteFunctions & { logs: LogEntry[] };

export function executeContext(options: ExecuteContextOptions): TestExecuteFunctions {
  const typeVersion = options.version ?? 1;
  const description = options.description ?? enmeshedDescription(typeVersion);
  const items: INodeExecutionData[] = deepCopy(options.items ?? [{ json: {} }]);
  const params = parameterReader(description, options.parameters, typeVersion);
  const node = makeNode(options.nodeName ?? 'Enmeshed', 'n8n-nodes-enmeshed.enmeshed', typeVersion, params.forItem(0));
  const logs: LogEntry[] = [];
  const ctx = {
    logs,
    logger: testLogger(logs),
    getNode: () => node,
    getInputData: (inputIndex = 0) => (inputIndex === 0 ? items : []),
    getNodeParameter: (name: string, itemIndex: number, fallbackValue?: unknown, opts?: IGetNodeParameterOptions) =>
      params.read(name, itemIndex, fallbackValue, opts),
    getCredentials: credentialGetter(() => node, options.credentials),
    continueOnFail: () => options.continueOnFail ?? false,
    getMode: () => 'manual',
    getExecutionId: () => 'test-execution',
    getWorkflow: () => ({ id: 'test-workflow', name: 'Test workflow', active: false }),
    getTimezone: () => 'UTC',
    getInstanceId: () => 'test-instance',
    getExecutionCancelSignal: () => undefined,
    onExecutionCancellation: () => undefined,
    isToolExecution: () => false,
    helpers: binaryHelpers(() => node, () => items, options.binaryMode ?? 'default'),
  };
  return ctx as unknown as TestExecuteFunctions;
}

// ------------------------------------------------------------------------------------------------
// IPollFunctions
// ------------------------------------------------------------------------------------------------

export interface PollContextOptions {
  parameters: INodeParameters;
  credentials?: ICredentialDataDecryptedObject;
  /** 'trigger' for a published workflow, 'manual' for "Fetch Test Event". */
  mode: 'trigger' | 'manual';
  /** The workflow's static data of this node; the SAME object is returned on every call. */
  staticData?: IDataObject;
  activationMode?: 'init' | 'activate' | 'update' | 'manual';
  binaryMode?: BinaryMode;
  description?: INodeTypeDescription;
  nodeName?: string;
}

export type TestPollFunctions = IPollFunctions & { logs: LogEntry[]; staticData: IDataObject };

/** What poll and trigger contexts share: node, parameters, credential, modes, the workflow's static data, logs. */
function workflowTriggerFunctions(options: PollContextOptions, node: INode, params: ReturnType<typeof parameterReader>) {
  const staticData: IDataObject = options.staticData ?? {};
  const globalData: IDataObject = {};
  const logs: LogEntry[] = [];
  return {
    logs,
    staticData,
    logger: testLogger(logs),
    getNode: () => node,
    getNodeParameter: (name: string, fallbackValue?: unknown, opts?: IGetNodeParameterOptions) => params.read(name, 0, fallbackValue, opts),
    getCredentials: credentialGetter(() => node, options.credentials),
    getMode: () => options.mode,
    getActivationMode: () => options.activationMode ?? (options.mode === 'manual' ? 'manual' : 'activate'),
    getWorkflowStaticData: (type: string) => (type === 'node' ? staticData : globalData),
    getWorkflow: () => ({ id: 'test-workflow', name: 'Test workflow', active: options.mode === 'trigger' }),
    getTimezone: () => 'UTC',
    getInstanceId: () => 'test-instance',
    helpers: binaryHelpers(() => node, () => [], options.binaryMode ?? 'default'),
  };
}

export function pollContext(options: PollContextOptions): TestPollFunctions {
  const description = options.description ?? new EnmeshedTrigger().description;
  const params = parameterReader(description, options.parameters, 1);
  const node = makeNode(options.nodeName ?? 'Enmeshed Trigger', 'n8n-nodes-enmeshed.enmeshedTrigger', 1, params.forItem(0));
  const ctx = {
    ...workflowTriggerFunctions(options, node, params),
    getPollBudgetMs: () => 300_000,
    __emit: () => {
      throw new Error('poll() must return its items, not emit them');
    },
    __emitError: () => {
      throw new Error('poll() must throw, not emit errors');
    },
  };
  return ctx as unknown as TestPollFunctions;
}

// ------------------------------------------------------------------------------------------------
// ILoadOptionsFunctions and ICredentialTestFunctions
// ------------------------------------------------------------------------------------------------

export interface LoadOptionsContextOptions {
  credentials?: ICredentialDataDecryptedObject;
  /** The node's current parameters in the editor. */
  parameters?: INodeParameters;
  version?: EnmeshedVersion;
}

export function loadOptionsContext(options: LoadOptionsContextOptions): ILoadOptionsFunctions & { logs: LogEntry[] } {
  const version = options.version ?? 1;
  const description = enmeshedDescription(version);
  const params = parameterReader(description, options.parameters ?? {}, version);
  const node = makeNode('Enmeshed', 'n8n-nodes-enmeshed.enmeshed', version, params.forItem(0));
  const logs: LogEntry[] = [];
  const ctx = {
    logs,
    logger: testLogger(logs),
    getNode: () => node,
    getNodeParameter: (name: string, fallbackValue?: unknown, opts?: IGetNodeParameterOptions) => params.read(name, 0, fallbackValue, opts),
    getCurrentNodeParameter: (name: string) => getPath(params.forItem(0), name),
    getCurrentNodeParameters: () => params.forItem(0),
    getCredentials: credentialGetter(() => node, options.credentials),
    getMode: () => 'internal',
    getTimezone: () => 'UTC',
    getWorkflow: () => ({ id: 'test-workflow', name: 'Test workflow', active: false }),
    helpers: {
      httpRequest: () => {
        throw new Error('the nodes of this package talk to the Platform through lib/, not n8n helpers');
      },
    },
  };
  return ctx as unknown as ILoadOptionsFunctions & { logs: LogEntry[] };
}

export function credentialTestContext(): ICredentialTestFunctions & { logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  return {
    logs,
    logger: testLogger(logs),
    helpers: {
      request: () => {
        throw new Error('the credential test talks to the Platform through lib/, not n8n helpers');
      },
    },
  } as unknown as ICredentialTestFunctions & { logs: LogEntry[] };
}

// ------------------------------------------------------------------------------------------------
// ITriggerFunctions
// ------------------------------------------------------------------------------------------------

/** As for a poll context; mode 'manual' is the editor's "Listen for test event". */
export interface TriggerContextOptions extends Omit<PollContextOptions, 'description'> {
  description: INodeTypeDescription;
  nodeType: string;
}

export type TestTriggerFunctions = ITriggerFunctions & {
  logs: LogEntry[];
  staticData: IDataObject;
  /** What each emit() passed, in order. */
  emitted: INodeExecutionData[][][];
  /** The static data as n8n saves it on every emit (JSON, taken when emit is called). */
  saved: string[];
  /** Errors passed to saveFailedExecution (the workflow stays active) and emitError (n8n deactivates it). */
  failedExecutions: Error[];
  fatalErrors: Error[];
  /** Resolves with the next emit's data (or rejects after timeoutMs). */
  nextEmit(timeoutMs?: number): Promise<INodeExecutionData[][]>;
};

/**
 * A trigger() context as n8n-core's TriggerContext gives it: emit() saves the workflow's static data
 * (here: records it) and starts an execution; saveFailedExecution() records a failed execution;
 * emitError() deactivates the workflow. In manual mode n8n replaces emit/emitError after trigger()
 * returned (runTrigger in triggers-and-pollers.js) — the same functions here, recording as above.
 */
export function triggerContext(options: TriggerContextOptions): TestTriggerFunctions {
  const params = parameterReader(options.description, options.parameters, 1);
  const node = makeNode(options.nodeName ?? options.description.defaults.name ?? 'Trigger', options.nodeType, 1, params.forItem(0));
  const base = workflowTriggerFunctions(options, node, params);
  const { staticData, logs } = base;
  const emitted: INodeExecutionData[][][] = [];
  const saved: string[] = [];
  const failedExecutions: Error[] = [];
  const fatalErrors: Error[] = [];
  const waiters = new Set<(data: INodeExecutionData[][]) => void>();
  const ctx = {
    ...base,
    emitted,
    saved,
    failedExecutions,
    fatalErrors,
    emit: (data: INodeExecutionData[][]) => {
      saved.push(JSON.stringify(staticData));
      emitted.push(data);
      for (const w of [...waiters]) w(data);
    },
    saveFailedExecution: (error: Error) => void failedExecutions.push(error),
    emitError: (error: Error) => void fatalErrors.push(error),
    nextEmit: (timeoutMs = 5_000) =>
      new Promise<INodeExecutionData[][]>((resolve, reject) => {
        const done = (data: INodeExecutionData[][]) => {
          waiters.delete(done);
          clearTimeout(timer);
          resolve(data);
        };
        const timer = setTimeout(() => {
          waiters.delete(done);
          reject(new Error(`no emit within ${timeoutMs} ms; logs: ${JSON.stringify(logs.map((l) => l.message))}`));
        }, timeoutMs);
        waiters.add(done);
      }),
  };
  return ctx as unknown as TestTriggerFunctions;
}
