import type { IDataObject, INodeExecutionData, INodeType, INodeTypeDescription, IPollFunctions, ITriggerFunctions } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { attachmentsToBinary } from '../shared/binary';
import { TRANSFERS_AT_ONCE, limiter, settle, type Settled } from '../shared/limited';
import { toNodeError } from '../shared/errors';
import { messageToJson, relationshipToJson, simplifyMessage } from '../shared/output';
import { incomingRequestToJson, takenAnswerToJson } from '../shared/request-output';
import { participantFor } from '../shared/session';
import { enmeshedApiTest } from '../Enmeshed/v1/methods/credentialTest';
import { peerDisplayNamesByAddress, setRead } from '../../lib/protocol';
import { missingParts, poll, sample, seed, type PollOptions, type TriggerEvent, type TriggerEventName, type TriggerState } from './poller';

/**
 * Polls the Platform and starts the workflow once per new event. The cursor lives in the workflow's
 * static data and only moves past what a poll returns. n8n stores it with the items it returns: on
 * its default path unawaited, before the execution row (a crash of main in between loses that poll's
 * events); with durable poll cursors in one transaction with the execution row (README, Trigger).
 * A poll that returns nothing does not persist its cursor — harmless here, because such a poll
 * only marked filtered-out messages as handled, and those are filtered out again after a restart.
 * "Fetch Test Event" returns the newest event and leaves the cursor alone. Renaming the node resets
 * the cursor (n8n keys static data by node name).
 */
export class EnmeshedTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Enmeshed Trigger',
    name: 'enmeshedTrigger',
    icon: { light: 'file:../../icons/enmeshed.svg', dark: 'file:../../icons/enmeshed.dark.svg' },
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["events"].join(", ")}}',
    description: 'Starts the workflow when enmeshed messages, relationship requests or Requests and their answers arrive',
    defaults: { name: 'Enmeshed Trigger' },
    polling: true,
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'enmeshedApi', required: true, testedBy: 'enmeshedApiTest' }],
    properties: [
      {
        displayName: 'Events',
        name: 'events',
        type: 'multiOptions',
        required: true,
        default: ['messageReceived'],
        options: [
          { name: 'Message Received', value: 'messageReceived', description: 'A peer sent this identity a message' },
          {
            name: 'Peer To Be Deleted',
            value: 'peerToBeDeleted',
            description: "The Platform says a peer started deleting its identity (the relationship ends at the deletion date unless the peer cancels)",
          },
          { name: 'Relationship Request Received', value: 'relationshipRequestReceived', description: 'Someone answered one of your templates' },
          { name: 'Relationship Status Changed', value: 'relationshipStatusChanged', description: 'A relationship was accepted, rejected, revoked, terminated, …' },
          { name: 'Request Answered', value: 'requestAnswered', description: 'A peer answered one of your Requests; its attributes come as one field per type' },
          { name: 'Request Received', value: 'requestReceived', description: 'A peer sent you a Request (asks for data, consent, …)' },
          {
            name: 'Template Allocations Exhausted',
            value: 'templateAllocationsExhausted',
            description: 'One of your templates reached its Max Number of Allocations: nobody new can use it',
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
          {
            displayName: 'Attachment Field Prefix',
            name: 'binaryPrefix',
            type: 'string',
            default: 'attachment_',
            description: 'Prefix of the binary fields the attachments go to (with Download Attachments)',
          },
          {
            displayName: 'Download Attachments',
            name: 'downloadAttachments',
            type: 'boolean',
            default: false,
            description: 'Whether to download and decrypt message attachments into binary fields',
          },
          {
            displayName: 'From Peers',
            name: 'peers',
            type: 'string',
            default: '',
            placeholder: 'did:e:…, did:e:…',
            description: 'Only messages from these addresses (comma-separated)',
          },
          {
            displayName: 'Has Attachments',
            name: 'attachments',
            type: 'options',
            default: 'any',
            options: [
              { name: 'Any', value: 'any' },
              { name: 'With Attachments', value: 'with' },
              { name: 'Without Attachments', value: 'without' },
            ],
          },
          {
            displayName: 'Mark as Read',
            name: 'markAsRead',
            type: 'boolean',
            default: false,
            description:
              'Whether to mark the messages that start the workflow as read (for Message → Get Many with Unread Only, on every worker of this credential)',
          },
          {
            displayName: 'Max Messages per Poll',
            name: 'maxMessages',
            type: 'number',
            typeOptions: { minValue: 1, maxValue: 1000 },
            default: 100,
            description: 'At most this many messages start the workflow per poll; the rest come with the next polls, in order',
          },
          {
            displayName: 'Simplify',
            name: 'simplify',
            type: 'boolean',
            default: true,
            description: 'Whether to return a simplified version of the message instead of the raw data',
          },
        ],
      },
    ],
  };

  /** The same test as the Enmeshed node's: the credential has no `test` request of its own. */
  methods = { credentialTest: { enmeshedApiTest } };

  async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
    const { pollOptions, options } = triggerParameters(this);
    try {
      const participant = await participantFor(this);
      if (this.getMode() === 'manual') {
        const found = await sample(participant, pollOptions);
        return found.length ? [await toItems(this, found, options, participant)] : null;
      }
      const staticData = this.getWorkflowStaticData('node');
      let state = staticData.cursor as TriggerState | undefined;
      const missing = missingParts(state, pollOptions);
      if (missing.any) {
        // First active poll, or an event type added later: start those parts from now (no replay).
        const fresh = state?.v !== 1;
        state = await seed(participant, pollOptions, state);
        // Saved at activation on n8n's default path; with durable poll cursors n8n does not commit
        // the activation poll's cursor, and the first scheduled poll seeds again.
        staticData.cursor = state;
        if (fresh) return null;
      }
      const result = await poll(participant, state!, pollOptions);
      const items = result.events.length ? await toItems(this, result.events, options, participant) : [];
      if (options.markAsRead) {
        // Before the cursor moves: should this fail, the poll fails and the messages come again.
        await setRead(participant, result.events.flatMap((e) => ('message' in e ? [e.message] : [])), true);
      }
      // The new cursor goes in only now, just before the items that it covers are returned.
      staticData.cursor = result.state;
      return items.length ? [items] : null;
    } catch (error) {
      throw toNodeError(this.getNode(), error);
    }
  }
}

