/**
 * The two workflows of the scale check, as users would build them (production node type names of
 * the installed package).
 *
 * S (sender identity): Webhook (POST /webhook/scale-send, answers with the last node's first item)
 *   → Code: the Mail for request number `n` of `phase`; every 10th gets a binary attachment
 *   → Enmeshed Message Send, node version 2, Idempotency Key `<phase>-<n>` (Continue On Fail: the
 *     answer then carries `error` and `description`).
 * R (receiver identity): Enmeshed Trigger (Message Received, every minute, Download Attachments)
 *   → Code: the size of each item's attachment, read from n8n's binary data store (the trigger
 *     stored it on main, this runs on a worker: the binary data mode must let workers read it)
 *   → HTTP Request: POST {id, subject, bytes, execution} to the harness's recording server, per item.
 * The trigger's emissions are also read from n8n's database afterwards (execution data), which
 * holds them even for an execution whose worker died.
 */

export const WEBHOOK_PATH = 'scale-send';
export const SENDER_WORKFLOW_ID = 'scaleSender00001';
export const RECEIVER_WORKFLOW_ID = 'scaleReceiver001';
export const TRIGGER_NODE = 'Message Received';
export const SENDER_CREDENTIAL = { id: 'scaleSenderCred1', name: 'Scale sender (enmeshed)' };
export const RECEIVER_CREDENTIAL = { id: 'scaleRecvCred001', name: 'Scale receiver (enmeshed)' };

/** The subject of request `n` of `phase`: how the Platform-side check finds the request number. */
export const subjectOf = (phase: string, n: number): string => `Scale ${phase} #${n}`;
export const SUBJECT_PATTERN = /^Scale (\S+) #(\d+)$/;

/** Every `ATTACHMENT_EVERY`-th request carries an attachment. */
export const ATTACHMENT_EVERY = 10;
/** The attachment of request `n` of `phase` (the Code node of workflow S builds the same). */
export const attachmentText = (phase: string, n: number): string => `Report for request ${n} (${phase})\n`.repeat(64);

const CODE = `
const n = Number($json.body.n);
const phase = String($json.body.phase);
const out = {
  n,
  phase,
  subject: 'Scale ' + phase + ' #' + n,
  text: 'Request ' + n + ' of phase ' + phase + ', sent through n8n in queue mode.',
  attach: n % ${ATTACHMENT_EVERY} === 0 ? 'report' : '',
};
if (!out.attach) return [{ json: out }];
const content = ('Report for request ' + n + ' (' + phase + ')\\n').repeat(64);
return [{
  json: out,
  binary: { report: { data: Buffer.from(content, 'utf8').toString('base64'), mimeType: 'text/plain', fileName: 'report-' + phase + '-' + n + '.txt' } },
}];
`;

export function senderWorkflow(to: string): Record<string, unknown> {
  return {
    id: SENDER_WORKFLOW_ID,
    name: 'Scale S: webhook → Message Send',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: {
      Webhook: { main: [[{ node: 'Make Mail', type: 'main', index: 0 }]] },
      'Make Mail': { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
    },
    nodes: [
      {
        id: 's1',
        name: 'Webhook',
        type: 'n8n-nodes-base.webhook',
        typeVersion: 2,
        position: [0, 0],
        webhookId: '5c0a1e55-0000-4000-8000-5ca1e5e4d001',
        parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'lastNode', responseData: 'firstEntryJson', options: {} },
      },
      { id: 's2', name: 'Make Mail', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode: CODE } },
      {
        id: 's3',
        name: 'Send',
        type: 'n8n-nodes-enmeshed.enmeshed',
        typeVersion: 2,
        position: [440, 0],
        onError: 'continueRegularOutput',
        parameters: {
          resource: 'message',
          operation: 'send',
          to: { __rl: true, mode: 'address', value: to },
          contentType: 'mail',
          subject: '={{ $json.subject }}',
          body: '={{ $json.text }}',
          attachmentsUi: { attachmentsBinary: [{ property: '={{ $json.attach }}' }] },
          // One key per request: a retried request (same phase and number) sends nothing twice.
          options: { idempotencyKey: '={{ $json.phase + "-" + $json.n }}' },
        },
        credentials: { enmeshedApi: SENDER_CREDENTIAL },
      },
    ],
  };
}

const READ_ATTACHMENT = `
const out = [];
for (let i = 0; i < $input.all().length; i++) {
  const item = $input.all()[i];
  let attachmentBytes = null;
  if (item.binary && item.binary.attachment_0) attachmentBytes = (await this.helpers.getBinaryDataBuffer(i, 'attachment_0')).length;
  out.push({ json: { ...item.json, attachmentBytes } });
}
return out;
`;

export function receiverWorkflow(recordUrl: string): Record<string, unknown> {
  return {
    id: RECEIVER_WORKFLOW_ID,
    name: 'Scale R: Enmeshed Trigger → record',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: {
      [TRIGGER_NODE]: { main: [[{ node: 'Read Attachment', type: 'main', index: 0 }]] },
      'Read Attachment': { main: [[{ node: 'Record', type: 'main', index: 0 }]] },
    },
    nodes: [
      {
        id: 'r1',
        name: TRIGGER_NODE,
        type: 'n8n-nodes-enmeshed.enmeshedTrigger',
        typeVersion: 1,
        position: [0, 0],
        parameters: { events: ['messageReceived'], options: { downloadAttachments: true }, pollTimes: { item: [{ mode: 'everyMinute' }] } },
        credentials: { enmeshedApi: RECEIVER_CREDENTIAL },
      },
      { id: 'r3', name: 'Read Attachment', type: 'n8n-nodes-base.code', typeVersion: 2, position: [130, 0], parameters: { jsCode: READ_ATTACHMENT } },
      {
        id: 'r2',
        name: 'Record',
        type: 'n8n-nodes-base.httpRequest',
        typeVersion: 4.2,
        position: [260, 0],
        parameters: {
          method: 'POST',
          url: recordUrl,
          sendBody: true,
          specifyBody: 'json',
          jsonBody: '={{ JSON.stringify({ id: $json.id, subject: $json.subject, error: $json.error, bytes: $json.attachmentBytes, execution: $execution.id }) }}',
          options: {},
        },
      },
    ],
  };
}

export const credential = (ref: { id: string; name: string }, c: { platformUrl: string; clientId: string; clientSecret: string; identity: string }) => ({
  id: ref.id,
  name: ref.name,
  type: 'enmeshedApi',
  data: { platformUrl: c.platformUrl, clientId: c.clientId, clientSecret: c.clientSecret, identity: c.identity },
});
