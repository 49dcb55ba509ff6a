import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { getFile, relationshipWith, sendMessage, sendOnce, sentWithKey, type FileReference, type Message, type Participant } from '../../../../../lib/protocol';
import { binaryExists, binaryPropertyNames, missingBinaryError } from '../../../../shared/binary';
import { messageToJson, simplifyMessage } from '../../../../shared/output';
import { parseFileInput } from '../../../v1/actions/file/shared';
import { contentProperties, sendBasics, sendOptions, uploadAttachments } from '../../../v1/actions/message/send.operation';
import { peerLocator } from '../../../v1/helpers/fields';
import { item } from '../../../v1/helpers/utils';

/**
 * Send, v2: attachments are a collection (as in n8n's Gmail node) of binary fields of the input item
 * and of files that already exist — own files by ID, anyone's by reference, e.g. an attachment of a
 * received message forwarded without downloading it.
 */

const MAX_ATTACHMENTS = 20;

const properties: INodeProperties[] = [
  peerLocator('to', 'To', 'The recipient: a peer you have an active relationship with'),
  ...contentProperties,
  {
    displayName: 'Attachments',
    name: 'attachmentsUi',
    type: 'fixedCollection',
    placeholder: 'Add Attachment',
    typeOptions: { multipleValues: true },
    default: {},
    options: [
      {
        displayName: 'From Binary Data',
        name: 'attachmentsBinary',
        values: [
          {
            displayName: 'Input Binary Field',
            name: 'property',
            type: 'string',
            default: 'data',
            placeholder: 'data',
            hint: 'The name of a binary field of the input item; several separated by commas',
            description: 'Encrypted and uploaded as an enmeshed file before the message is sent',
          },
        ],
      },
      {
        displayName: 'Existing File',
        name: 'attachmentsFile',
        values: [
          {
            displayName: 'File',
            name: 'file',
            type: 'string',
            default: '',
            placeholder: 'FILxxxxxxxxxxxxxxxxx or a file reference',
            description:
              'ID of a file you uploaded, or the reference (truncated or link) of anyone\'s file — e.g. one of the attachmentReferences of a received message, sent on without downloading it',
          },
        ],
      },
    ],
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      ...sendOptions,
      {
        displayName: 'Full Inbox: Wait Up To (Seconds)',
        name: 'fullInboxWaitSeconds',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 3600 },
        default: 0,
        description:
          'The Platform refuses messages to a peer who has not fetched the last 20 (by default) you sent. How long to wait and retry for them to do so; 0 fails at once.',
      },
      {
        displayName: 'Idempotency Key',
        name: 'idempotencyKey',
        type: 'string',
        default: '',
        placeholder: 'e.g. {{ $json.orderId }}',
        description:
          'A value unique to what this message is about (e.g. an order ID). A second send with the same key to the same recipient returns the first message, with alreadySent: true, instead of sending again — also when a failed execution is retried or another worker runs it.',
      },
    ].sort((a, b) => a.displayName.localeCompare(b.displayName)) as INodeProperties[],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['message'], operation: ['send'] } }, properties);

interface AttachmentInputs {
  binaryNames: string[];
  files: (FileReference | string)[];
}

/** The attachments of item i as given, checked for form and presence before anything is uploaded. */
function attachmentInputs(ctx: IExecuteFunctions, i: number): AttachmentInputs {
  const ui = ctx.getNodeParameter('attachmentsUi', i, {}) as { attachmentsBinary?: { property?: string }[]; attachmentsFile?: { file?: string }[] };
  const binaryNames = (ui.attachmentsBinary ?? []).flatMap((b) => binaryPropertyNames(String(b.property ?? '')));
  for (const name of binaryNames) {
    if (!binaryExists(ctx, i, name)) throw missingBinaryError(ctx, i, name);
  }
  const files = (ui.attachmentsFile ?? []).map((f) => String(f.file ?? '').trim()).filter(Boolean).map((f) => parseFileInput(ctx, i, f));
  if (binaryNames.length + files.length > MAX_ATTACHMENTS) {
    throw new NodeOperationError(ctx.getNode(), `A message can carry at most ${MAX_ATTACHMENTS} attachments; this one has ${binaryNames.length + files.length}`, {
      itemIndex: i,
      description: 'Send the files in several messages, or put them into one archive first (e.g. with the Compression node).',
    });
  }
  return { binaryNames, files };
}

/** Existing files as references, each read and decrypted first: a wrong ID or key fails here, not at the peer. */
async function existingFiles(participant: Participant, files: (FileReference | string)[]): Promise<FileReference[]> {
  const references: FileReference[] = [];
  for (const file of files) references.push((await getFile(participant, file)).reference);
  return references;
}

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const { options, recipients, separate, content } = sendBasics(this, i, true);

  const groups = separate ? recipients.map((r) => [r]) : [recipients];
  const key = String(options.idempotencyKey ?? '').trim();
  const shape = (message: Message, alreadySent?: boolean): INodeExecutionData => {
    const json = options.simplify !== false ? simplifyMessage(message) : messageToJson(message);
    return item(key ? { ...json, alreadySent: !!alreadySent } : json, i);
  };

  // Nothing is uploaded before everything else is known to be fine (content, attachments, an active
  // relationship with every recipient), nor for a retry whose messages all went out: no orphaned files.
  const inputs = attachmentInputs(this, i);
  if (key) {
    const earlier = await Promise.all(groups.map((group) => sentWithKey(participant, key, group)));
    if (earlier.every((m) => m !== undefined)) return earlier.map((m) => shape(m!, true));
  }
  for (const recipient of recipients) await relationshipWith(participant, recipient, true);
  const existing = await existingFiles(participant, inputs.files);
  const uploaded = await uploadAttachments(this, participant, i, inputs.binaryNames, Number(options.attachmentExpiryDays ?? 365));
  const attachments = [...uploaded, ...existing];
  const fullInboxWaitMs = Math.max(0, Number(options.fullInboxWaitSeconds ?? 0)) * 1000;

  const out: INodeExecutionData[] = [];
  for (const group of groups) {
    const input = { recipients: group, content, attachments, mailRecipients: separate ? ('subset' as const) : ('exact' as const), fullInboxWaitMs };
    if (key) {
      const { message, alreadySent } = await sendOnce(participant, key, input);
      out.push(shape(message, alreadySent));
    } else {
      out.push(shape(await sendMessage(participant, input)));
    }
  }
  return out;
}
