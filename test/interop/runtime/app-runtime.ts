/**
 * The enmeshed App's logic as a test peer: a real, unmodified @nmshd/runtime 7.0.0 (the runtime inside the App)
 * with its consumption layer and the modules the App runs (RequestModule: Requests in templates and messages;
 * DeciderModule without automations: every Request waits for the user's decision), on an in-memory LokiJS
 * database, against a Backbone at any base URL.
 *
 * Modelled on the runtime's own test runtime (packages/runtime/test/lib/TestRuntime.ts and
 * RuntimeServiceProvider.ts in nmshd/runtime 7.0.0): a `Runtime` subclass that creates one fresh account on
 * init and hands out its services. What differs: a silent logger that keeps warnings and errors (`logged`), an
 * event bus that records every runtime event (`events`, `waitForEvent`), and `close()`, which waits for
 * running event handlers and then closes runtime, account and database so that jest can exit.
 */
import type { IDatabaseConnection } from '@js-soft/docdb-access-abstractions';
import { LokiJsConnection } from '@js-soft/docdb-access-loki';
import type { ILogger, ILoggerFactory } from '@js-soft/logging-abstractions';
import { EventEmitter2EventBus, getEventNamespaceFromObject, type Event } from '@js-soft/ts-utils';
import { ConsumptionController } from '@nmshd/consumption';
import { Runtime, type ModuleConfiguration, type RuntimeConfig, type RuntimeHealth, type RuntimeServices } from '@nmshd/runtime';
import { AccountController } from '@nmshd/transport';

/** The runtime's Result: its value, or a failure naming the runtime's error. */
export function ok<T>(result: { isError: boolean; value: T; error?: { code?: string; message?: string } }): T {
  if (result.isError) throw new Error(`runtime error ${result.error?.code}: ${result.error?.message}`);
  return result.value;
}

export interface AppRuntimeOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Datawallet as in the App. Default true. */
  datawalletEnabled?: boolean;
  /** Per-request timeout (ms). Default 30 000. */
  platformTimeout?: number;
}

