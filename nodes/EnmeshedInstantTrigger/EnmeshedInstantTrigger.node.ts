import type {
  IDataObject,
  INodeProperties,
  INodeType,
  INodeTypeDescription,
  ITriggerFunctions,
  ITriggerResponse,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import type { StreamState } from '../../lib/backbone';
import { runInstant, setRead, type InstantRun, type Participant } from '../../lib/protocol';
import { toNodeError } from '../shared/errors';
import { participantFor } from '../shared/session';
import { enmeshedApiTest } from '../Enmeshed/v1/methods/credentialTest';
import { EnmeshedTrigger, toItems, triggerParameters } from '../EnmeshedTrigger/EnmeshedTrigger.node';
import { missingParts, poll, sample, seed, type PollOptions, type TriggerState } from '../EnmeshedTrigger/poller';

/**
 * The Enmeshed Trigger without the wait: it holds the Backbone's event stream (server-sent events)
 * and starts the workflow within a second of a message or relationship change, instead of at the
 * next poll. A trigger() node, not a poll() one — n8n runs a node type as one or the other — with
 * the same events, options, cursor and exactly-once logic as the Enmeshed Trigger (poller.ts): an
 * event, and every (re)connect, only start a poll from the cursor. While the stream is unavailable
 * it polls at the Fallback Poll Interval and logs so (lib/protocol/instant.ts).
 *
 * One stream per identity per n8n process, whatever the number of workflows (lib/protocol/event-hub.ts).
 * The cursor lives in the workflow's static data as the poll trigger's does: n8n saves a trigger
 * node's static data when it emits (and at activation), as for a poll node on its default path.
 * "Listen for test event" returns the newest event, or waits for the next one by polling and through
 * a stream this process holds anyway — never a stream of its own, which would silence the production one.
 */

const MANUAL_POLL_MS = 5_000;

const base = new EnmeshedTrigger().description;

function withKeepAlive(options: INodeProperties): INodeProperties {
  const keepAlive: INodeProperties = {
    displayName: 'Keep-Alive Interval (Seconds)',
    name: 'keepAliveSeconds',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 240,
    description:
      "The Backbone's keep-alive period (its SseServer:KeepAliveEventIntervalInSeconds). A stream that stays silent longer (plus an eighth) counts as lost and is replaced.",
  };
  const list = [...(options.options as INodeProperties[]), keepAlive].sort((a, b) => a.displayName.localeCompare(b.displayName));
  return { ...options, options: list };
}

export class EnmeshedInstantTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Enmeshed Instant Trigger',
    name: 'enmeshedInstantTrigger',
    icon: base.icon,
    group: ['trigger'],
    version: 1,
    subtitle: base.subtitle,
    description: "Starts the workflow within a second of an enmeshed message or relationship change, over the Backbone's event stream",
    eventTriggerDescription: 'Waiting for a message or relationship change of this identity',
    activationMessage: 'Your workflow now starts as soon as a message or relationship change arrives.',
    defaults: { name: 'Enmeshed Instant Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: base.credentials,
    properties: [
      ...base.properties.filter((p) => p.name !== 'options'),
      {
        displayName: 'Fallback Poll Interval (Seconds)',
        name: 'fallbackPollSeconds',
        type: 'number',
        typeOptions: { minValue: 5 },
        default: 60,
        description: "How often to poll while the Backbone's event stream is unavailable (no SseServer, unreachable, login refused) or reconnecting",
      },
      ...base.properties.filter((p) => p.name === 'options').map(withKeepAlive),
    ],
  };

  /** The same test as the Enmeshed node's: the credential has no `test` request of its own. */
  methods = { credentialTest: { enmeshedApiTest } };

  async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
    const { pollOptions, options } = triggerParameters(this);
    let participant: Participant;
    try {
      participant = await participantFor(this);
    } catch (error) {
      throw toNodeError(this.getNode(), error);
    }
    if (this.getMode() === 'manual') return listenForTestEvent(this, participant, pollOptions, options);

    const staticData = this.getWorkflowStaticData('node');
    const previous = staticData.cursor as TriggerState | undefined;
    const missing = missingParts(previous, pollOptions);
    if (missing.any) {
      // First activation, or an event type added later: those parts start from now (no replay).
      // A failure fails the activation, which n8n retries.
      try {
        staticData.cursor = await seed(participant, pollOptions, previous);
      } catch (error) {
        throw toNodeError(this.getNode(), error);
      }
    }
    const fallbackPollMs = wholeSeconds(this.getNodeParameter('fallbackPollSeconds', 60), 5, 60) * 1000;
    const report = stateReporter(this, fallbackPollMs);
    let active = true;
    const run = runInstant(
      participant,
      {
        poll: async () => {
          const result = await poll(participant, staticData.cursor as TriggerState, pollOptions);
          // Deactivated meanwhile: nothing emitted, so the cursor stays where it was.
          if (!active) return false;
          if (!result.events.length) {
            staticData.cursor = result.state;
            return false;
          }
          const items = await toItems(this, result.events, options, participant);
          if (!active) return false;
          if (options.markAsRead) {
            // Before the cursor moves: should this fail, the poll fails and the messages come again.
            await setRead(participant, result.events.flatMap((e) => ('message' in e ? [e.message] : [])), true);
          }
          // The new cursor goes in only now, right before the items it covers (n8n saves it on emit).
          staticData.cursor = result.state;
          this.emit([items]);
          return result.events.length >= (pollOptions.maxMessages ?? 100);
        },
        failed: (error, streak) => {
          const failure = toNodeError(this.getNode(), error);
          this.logger.warn(`Enmeshed Instant Trigger: a poll failed (${failure.message}); retrying`);
          // One failed execution per run of failures, not one per retry.
          if (streak === 1) this.saveFailedExecution(failure);
        },
        stateChanged: report,
      },
      {
        fallbackPollMs,
        keepAliveMs: wholeSeconds(options.keepAliveSeconds, 1, 240) * 1000,
        // A cursor from before (a restart, an update): catch up at once, whatever the stream does.
        pollAtStart: previous?.v === 1,
      },
    );
    return {
      closeFunction: async () => {
        active = false;
        run.close();
      },
    };
  }
}

