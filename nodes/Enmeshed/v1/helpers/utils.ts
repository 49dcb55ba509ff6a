import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { addressProblem } from '../../../../lib/crypto';
import type { PasswordInput } from '../../../../lib/protocol';

export function item(json: IDataObject, itemIndex: number, binary?: INodeExecutionData['binary']): INodeExecutionData {
  const out: INodeExecutionData = { json, pairedItem: { item: itemIndex } };
  if (binary && Object.keys(binary).length) out.binary = binary;
  return out;
}

/** A resource-locator or plain string parameter as its value. */
export function locatorValue(ctx: IExecuteFunctions, name: string, itemIndex: number): string {
  const raw = ctx.getNodeParameter(name, itemIndex, '', { extractValue: true }) as unknown;
  return String(raw ?? '').trim();
}

/** An ID parameter in the Platform's format (prefix + 17 letters or digits), or a clear error. */
export function requireId(ctx: IExecuteFunctions, name: string, i: number, prefix: 'MSG' | 'REL' | 'RLT' | 'FIL', label: string): string {
  const value = String(ctx.getNodeParameter(name, i, '', { extractValue: true }) ?? '').trim();
  if (!new RegExp(`^${prefix}[A-Za-z0-9]{17}$`).test(value)) {
    throw new NodeOperationError(ctx.getNode(), `${label} "${value}" is not a valid ID`, {
      itemIndex: i,
      description: `A ${label} looks like ${prefix} followed by 17 letters or digits. Check the expression that fills it.`,
    });
  }
  return value;
}

/** An enmeshed address given in `label` of item i, or a clear error saying what is wrong with it. */
export function requireAddress(ctx: IExecuteFunctions, value: string, i: number, label: string): string {
  const problem = addressProblem(value);
  if (problem) {
    throw new NodeOperationError(ctx.getNode(), `${label} is not an enmeshed address`, {
      itemIndex: i,
      description: `${problem[0].toUpperCase()}${problem.slice(1)}. Pick the peer from the list, or check the expression that fills it.`,
    });
  }
  return value;
}

/**
 * A JSON parameter as a value: n8n hands it over parsed or as text depending on how it was filled.
 * Invalid JSON — or, with `requireObject`, anything but an object — is a clear error showing `example`.
 */
export function jsonParameter(ctx: IExecuteFunctions, name: string, i: number, example: string, requireObject = true): unknown {
  const raw = ctx.getNodeParameter(name, i) as unknown;
  let value: unknown = raw;
  let valid = true;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      valid = false;
    }
  }
  if (valid && requireObject) valid = !!value && typeof value === 'object' && !Array.isArray(value);
  if (!valid) {
    throw new NodeOperationError(ctx.getNode(), requireObject ? 'Content (JSON) must be a JSON object' : 'Content (JSON) is not valid JSON', {
      itemIndex: i,
      description: `e.g. ${example}`,
    });
  }
  return value;
}

export function addressList(value: string): string[] {
  return value
    .split(/[,;\s]+/)
    .map((a) => a.trim())
    .filter(Boolean);
}

export function daysFromNow(days: number, now = new Date()): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString();
}


/**
 * The protection an Options collection asks for: a PIN (4 to 16 digits, what the enmeshed App asks
 * for), else a password, else none.
 */
export function passwordProtection(ctx: IExecuteFunctions, i: number, options: IDataObject): PasswordInput | undefined {
  const pin = String(options.pin ?? '');
  const password = String(options.password ?? '');
  if (pin && !/^\d{4,16}$/.test(pin)) {
    throw new NodeOperationError(ctx.getNode(), 'The PIN must have 4 to 16 digits', { itemIndex: i, description: 'The enmeshed App only asks for PINs of 4 to 16 digits.' });
  }
  if (pin) return { password: pin, passwordType: `pin${pin.length}` };
  return password ? { password, passwordType: 'pw' } : undefined;
}
