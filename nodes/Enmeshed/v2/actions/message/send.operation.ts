import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { getFile, relationshipWith, sendMessage, type FileReference, type Participant } from '../../../../../lib/protocol';
import { binaryExists, binaryPropertyNames, missingBinaryError } from '../../../../shared/binary';
import { messageToJson, simplifyMessage } from '../../../../shared/output';
import { parseFileInput } from '../../../v1/actions/file/shared';
import { contentProperties, messageContent, sendOptions, uploadAttachments } from '../../../v1/actions/message/send.operation';
import { peerLocator } from '../../../v1/helpers/fields';
import { addressList, item, locatorValue, requireAddress } from '../../../v1/helpers/utils';

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
    options: sendOptions,
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
  const to = requireAddress(this, locatorValue(this, 'to', i), i, 'To');
  const options = this.getNodeParameter('options', i, {}) as IDataObject;
  const cc = addressList(String(options.cc ?? '')).filter((a) => a !== to);
  for (const address of cc) requireAddress(this, address, i, 'CC');
  const recipients = [to, ...cc];
  const separate = options.separateMessages !== false;
  const content = messageContent(this, i, to, cc, options);

  // Nothing is uploaded before everything else is known to be fine (content, attachments, an active
  // relationship with every recipient): no orphaned files.
  const inputs = attachmentInputs(this, i);
  for (const recipient of recipients) await relationshipWith(participant, recipient, true);
  const existing = await existingFiles(participant, inputs.files);
  const uploaded = await uploadAttachments(this, participant, i, inputs.binaryNames, Number(options.attachmentExpiryDays ?? 365));
  const attachments = [...uploaded, ...existing];

  const groups = separate ? recipients.map((r) => [r]) : [recipients];
  const out: INodeExecutionData[] = [];
  for (const group of groups) {
    const sent = await sendMessage(participant, { recipients: group, content, attachments, mailRecipients: separate ? 'subset' : 'exact' });
    out.push(item(options.simplify !== false ? simplifyMessage(sent) : messageToJson(sent), i));
  }
  return out;
}
