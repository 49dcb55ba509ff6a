import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/**
 * The Operation selector of a resource in v2: v1's, with options changed or added (same value
 * replaces, a new value is added), sorted by name as n8n's lint wants.
 */
export function operationSelector(v1: INodeProperties[], changed: INodePropertyOptions[]): INodeProperties {
  const selector = v1.find((p) => p.name === 'operation');
  if (!selector?.options) throw new Error('the v1 resource has no Operation selector');
  const byValue = new Map((selector.options as INodePropertyOptions[]).map((o) => [o.value, o]));
  for (const option of changed) byValue.set(option.value, option);
  return { ...selector, options: [...byValue.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}
