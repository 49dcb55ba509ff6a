import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { CryptoError } from '../../lib/crypto';
import { PlatformError } from '../../lib/backbone';
import { AppContentError, ProtocolError } from '../../lib/protocol';

/**
 * Turns any failure into the n8n error a user can act on. Existing n8n errors pass unchanged.
 * Messages come from lib/, which never puts secrets into them; request bodies and headers are
 * never attached.
 */

const HINTS: Record<string, string> = {
  'error.oauth.invalid_client': 'The client ID or client secret in the credential is wrong.',
  'error.oauth.invalid_grant': 'The device login was refused: the identity may be deleted, or the credential belongs to another Platform.',
  'error.oauth.access_denied': 'The device is locked after failed logins; wait 10 minutes and check the credential.',
  'error.client.network': 'Check the Platform URL in the credential and that the Platform is reachable from n8n.',
  'error.client.timeout': 'The Platform answered too slowly; try again later.',
  'error.platform.quotaExhausted': 'A quota of this identity on the Platform is used up; the error says until when.',
  'error.platform.validation.message.maxNumberOfUnreceivedMessagesReached':
    'The recipient has not fetched the messages you sent before (the Platform keeps at most 20 by default); wait until their App or Connector fetches them.',
  'protocol.message.inboxFull':
    'Nothing was sent. The peer\'s App or Connector must fetch its messages first: run again later, or set the Send option "Full Inbox: Wait Up To" so the node waits and retries by itself.',
  'protocol.send.inProgress':
    'Another execution is sending with the same idempotency key right now, or one was cut off moments ago; run again in a minute and it returns the message if it was sent.',
  'error.platform.validation.message.noRelationshipToRecipientExists': 'Create a relationship with the recipient first.',
  'error.platform.validation.relationshipTemplate.maxNumberOfAllocationsExhausted': 'The template was already used as often as allowed.',
  'error.client.datawalletEntryInvalid':
    'Nothing was sent or changed. Make sure every n8n worker runs the same version of these nodes and the credential holds the identity that wrote this state; otherwise ask the Platform operator whether its data was changed or restored.',
  'protocol.relationship.notFound': 'Create a relationship from a template first, or check the address or ID.',
  'protocol.relationship.notActive': 'The relationship must be Active: accept it, or ask the peer to.',
  'protocol.input.tooLarge': 'Split the file or compress it.',
  'protocol.template.passwordRequired': 'Enter the template password (or PIN) in the node.',
  'protocol.message.replayed':
    'The Platform served a message again under a new ID (or the sender\'s clock is far behind): it is not passed on twice. See docs/security.md.',
  'protocol.file.signatureInvalid':
    'The Platform, with someone holding this file\'s reference, replaced it: do not use it. See docs/security.md.',
};

export function toNodeError(node: INode, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
  if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
  if (error instanceof PlatformError) {
    const detail: JsonObject = { message: error.message, code: error.code };
    if (error.status !== undefined) detail.httpCode = String(error.status);
    const description = [HINTS[error.code], error.call && `Call: ${error.call}`, `Code: ${error.code}`, error.exhaustedUntil && `Until: ${error.exhaustedUntil.toISOString()}`]
      .filter(Boolean)
      .join(' — ');
    return new NodeApiError(node, detail, { message: error.message, description, httpCode: error.status ? String(error.status) : undefined, itemIndex });
  }
  if (error instanceof AppContentError) {
    return new NodeOperationError(node, 'The content is not valid for enmeshed', { description: error.problems.join(' • '), itemIndex });
  }
  if (error instanceof ProtocolError || error instanceof CryptoError) {
    const description = [HINTS[error.code], `Code: ${error.code}`].filter(Boolean).join(' — ');
    return new NodeOperationError(node, error.message, { description, itemIndex });
  }
  return new NodeOperationError(node, error instanceof Error ? error.message : String(error), { itemIndex });
}