export interface LoggedEntry {
  level: 'warn' | 'error' | 'fatal';
  logger: string;
  text: string;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) {
    const extra = value as Error & { code?: string };
    return `${value.name}: ${value.message}${extra.code ? ` (${extra.code})` : ''}`;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Silent; keeps warnings and errors (RequestModule, for one, only logs why it could not create a relationship). */
class RecordingLoggerFactory implements ILoggerFactory {
  readonly entries: LoggedEntry[] = [];
  /** Called after each kept entry (wakes up waiters, see AppRuntime.waitForEvent). */
  onEntry: () => void = () => undefined;

  getLogger(name: string | ((...args: never[]) => unknown)): ILogger {
    const logger = typeof name === 'string' ? name : name.name;
    const keep = (level: LoggedEntry['level']) => (...messages: unknown[]) => {
      const text = messages.map(describeValue).join(' ');
      this.entries.push({ level, logger, text });
      this.onEntry();
      if (process.env.RUNTIME_PEER_LOG === '1') process.stderr.write(`[${level}] ${logger}: ${text}\n`);
    };
    const quiet = (level: string) => (...messages: unknown[]) => {
      if (process.env.RUNTIME_PEER_LOG === '1') process.stderr.write(`[${level}] ${logger}: ${messages.map(describeValue).join(' ')}\n`);
    };
    return { trace: quiet('trace'), debug: quiet('debug'), info: quiet('info'), warn: keep('warn'), error: keep('error'), fatal: keep('fatal') };
  }
}

export interface RecordedEvent {
  namespace: string;
  data: unknown;
  event: Event;
}

/** Records every event published on the runtime's bus (its own events and the proxied transport events). */
class RecordingEventBus extends EventEmitter2EventBus {
  readonly events: RecordedEvent[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(onHandlerError: (error: unknown, namespace: string) => void) {
    super(onHandlerError);
  }

  override publish(event: Event): void {
    const namespace = getEventNamespaceFromObject(event);
    this.events.push({ namespace, data: (event as Event & { data?: unknown }).data, event });
    super.publish(event);
    for (const wake of [...this.waiters]) wake();
  }

  /** Wakes up the waiters (they re-check their event and their failure condition). */
  poke(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * The first event (already published or yet to come) in `namespace` that satisfies `predicate`. Fails as soon
   * as `failure()` returns a text (e.g. the runtime logged an error), or after `timeoutMs`.
   */
  waitFor<T = unknown>(namespace: string, predicate: (data: T) => boolean, timeoutMs: number, failure: () => string | undefined): Promise<T> {
    const find = () => this.events.find((e) => e.namespace === namespace && predicate(e.data as T));
    const found = find();
    if (found) return Promise.resolve(found.data as T);
    const failedAlready = failure();
    if (failedAlready !== undefined) return Promise.reject(new Error(`While waiting for ${namespace}: ${failedAlready}`));
    return new Promise<T>((resolve, reject) => {
      const wake = (): void => {
        const hit = find();
        if (hit) {
          cleanup();
          resolve(hit.data as T);
          return;
        }
        const failed = failure();
        if (failed === undefined) return;
        cleanup();
        reject(new Error(`While waiting for ${namespace}: ${failed}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.events.map((e) => e.namespace).slice(-30).join(', ');
        reject(new Error(`No event ${namespace} within ${timeoutMs} ms (last events: ${seen})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }
}

/** One App installation: one identity, its runtime services and what the runtime published and logged. */
export class AppRuntime extends Runtime {
  private dbConnection?: LokiJsConnection;
  private services?: RuntimeServices;
  private readonly recordingLogger: RecordingLoggerFactory;
  private readonly recordingBus: RecordingEventBus;
  /** Errors thrown in runtime event handlers (modules). */
  readonly handlerErrors: { namespace: string; error: string }[];

  private constructor(config: RuntimeConfig, loggerFactory: RecordingLoggerFactory) {
    const handlerErrors: { namespace: string; error: string }[] = [];
    const bus: RecordingEventBus = new RecordingEventBus((error, namespace) => {
      handlerErrors.push({ namespace, error: describeValue(error) });
      bus.poke();
    });
    super(config, loggerFactory, bus);
    this.recordingLogger = loggerFactory;
    this.recordingBus = bus;
    this.handlerErrors = handlerErrors;
    loggerFactory.onEntry = () => bus.poke();
  }

  /** Creates a new identity on the Backbone (as the App's onboarding does) and starts the runtime. */
  static async launch(options: AppRuntimeOptions): Promise<AppRuntime> {
    const config: RuntimeConfig = {
      transportLibrary: {
        baseUrl: options.baseUrl,
        platformClientId: options.clientId,
        platformClientSecret: options.clientSecret,
        datawalletEnabled: options.datawalletEnabled ?? true,
        platformTimeout: options.platformTimeout ?? 30_000,
        debug: false,
      },
      modules: {
        decider: { enabled: true, location: '@nmshd/runtime:DeciderModule' },
        request: { enabled: true, location: '@nmshd/runtime:RequestModule' },
        notification: { enabled: true, location: '@nmshd/runtime:NotificationModule' },
        message: { enabled: true, location: '@nmshd/runtime:MessageModule' },
      },
    };
    const runtime = new AppRuntime(config, new RecordingLoggerFactory());
    try {
      await runtime.init();
      await runtime.start();
    } catch (error) {
      await runtime.close();
      throw error;
    }
    return runtime;
  }

  get transportServices(): RuntimeServices['transportServices'] {
    return this.mustHaveServices().transportServices;
  }

  get consumptionServices(): RuntimeServices['consumptionServices'] {
    return this.mustHaveServices().consumptionServices;
  }

  get dataViewExpander(): RuntimeServices['dataViewExpander'] {
    return this.mustHaveServices().dataViewExpander;
  }

  /** Every event published on the runtime's bus, in order. */
  get events(): readonly RecordedEvent[] {
    return this.recordingBus.events;
  }

  /** Warnings and errors the runtime, consumption and transport logged. */
  get logged(): readonly LoggedEntry[] {
    return this.recordingLogger.entries;
  }

  /** Where the errors of the current test step begin (see `markCheckpoint`). */
  private checkpoint = { logged: 0, thrown: 0 };

  /** Errors logged and handler errors thrown from now on count for `waitForEvent`. */
  markCheckpoint(): void {
    this.checkpoint = { logged: this.logged.length, thrown: this.handlerErrors.length };
  }

  /**
   * The first event in `namespace` (already published or yet to come) that satisfies `predicate`. Fails early when,
   * since the last `markCheckpoint()`, the runtime logged an error or one of its event handlers threw: the modules
   * report failures only so.
   */
  waitForEvent<T = unknown>(namespace: string, predicate: (data: T) => boolean = () => true, timeoutMs = 15_000): Promise<T> {
    const { logged, thrown } = this.checkpoint;
    const failure = (): string | undefined => {
      const error = this.logged.slice(logged).find((e) => e.level !== 'warn');
      if (error) return `${error.logger} logged: ${error.text}`;
      const handlerError = this.handlerErrors[thrown];
      return handlerError ? `an event handler for ${handlerError.namespace} threw: ${handlerError.error}` : undefined;
    };
    return this.recordingBus.waitFor(namespace, predicate, timeoutMs, failure);
  }

  /** Runs the runtime's sync (as the App does on a push) until `until` holds. */
  async syncUntil(until: () => Promise<boolean>, attempts = 20): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      ok(await this.transportServices.account.syncEverything());
      if (await until()) return;
      await new Promise((resolve) => setTimeout(resolve, 50 * (i + 1)));
    }
    throw new Error('The runtime did not get there by syncing');
  }

  async address(): Promise<string> {
    return (await this.transportServices.account.getIdentityInfo()).value.address;
  }

  getServices(): RuntimeServices {
    return this.mustHaveServices();
  }

  getHealth(): Promise<RuntimeHealth> {
    return Promise.resolve({ isHealthy: true, services: {} });
  }

  /** Stops modules and runtime (waiting for running event handlers), closes the account and the database. */
  async close(): Promise<void> {
    try {
      if (this.isInitialized && this.isStarted) await this.stop();
    } finally {
      await this.dbConnection?.close();
      this.dbConnection = undefined;
    }
  }

  protected createDatabaseConnection(): Promise<IDatabaseConnection> {
    if (this.dbConnection) throw new Error('The database connection was already created');
    this.dbConnection = LokiJsConnection.inMemory();
    return Promise.resolve(this.dbConnection);
  }

  protected async initAccount(): Promise<void> {
    const db = await this.dbConnection!.getDatabase(`app-${Math.random().toString(36).slice(2, 10)}`);
    // docdb-access-loki 1.4.0 implements the abstractions 1.3.0 interfaces; transport types against 1.2.1.
    type AccountDb = ConstructorParameters<typeof AccountController>[1];
    const accountController = await new AccountController(this.transport, db as unknown as AccountDb, this.transport.config).init();
    // As in the App: the first attribute of a value type becomes the default one.
    const consumptionController = await new ConsumptionController(this.transport, accountController, { setDefaultOwnIdentityAttributes: true }).init();
    this.services = await this.login(accountController, consumptionController);
  }

  protected loadModule(moduleConfiguration: ModuleConfiguration): Promise<void> {
    return Promise.reject(new Error(`Only the runtime's builtin modules are available, not ${moduleConfiguration.location}`));
  }

  private mustHaveServices(): RuntimeServices {
    if (!this.services) throw new Error('The runtime has no account (not initialized, or closed)');
    return this.services;
  }
}