/**
 * The editor's "Listen for test event": the newest event if there is one; otherwise the first new
 * one, found by polling every few seconds and, when this process holds the identity's stream anyway,
 * at once. Static data is left alone (n8n does not persist it in manual runs).
 */
function listenForTestEvent(ctx: ITriggerFunctions, participant: Participant, pollOptions: PollOptions, options: IDataObject): ITriggerResponse {
  let run: InstantRun | undefined;
  let done = false;
  const manualTriggerFunction = async (): Promise<void> => {
    try {
      const found = await sample(participant, pollOptions);
      if (found.length) {
        done = true;
        ctx.emit([await toItems(ctx, found, options, participant)]);
        return;
      }
      let state = await seed(participant, pollOptions);
      run = runInstant(
        participant,
        {
          poll: async () => {
            if (done) return false;
            const result = await poll(participant, state, pollOptions);
            state = result.state;
            if (result.events.length) {
              done = true;
              run?.close();
              ctx.emit([await toItems(ctx, result.events, options, participant)]);
            }
            return false;
          },
          failed: (error) => {
            run?.close();
            ctx.emitError(toNodeError(ctx.getNode(), error));
          },
        },
        { passive: true, fallbackPollMs: MANUAL_POLL_MS },
      );
    } catch (error) {
      throw toNodeError(ctx.getNode(), error);
    }
  };
  return { manualTriggerFunction, closeFunction: async () => run?.close() };
}

/** Logs the stream's state when what it means for the user changes: instant, reconnecting, or polling instead. */
function stateReporter(ctx: ITriggerFunctions, fallbackPollMs: number): (state: StreamState) => void {
  let said: 'open' | 'unavailable' | 'lost' | undefined;
  const seconds = Math.round(fallbackPollMs / 1000);
  return (state) => {
    if (state.kind === 'open' && said !== 'open') {
      said = 'open';
      ctx.logger.info("Enmeshed Instant Trigger: the Backbone's event stream is open; the workflow starts as soon as something arrives");
    } else if (state.kind === 'down' && state.unavailable && said !== 'unavailable') {
      said = 'unavailable';
      ctx.logger.warn(
        `Enmeshed Instant Trigger: no instant events — ${state.message}. Polling every ${seconds} s instead; the event stream is tried again in ${Math.round(state.retryInMs / 1000)} s.`,
      );
    } else if (state.kind === 'down' && !state.unavailable) {
      const lost = `Enmeshed Instant Trigger: the event stream was lost (${state.message}); reconnecting in ${Math.round(state.retryInMs / 100) / 10} s, then catching up with a poll`;
      // Being silenced or answered as a second stream means another stream of this identity exists.
      if (state.reason === 'silent' || state.reason === 'conflict') ctx.logger.warn(lost);
      else if (said !== 'lost') ctx.logger.info(lost);
      said = 'lost';
    }
  };
}

/** A whole number of seconds of at least `min` (an expression may give anything); `fallback` when unset. */
function wholeSeconds(value: unknown, min: number, fallback: number): number {
  const n = value === undefined || value === '' ? fallback : Math.floor(Number(value));
  return Number.isFinite(n) ? Math.max(n, min) : fallback;
}
