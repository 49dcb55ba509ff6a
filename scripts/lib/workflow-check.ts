import {
  NodeHelpers,
  type INode,
  type INodeParameters,
  type INodeProperties,
  type INodePropertyCollection,
  type INodePropertyOptions,
  type INodeTypeDescription,
  type NodeParameterValueType,
} from 'n8n-workflow';

/**
 * Checks a workflow JSON (as `n8n import:workflow` takes it) against node type descriptions, with
 * n8n's own parameter logic (NodeHelpers: what the editor shows and flags) plus what n8n does not
 * check: parameter names that no node version knows or that are hidden, option values that are not
 * among the options, collection and fixed-collection keys, resource-locator modes, credential types
 * and connections. Expressions (`=…`) are not evaluated. Returns the problems, empty when fine.
 */

export interface WorkflowConnection {
  node: string;
  type: string;
  index: number;
}

export interface WorkflowJson {
  id?: string;
  name: string;
  nodes: INode[];
  connections: Record<string, Record<string, Array<WorkflowConnection[] | null>>>;
  [key: string]: unknown;
}

export type DescribeNode = (type: string, version: number) => INodeTypeDescription | undefined;

export interface CheckOptions {
  /** Check the parameters of these node types only (the rest: connections and names only). */
  only?: (type: string) => boolean;
  /** Parameter names n8n adds to some node types at load time (e.g. `pollTimes` of polling triggers). */
  extraParameters?: (description: INodeTypeDescription) => string[];
}

const isExpression = (value: unknown): boolean => typeof value === 'string' && value.startsWith('=');

/** A description lookup over `n8n export:nodes` output (each entry one or several versions). */
export function describeFrom(descriptions: INodeTypeDescription[]): DescribeNode {
  return (type, version) =>
    descriptions.find((d) => d.name === type && (Array.isArray(d.version) ? d.version.includes(version) : d.version === version));
}

export function checkWorkflow(workflow: WorkflowJson, describe: DescribeNode, options: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const node of workflow.nodes) {
    if (names.has(node.name)) problems.push(`two nodes are named "${node.name}"`);
    names.add(node.name);
    if (node.id && ids.has(node.id)) problems.push(`two nodes have the id ${node.id}`);
    if (node.id) ids.add(node.id);
  }
  for (const [source, byType] of Object.entries(workflow.connections)) {
    if (!names.has(source)) problems.push(`a connection starts at a node that does not exist: "${source}"`);
    for (const [type, outputs] of Object.entries(byType)) {
      for (const output of outputs) {
        for (const target of output ?? []) {
          if (!names.has(target.node)) problems.push(`"${source}" connects to a node that does not exist: "${target.node}"`);
          if (target.type !== type) problems.push(`"${source}" → "${target.node}": connection type ${target.type} in a ${type} list`);
        }
      }
    }
  }
  for (const node of workflow.nodes) {
    if (options.only && !options.only(node.type)) continue;
    const description = describe(node.type, node.typeVersion);
    if (!description) {
      problems.push(`${node.name}: unknown node type ${node.type} version ${node.typeVersion}`);
      continue;
    }
    problems.push(...checkNode(node, description, options).map((p) => `${node.name}: ${p}`));
  }
  return problems;
}

export function checkNode(node: INode, description: INodeTypeDescription, options: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const extra = new Set(options.extraParameters?.(description) ?? []);
  const properties = description.properties.filter((p) => !extra.has(p.name));
  const parameters: INodeParameters = Object.fromEntries(Object.entries(node.parameters).filter(([key]) => !extra.has(key)));
  const probe: INode = { ...node, parameters };

  // What the editor flags (required parameters, resource locators, …).
  const issues = NodeHelpers.getNodeParametersIssues(properties, probe, description);
  if (issues) problems.push(...NodeHelpers.nodeIssuesToString(issues, probe));

  // Every parameter set must be one the node shows with these values.
  const shown = NodeHelpers.getNodeParameters(properties, parameters, true, false, probe, description) ?? {};
  for (const [key, value] of Object.entries(parameters)) {
    if (!(key in shown)) {
      const known = properties.some((p) => p.name === key);
      problems.push(known ? `parameter "${key}" is set but hidden by the other parameters` : `unknown parameter "${key}"`);
      continue;
    }
    const candidates = properties.filter((p) => p.name === key && NodeHelpers.displayParameter(parameters, p, probe, description));
    if (candidates.length === 0) continue;
    const errors = candidates.map((p) => checkValue(p, value, key));
    // Several versions of a property may share a name (displayOptions by @version): one must fit.
    if (errors.every((e) => e.length > 0)) problems.push(...errors[0]);
  }

  const credentialTypes = new Set((description.credentials ?? []).map((c) => c.name));
  for (const type of Object.keys(node.credentials ?? {})) {
    if (!credentialTypes.has(type)) problems.push(`credential type ${type} is not one of ${[...credentialTypes].join(', ') || '(none)'}`);
  }
  for (const type of credentialTypes) {
    const required = description.credentials?.find((c) => c.name === type)?.required;
    if (required && !node.credentials?.[type] && !(description.credentials ?? []).some((c) => c.displayOptions)) {
      problems.push(`credential ${type} is required but not set`);
    }
  }
  return problems;
}

