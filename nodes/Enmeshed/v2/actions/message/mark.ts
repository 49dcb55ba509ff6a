import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getMessage, setRead, type Participant } from '../../../../../lib/protocol';
import { simplifyMessage } from '../../../../shared/output';
import { messageIdField } from '../../../v1/helpers/fields';
import { item, requireId } from '../../../v1/helpers/utils';

/**
 * Mark as Read / Mark as Unread: a message in, the message with its new state out. The message is
 * read first, so an ID that is not one of ours (or a typo) fails instead of being marked.
 */
export function markOperation(operation: string, read: boolean) {
  const description: INodeProperties[] = updateDisplayOptions({ show: { resource: ['message'], operation: [operation] } }, [messageIdField]);
  async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
    const message = await getMessage(participant, requireId(this, 'messageId', i, 'MSG', 'Message ID'));
    await setRead(participant, [message], read);
    return [item({ ...simplifyMessage(message), read }, i)];
  }
  return { description, execute };
}
