import { NodeOperationError, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { IDENTITY_ATTRIBUTE_VALUE_TYPES, VALUE_TYPES } from '../../../../../lib/protocol';

/** Parameters and checks the Request and Attribute operations share. */

const label = (type: string): string => type.replace(/([a-z])([A-Z])/g, '$1 $2').replace('E Mail', 'E-Mail');

/** The identity attribute value types as options (e.g. "E-Mail Address" → EMailAddress). */
export const identityValueTypeOptions = [...IDENTITY_ATTRIBUTE_VALUE_TYPES]
  .map((t) => ({ name: label(t), value: t }))
  .sort((a, b) => a.name.localeCompare(b.name));

/** Value types whose value is one text (the rest take their fields as a JSON object). */
export const SIMPLE_VALUE_TYPES = Object.keys(VALUE_TYPES).filter((t) => VALUE_TYPES[t].fields.length === 1 && VALUE_TYPES[t].fields[0].name === 'value');

export const VALUE_HINT = 'The text (e.g. an e-mail address); for types with several fields a JSON object, e.g. a Street Address {"recipient":"Jane Doe","street":"Hauptstr.","houseNo":"1","zipCode":"10115","city":"Berlin","country":"DE"}';

/**
 * A value as the user typed it: a JSON object for types with several fields (or any text that looks
 * like one), else the text. The lib checks it against the value type.
 */
export function valueInput(raw: unknown, valueType: string): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  if (!SIMPLE_VALUE_TYPES.includes(valueType) || text.startsWith('{')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/** A Request id (REQ…) or the id of the message that carried it (MSG…). */
export function requireRequestId(ctx: IExecuteFunctions, name: string, i: number): string {
  const value = String(ctx.getNodeParameter(name, i, '') ?? '').trim();
  if (!/^(REQ|MSG)[A-Za-z0-9]{17}$/.test(value)) {
    throw new NodeOperationError(ctx.getNode(), `Request ID "${value}" is not a valid ID`, {
      itemIndex: i,
      description: 'A Request ID looks like REQ followed by 17 letters or digits; the ID of the message that carried it (MSG…) works too. Check the expression that fills it.',
    });
  }
  return value;
}

/** A JSON parameter parsed (n8n passes it as text or parsed), or a clear error naming it. */
export function jsonInput(ctx: IExecuteFunctions, name: string, i: number, what: string, example: string): unknown {
  const raw = ctx.getNodeParameter(name, i) as unknown;
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new NodeOperationError(ctx.getNode(), `${what} is not valid JSON`, { itemIndex: i, description: `${(error as Error).message}. e.g. ${example}` });
  }
}

export const requestIdField = (description: string): INodeProperties => ({
  displayName: 'Request ID',
  name: 'requestId',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'REQxxxxxxxxxxxxxxxxx',
  description,
});
