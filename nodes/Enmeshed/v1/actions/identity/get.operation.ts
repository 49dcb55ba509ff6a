import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { signaturePublicKeyToJson, toBase64, toBase64Url } from '../../../../../lib/crypto';
import type { Participant } from '../../../../../lib/protocol';
import { item } from '../../helpers/utils';

const properties: INodeProperties[] = [];

export const description = updateDisplayOptions({ show: { resource: ['identity'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const [identity, device] = await Promise.all([participant.client.getIdentity(), participant.client.getDevice()]);
  const publicKey = participant.identity.keys.identity.pub;
  return [
    item(
      {
        address: identity.address,
        publicKey: toBase64(signaturePublicKeyToJson(publicKey)),
        publicKeyRaw: toBase64Url(publicKey.pub),
        createdAt: identity.createdAt,
        status: identity.status,
        platformUrl: participant.baseUrl,
        device: { id: device.id, username: device.username, createdAt: device.createdAt },
      },
      i,
    ),
  ];
}