/** The Events and Options parameters, shared with the Enmeshed Instant Trigger. */
export function triggerParameters(ctx: IPollFunctions | ITriggerFunctions): { pollOptions: PollOptions; options: IDataObject } {
  const events = ctx.getNodeParameter('events', []) as TriggerEventName[];
  const options = ctx.getNodeParameter('options', {}) as IDataObject;
  const pollOptions: PollOptions = {
    events,
    peers: String(options.peers ?? '')
      .split(/[,;\s]+/)
      .filter(Boolean),
    attachments: (options.attachments as PollOptions['attachments']) ?? 'any',
    maxMessages: maxMessages(options.maxMessages),
  };
  return { pollOptions, options };
}

/** The option as a whole number in 1..1000 (an expression may give anything); 100 when unset. */
function maxMessages(value: unknown): number {
  const n = value === undefined || value === '' ? 100 : Math.floor(Number(value));
  return Number.isFinite(n) ? Math.min(Math.max(n, 1), 1000) : 100;
}

/** What an event item says of the error that made it one. */
const failure = (error: { message: string; code: string }): IDataObject => ({ error: error.message, errorCode: error.code });

/** The items of a poll's events (shared with the Enmeshed Instant Trigger). */
export async function toItems(
ctx: IPollFunctions | ITriggerFunctions,
  events: TriggerEvent[],
  options: IDataObject,
  participant: Awaited<ReturnType<typeof participantFor>>,
): Promise<INodeExecutionData[]> {
  const simplify = options.simplify !== false;
  const items: INodeExecutionData[] = [];
  const senders = events.flatMap((e) => ('message' in e ? [e.message.createdBy] : []));
  const names = senders.length ? await peerDisplayNamesByAddress(participant, senders) : new Map<string, string>();
  // Every message's attachments start downloading now, a few at a time across the whole poll; the
  // items are still built in order, each waiting for its own.
  const gate = limiter(TRANSFERS_AT_ONCE);
  const prefix = (options.binaryPrefix as string) || 'attachment_';
  const downloads = new Map<TriggerEvent, Promise<Settled<Awaited<ReturnType<typeof attachmentsToBinary>>>>>();
  if (options.downloadAttachments) {
    for (const e of events) {
      if (e.event === 'messageReceived' && 'message' in e && e.message.attachments.length) {
        downloads.set(e, settle(attachmentsToBinary(ctx, participant, e.message.attachments, prefix, gate)));
      }
    }
  }
  for (const e of events) {
    if (e.event === 'requestReceived' || e.event === 'requestAnswered') {
      items.push({ json: e.event === 'requestReceived' ? { event: e.event, ...incomingRequestToJson(e.request) } : { event: e.event, ...takenAnswerToJson(e.answer) } });
      continue;
    }
    if (e.event === 'templateAllocationsExhausted') {
      items.push({ json: 'error' in e ? { event: e.event, templateId: e.templateId, ...failure(e.error) } : { event: e.event, templateId: e.templateId, at: e.at } });
      continue;
    }
    if (e.event !== 'messageReceived') {
      if ('error' in e) {
        // A request or an entry that does not verify: reported as what it is, never as a normal event.
        items.push({ json: { event: e.event, id: e.relationshipId, peer: e.peer, ...failure(e.error) } });
      } else {
        const extra = e.event === 'relationshipStatusChanged' ? { oldStatus: e.oldStatus } : e.event === 'peerToBeDeleted' ? { deletionDate: e.deletionDate } : {};
        items.push({ json: { event: e.event, ...relationshipToJson(e.relationship), ...extra } });
      }
      continue;
    }
    if ('error' in e) {
      // Reported, never dropped: the workflow sees which message could not be read and why.
      items.push({ json: { event: e.event, id: e.dto.id, createdBy: e.dto.createdBy, createdAt: e.dto.createdAt, ...failure(e.error) } });
      continue;
    }
    const json: IDataObject = { event: e.event, ...(simplify ? simplifyMessage(e.message) : messageToJson(e.message)), peerDisplayName: names.get(e.message.createdBy) };
    const item: INodeExecutionData = { json };
    const download = downloads.get(e);
    if (download) {
      const result = await download;
      if (result.ok) {
        item.binary = result.value.binary;
        json.attachmentFiles = result.value.files;
      } else {
        // The message is emitted anyway (the cursor moves past it); the failure is part of the item.
        json.attachmentError = result.error instanceof Error ? result.error.message : String(result.error);
      }
    }
    items.push(item);
  }
  return items;
}