function optionValues(property: INodeProperties): unknown[] | undefined {
  if (property.typeOptions?.loadOptionsMethod || property.typeOptions?.loadOptions) return undefined;
  return (property.options as INodePropertyOptions[] | undefined)?.map((o) => o.value);
}

function checkValue(property: INodeProperties, value: NodeParameterValueType | undefined, at: string): string[] {
  if (value === undefined || value === null || isExpression(value)) return [];
  const problems: string[] = [];
  switch (property.type) {
    case 'options': {
      const allowed = optionValues(property);
      if (allowed && !allowed.includes(value)) problems.push(`${at} = ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`);
      break;
    }
    case 'multiOptions': {
      const allowed = optionValues(property);
      if (!Array.isArray(value)) problems.push(`${at} must be a list`);
      else if (allowed) for (const v of value) if (!allowed.includes(v as never)) problems.push(`${at} contains ${JSON.stringify(v)}, not one of ${JSON.stringify(allowed)}`);
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at} must be true or false`);
      break;
    case 'number':
      if (typeof value !== 'number') problems.push(`${at} must be a number`);
      break;
    case 'string':
      if (typeof value !== 'string') problems.push(`${at} must be a string`);
      break;
    case 'resourceLocator': {
      const rl = value as { __rl?: boolean; mode?: string; value?: unknown };
      const modes = (property.modes ?? []).map((m) => m.name);
      if (typeof value !== 'object' || rl.__rl !== true) problems.push(`${at} must be a resource locator ({ __rl: true, mode, value })`);
      else if (!modes.includes(rl.mode ?? '')) problems.push(`${at}: mode ${JSON.stringify(rl.mode)} is not one of ${JSON.stringify(modes)}`);
      break;
    }
    case 'collection': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${at} must be an object`);
        break;
      }
      const children = (property.options ?? []) as INodeProperties[];
      for (const [key, child] of Object.entries(value)) {
        const matches = children.filter((c) => c.name === key);
        if (matches.length === 0) problems.push(`${at}.${key} is not an option (${children.map((c) => c.name).join(', ')})`);
        else if (matches.map((c) => checkValue(c, child as NodeParameterValueType, `${at}.${key}`)).every((e) => e.length > 0)) {
          problems.push(...checkValue(matches[0], child as NodeParameterValueType, `${at}.${key}`));
        }
      }
      break;
    }
    case 'fixedCollection': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${at} must be an object`);
        break;
      }
      const groups = (property.options ?? []) as INodePropertyCollection[];
      for (const [key, entries] of Object.entries(value)) {
        const group = groups.find((g) => g.name === key);
        if (!group) {
          problems.push(`${at}.${key} is not a group (${groups.map((g) => g.name).join(', ')})`);
          continue;
        }
        const list = property.typeOptions?.multipleValues ? entries : [entries];
        if (!Array.isArray(list)) {
          problems.push(`${at}.${key} must be a list`);
          continue;
        }
        list.forEach((entry, i) => {
          for (const [name, child] of Object.entries((entry ?? {}) as INodeParameters)) {
            const matches = group.values.filter((v) => v.name === name);
            if (matches.length === 0) problems.push(`${at}.${key}[${i}].${name} is not a field (${group.values.map((v) => v.name).join(', ')})`);
            else if (matches.map((c) => checkValue(c, child, `${at}.${key}[${i}].${name}`)).every((e) => e.length > 0)) {
              problems.push(...checkValue(matches[0], child, `${at}.${key}[${i}].${name}`));
            }
          }
        });
      }
      break;
    }
    default:
      break;
  }
  return problems;
}

interface SdkIssue {
  code: string;
  message: string;
  severity?: string;
}

/**
 * n8n's own workflow validation (`validateWorkflow` of @n8n/workflow-sdk, what n8n's AI workflow
 * builder checks its workflows with), from the n8n install in the cache, with the node types of
 * `n8n export:nodes`. Returns its errors and its non-informational warnings.
 */
export function validateWithN8n(n8nModules: string, workflow: WorkflowJson, descriptions: INodeTypeDescription[]): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded from the n8n install, not a dependency of ours
  const sdk = require(`${n8nModules}/@n8n/workflow-sdk`) as {
    validateWorkflow: (wf: unknown, options: unknown) => { errors: SdkIssue[]; warnings: SdkIssue[] };
  };
  const describe = describeFrom(descriptions);
  const provider = {
    getByName: (type: string) => {
      const d = descriptions.find((x) => x.name === type);
      return d ? { description: d } : undefined;
    },
    getByNameAndVersion: (type: string, version?: number) => {
      const d = version === undefined ? descriptions.find((x) => x.name === type) : describe(type, version);
      return d ? { description: d } : undefined;
    },
    getKnownTypes: () => ({}),
  };
  const result = sdk.validateWorkflow(workflow, { nodeTypesProvider: provider });
  return [...result.errors, ...result.warnings.filter((w) => w.severity !== 'informational')].map((i) => `${i.code}: ${i.message}`);
}
