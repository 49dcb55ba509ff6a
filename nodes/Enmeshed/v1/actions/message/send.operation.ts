import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { buildMail, checkRecipients, relationshipWith, sendMessage, toMessageContent, uploadFile, type BodyFormat, type FileReference, type MessageContent, type Participant } from '../../../../../lib/protocol';
import { binaryExists, binaryPropertyNames, missingBinaryError, readBinary } from '../../../../shared/binary';
import { TRANSFERS_AT_ONCE, eachThrough, limiter } from '../../../../shared/limited';
import { messageToJson, simplifyMessage } from '../../../../shared/output';
import { peerLocator, simplifyField } from '../../helpers/fields';
import { addressList, daysFromNow, item, jsonParameter, locatorValue, requireAddress } from '../../helpers/utils';

/** Content type, subject, body, JSON: the same in every version of Send. */
export const contentProperties: INodeProperties[] = [
  {
    displayName: 'Content',
    name: 'contentType',
    type: 'options',
    noDataExpression: true,
    default: 'mail',
    options: [
      { name: 'Mail', value: 'mail', description: 'Subject and body, shown as a message in the enmeshed App' },
      { name: 'JSON', value: 'json', description: 'Any content object with an @type (without one it is sent as ArbitraryMessageContent)' },
    ],
  },
  {
    displayName: 'Subject',
    name: 'subject',
    type: 'string',
    default: '',
    required: true,
    displayOptions: { show: { contentType: ['mail'] } },
  },
  {
    displayName: 'Body',
    name: 'body',
    type: 'string',
    typeOptions: { rows: 5 },
    default: '',
    displayOptions: { show: { contentType: ['mail'] } },
  },
  {
    displayName: 'Content (JSON)',
    name: 'jsonContent',
    type: 'json',
    default: '{\n  "@type": "ArbitraryMessageContent",\n  "value": {}\n}',
    required: true,
    displayOptions: { show: { contentType: ['json'] } },
  },
];

/** The options every version of Send has. */
export const sendOptions: INodeProperties[] = [
  {
    displayName: 'Attachment Expiry (Days)',
    name: 'attachmentExpiryDays',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 365,
    description: 'How long the Platform keeps the attachments',
  },
  {
    displayName: 'Body Format',
    name: 'bodyFormat',
    type: 'options',
    default: 'PlainText',
    options: [
      { name: 'Plain Text', value: 'PlainText' },
      { name: 'Markdown', value: 'Markdown' },
    ],
    displayOptions: { show: { '/contentType': ['mail'] } },
  },
  {
    displayName: 'CC',
    name: 'cc',
    type: 'string',
    default: '',
    placeholder: 'did:e:…, did:e:…',
    description: 'More recipients (addresses with an active relationship), comma-separated. They appear in the Mail\'s cc.',
  },
  {
    displayName: 'One Message per Recipient',
    name: 'separateMessages',
    type: 'boolean',
    default: true,
    description:
      'Whether to send one message per recipient (a stock Backbone accepts one recipient per message) instead of a single message to all',
  },
  simplifyField,
];

const properties: INodeProperties[] = [
  peerLocator('to', 'To', 'The recipient: a peer you have an active relationship with'),
  ...contentProperties,
  {
    displayName: 'Attachments',
    name: 'attachments',
    type: 'string',
    default: '',
    placeholder: 'data, invoice',
    description:
      'Names of the binary properties of the input item to send as attachments, comma-separated. Each is encrypted and uploaded as an enmeshed file first.',
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: sendOptions,
  },
];

export const description = updateDisplayOptions({ show: { resource: ['message'], operation: ['send'] } }, properties);

/**
 * Encrypts and uploads the named binary properties of item i, a few at a time (each upload is a
 * round trip to the Platform); the references keep the order of the names. All are waited for; if
 * any fails, the first failure in that order is thrown.
 */
export async function uploadAttachments(ctx: IExecuteFunctions, participant: Participant, i: number, names: string[], days: number): Promise<FileReference[]> {
  return eachThrough(limiter(TRANSFERS_AT_ONCE), names, async (name) => {
    const { data, meta } = await readBinary(ctx, i, name);
    const stored = await uploadFile(participant, {
      content: data,
      filename: meta.fileName ?? name,
      mimetype: meta.mimeType || 'application/octet-stream',
      expiresAt: daysFromNow(days),
    });
    return stored.reference;
  });
}

/** The content of item i: a Mail to `to` with `cc`, or the JSON given. */
function messageContent(ctx: IExecuteFunctions, i: number, to: string, cc: string[], options: IDataObject): MessageContent {
  if (ctx.getNodeParameter('contentType', i) === 'mail') {
    return buildMail({
      to: [to],
      cc,
      subject: ctx.getNodeParameter('subject', i) as string,
      body: ctx.getNodeParameter('body', i, '') as string,
      bodyFormat: (options.bodyFormat as BodyFormat | undefined) ?? 'PlainText',
    });
  }
  // Any JSON: a value without an @type is sent as ArbitraryMessageContent.
  return toMessageContent(jsonParameter(ctx, 'jsonContent', i, '{"@type":"ArbitraryMessageContent","value":{}}', false));
}

/**
 * What every version of Send reads first: the options, the recipients, the content. v1 leaves the
 * address checks to the Mail and the send (their messages name the field and the problem); v2 checks
 * each address here first (`checkAddresses`), as a NodeOperationError naming the parameter.
 */
export function sendBasics(
  ctx: IExecuteFunctions,
  i: number,
  checkAddresses = false,
): { options: IDataObject; recipients: string[]; separate: boolean; content: MessageContent } {
  const given = locatorValue(ctx, 'to', i);
  const to = checkAddresses ? requireAddress(ctx, given, i, 'To') : given;
  const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
  const cc = addressList(String(options.cc ?? '')).filter((a) => a !== to);
  if (checkAddresses) for (const address of cc) requireAddress(ctx, address, i, 'CC');
  return { options, recipients: [to, ...cc], separate: options.separateMessages !== false, content: messageContent(ctx, i, to, cc, options) };
}

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const { options, recipients, separate, content } = sendBasics(this, i);

  // Nothing is uploaded before everything else is known to be fine (content, every binary property,
  // an active relationship with every recipient): no orphaned files.
  const names = binaryPropertyNames(this.getNodeParameter('attachments', i, '') as string);
  for (const name of names) {
    if (!binaryExists(this, i, name)) throw missingBinaryError(this, i, name);
  }
  checkRecipients(participant, recipients);
  for (const recipient of recipients) await relationshipWith(participant, recipient, true);
  const attachments = await uploadAttachments(this, participant, i, names, Number(options.attachmentExpiryDays ?? 365));

  const groups = separate ? recipients.map((r) => [r]) : [recipients];
  const out: INodeExecutionData[] = [];
  for (const group of groups) {
    const sent = await sendMessage(participant, { recipients: group, content, attachments, mailRecipients: separate ? 'subset' : 'exact' });
    const simplify = options.simplify !== false;
    out.push(item(simplify ? simplifyMessage(sent) : messageToJson(sent), i));
  }
  return out;
}
