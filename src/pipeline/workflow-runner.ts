import { DateTime } from 'luxon';
import type { Database, Sql } from '../db/database';
import type { EventLogService } from '../domain/event-log/event-log.service';
import type { InboundEvent } from '../domain/event-log/inbound-event.entity';
import { timeOrderedId } from '../domain/ids';
import type { MessageService } from '../domain/message/message.service';
import type { NewMessage } from '../domain/message/message-store';
import type { ProfileService } from '../domain/profile/profile.service';
import type { RequestContext } from '../domain/request-context';
import { conditionHolds } from '../domain/routing/condition';
import { CONDITION_ROOTS } from '../domain/routing/condition.types';
import type { TemplateService } from '../domain/template/template.service';
import { addDuration, MAX_DURATION_DAYS, parseDuration } from '../domain/workflow/duration';
import { inWindow, nextOpening, nextScheduled, recipientZone } from '../domain/workflow/local-time';
import type { RunHistoryEntry } from '../domain/workflow/run-history.types';
import type { RunStore } from '../domain/workflow/run-store';
import { admitIn, arriveIn, closeIn, stepIdentity } from '../domain/workflow/step-stores';
import { WorkflowRunStatus, type WorkflowRun } from '../domain/workflow/workflow-run';
import type { DelayStep, DigestStep, SendStep, ThrottleStep, WorkflowStep } from '../domain/workflow/workflow-steps';
import type { WorkflowDefinition } from '../domain/workflow/workflow.entity';
import type { WorkflowService } from '../domain/workflow/workflow.service';
import { valueAt } from '../lib/json';
import type { DueRun, JobQueue } from './job-queue';
import { crashDelayMs } from './retry-policy';

/** Metrics of runs (implemented in ops/). */
export interface WorkflowTelemetry {
  /** A run reached `status` (WAITING included). */
  runStatus(status: WorkflowRunStatus): void;
  /** A due step started `lateMs` after its due time. */
  stepLateness(lateMs: number): void;
}

export interface RunnerDeps {
  db: Database;
  queue: JobQueue;
  store: RunStore;
  workflows: WorkflowService;
  profiles: ProfileService;
  events: EventLogService;
  templates: TemplateService;
  messages: MessageService;
  /** PIGEON_DEFAULT_TIMEZONE: the zone of a recipient with no known zone. */
  defaultTimezone: string;
  telemetry?: WorkflowTelemetry;
}

/** The roots a workflow step's condition and paths may read. */
const STEP_ROOTS = [...CONDITION_ROOTS, 'digest'];
const MAX_WAIT_MS = MAX_DURATION_DAYS * 86_400_000;

/** What one batch's runs read, loaded once for the batch. */
interface BatchInputs {
  definitions: Map<string, WorkflowDefinition>;
  traits: Map<string, Record<string, unknown>>;
  events: Map<string, InboundEvent>;
  templateIds: Map<string, string>;
}

/** What one batch's runs write, in its transaction. */
interface BatchEffects {
  history: (RunHistoryEntry & { runId: string; at: Date })[];
  messages: (NewMessage & { id: string; idempotencyKey: string })[];
  /** Runs waiting, by id → when they are next due. */
  due: Map<string, Date>;
  /** Status changes, for telemetry after commit. */
  statuses: WorkflowRunStatus[];
  lateness: number[];
  workspaceId: number;
}

/**
 * The workflow runner (README, "Workflows"; docs/architecture.md, "Workflow runs"): advances the runs
 * whose jobs are due. One transaction per batch takes the due jobs (`FOR UPDATE SKIP LOCKED`), locks the runs, runs each as far as it goes — steps that need no wait run at once; a delay, a
 * send window or a digest bucket makes it WAITING with the due time as a new job — and commits the runs'
 * state, history, messages (each send step's with the idempotency key `run:<run>:<step>`) and next jobs
 * together. A cancel committed before the batch locked a run is seen (the run is not open); one that comes
 * after waits for the lock. Nothing in memory outlives a batch.
 */
export class WorkflowRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /**
   * Takes up to `limit` due run jobs and advances their runs, all in one transaction; returns how many
   * jobs it took. When that transaction fails, each job is tried again in a transaction of its own, so one
   * broken run never holds up the others; a run that still fails is reported in `failed` and its job
   * deferred with a backoff (its try counted).
   */
  async runDue(
    limit: number,
    workspaceIds?: readonly number[],
  ): Promise<{ taken: number; failed: { runId: string; workspaceId: number; error: unknown }[] }> {
    const { db, queue } = this.deps;
    const failed: { runId: string; workspaceId: number; error: unknown }[] = [];
    let taken: DueRun[] = [];
    const effects = await db
      .transaction(async (tx) => {
        taken = await queue.takeDueRunsIn(tx, limit, { workspaceIds });
        return this.advanceIn(tx, taken);
      })
      .catch(async (err: unknown) => {
        if (taken.length <= 1) {
          if (taken.length) await this.deferFailed(taken[0], err, failed);
          return [];
        }
        const each: BatchEffects[] = [];
        for (const job of taken) {
          try {
            each.push(
              ...(await db.transaction(async (tx) => {
                // none: taken meanwhile by another worker
                return this.advanceIn(tx, await queue.takeDueRunsIn(tx, 1, { jobId: job.id }));
              })),
            );
          } catch (error) {
            await this.deferFailed(job, error, failed);
          }
        }
        return each;
      });
    for (const e of effects) this.afterCommit(e);
    return { taken: taken.length, failed };
  }

  private async deferFailed(
    job: DueRun,
    error: unknown,
    failed: { runId: string; workspaceId: number; error: unknown }[],
  ): Promise<void> {
    failed.push({ runId: job.runId, workspaceId: job.workspaceId, error });
    await this.deps.queue.deferRunJob(job.id, new Date(Date.now() + crashDelayMs(job.runs + 1))).catch(() => undefined);
  }

  /** Advances the runs of jobs taken in `tx`, workspace by workspace; their jobs are deleted in `tx`. */
  private async advanceIn(tx: Sql, jobs: readonly DueRun[]): Promise<BatchEffects[]> {
    const byWorkspace = new Map<number, DueRun[]>();
    for (const j of jobs) byWorkspace.set(j.workspaceId, [...(byWorkspace.get(j.workspaceId) ?? []), j]);
    const all: BatchEffects[] = [];
    for (const [workspaceId, group] of byWorkspace) all.push(await this.advanceWorkspaceIn(tx, workspaceId, group));
    return all;
  }

  private async advanceWorkspaceIn(tx: Sql, workspaceId: number, jobs: readonly DueRun[]): Promise<BatchEffects> {
    const { queue, store, messages } = this.deps;
    const ctx: RequestContext = { workspaceId };
    const effects: BatchEffects = {
      history: [],
      messages: [],
      due: new Map(),
      statuses: [],
      lateness: [],
      workspaceId,
    };
    // the runs are locked before their jobs are deleted; a run another transaction holds (a cancel, a
    // digest arrival) is skipped and its job stays due, so the two never wait for each other
    const runs = await store.lockIn(
      tx,
      workspaceId,
      jobs.map((j) => j.runId),
      { skipLocked: true },
    );
    const locked = new Set(runs.map((r) => r.id));
    await queue.deleteIn(
      tx,
      jobs.filter((j) => locked.has(j.runId)).map((j) => j.id),
    );
    const open = runs.filter((r) => r.isOpen);
    if (!open.length) return effects;
    const inputs = await this.load(ctx, open);
    const now = new Date();
    const inBatch = new Map(open.map((r) => [r.id, r]));
    for (const run of open) {
      const before = run.status;
      await this.advance(tx, run, inputs, effects, inBatch, now);
      if (run.status !== before || run.status === WorkflowRunStatus.WAITING) effects.statuses.push(run.status);
      run.updatedAt = now;
    }
    // saved once every run of the batch has advanced: a later run may change an earlier one (a digest
    // bucket filled by `maxItems` makes its collector due now)
    await store.saveManyIn(tx, open);
    // a send step whose message exists already adds nothing, and its history names that message (it
    // cannot happen while a run's state and its messages commit together: a guard, not a path)
    const taken = await messages.takenKeysIn(
      tx,
      workspaceId,
      effects.messages.map((m) => m.idempotencyKey),
    );
    if (taken.size) {
      const existing = new Map(
        effects.messages.filter((m) => taken.has(m.idempotencyKey)).map((m) => [m.id, taken.get(m.idempotencyKey)!]),
      );
      for (const entry of effects.history) {
        if (entry.type === 'SENT' && existing.has(entry.detail.messageId))
          entry.detail.messageId = existing.get(entry.detail.messageId)!;
      }
      effects.messages = effects.messages.filter((m) => !taken.has(m.idempotencyKey));
    }
    await messages.createIn(tx, workspaceId, effects.messages, now);
    await store.appendHistoryIn(tx, effects.history);
    await store.scheduleIn(
      tx,
      workspaceId,
      [...effects.due].map(([runId, at]) => ({ runId, at })),
    );
    return effects;
  }

  /** After the batch committed: wake this process's workers, report metrics. */
  private afterCommit(effects: BatchEffects): void {
    const { store, messages, telemetry } = this.deps;
    if (effects.messages.length) messages.wake();
    if ([...effects.due.values()].some((at) => at.getTime() <= Date.now())) store.wake();
    for (const status of effects.statuses) telemetry?.runStatus(status);
    for (const ms of effects.lateness) telemetry?.stepLateness(ms);
  }

  private async load(ctx: RequestContext, runs: readonly WorkflowRun[]): Promise<BatchInputs> {
    const { workflows, profiles, events, templates } = this.deps;
    const definitions = await workflows.versions(
      runs.flatMap((r) => (r.version === null ? [] : [{ workflowId: r.workflowId, version: r.version }])),
    );
    const templateKeys = new Set<string>();
    for (const d of definitions.values()) for (const s of d.steps) if (s.type === 'send') templateKeys.add(s.template);
    const [byUser, byEvent, templateIds] = await Promise.all([
      profiles.getByIds(ctx, [...new Set(runs.map((r) => r.userId))]),
      events.getByIds(ctx, [...new Set(runs.flatMap((r) => (r.eventId ? [r.eventId] : [])))]),
      templates.idsByKey(ctx, [...templateKeys]),
    ]);
    const traits = new Map([...byUser].map(([userId, p]) => [userId, p.traits]));
    return { definitions, traits, events: byEvent, templateIds };
  }

  /** Runs one run from its current step until it waits or ends; its changes stay in memory and `effects`. */
  private async advance(
    tx: Sql,
    run: WorkflowRun,
    inputs: BatchInputs,
    effects: BatchEffects,
    inBatch: Map<string, WorkflowRun>,
    now: Date,
  ): Promise<void> {
    const log = (entry: RunHistoryEntry) => effects.history.push({ ...entry, runId: run.id, at: now });
    const fail = (reason: string, message: string, ref?: string) => {
      Object.assign(run, { status: WorkflowRunStatus.FAILED, reason, resumeAt: null });
      log({ type: 'FAILED', detail: { reason, message, ...(ref ? { ref } : {}) } });
    };
    if (run.resumeAt && run.resumeAt.getTime() > now.getTime()) {
      // claimed before its time (clocks apart): nothing is done before the due time
      effects.due.set(run.id, run.resumeAt);
      return;
    }
    const definition = run.version === null ? undefined : inputs.definitions.get(`${run.workflowId}:${run.version}`);
    if (!definition) {
      fail('UNPUBLISHED', 'the workflow had no published version when the run started');
      return;
    }
    const traits = inputs.traits.get(run.userId) ?? {};
    if (!run.timezone) {
      const resolved = recipientZone(traits.timezone, run.eventTimezone, this.deps.defaultTimezone);
      const ignored = [
        ...(traits.timezone !== undefined && resolved.source !== 'profile' ? ['profile.timezone'] : []),
        ...(run.eventTimezone && resolved.source === 'default' ? ['event.context.timezone'] : []),
      ];
      run.timezone = resolved.zone;
      log({ type: 'TIMEZONE', detail: { ...resolved, ...(ignored.length ? { ignored } : {}) } });
    }
    const zone = run.timezone;
    const stored = run.eventId ? inputs.events.get(run.eventId) : undefined;
    const event = stored
      ? { ...stored.payload, name: stored.name, id: stored.id, receivedAt: stored.receivedAt.toISOString() }
      : {};
    const scope = () => ({ data: run.data, profile: traits, event, ...(run.digest ? { digest: run.digest } : {}) });
    const wait = (step: WorkflowStep, until: Date, reason: 'DELAY' | 'SEND_WINDOW' | 'DIGEST', because: string) => {
      Object.assign(run, { status: WorkflowRunStatus.WAITING, resumeAt: until });
      effects.due.set(run.id, until);
      log({
        type: 'WAITING',
        detail: {
          ref: step.ref,
          until: until.toISOString(),
          zone,
          reason,
          because,
          localUntil: DateTime.fromJSDate(until, { zone }).toISO({ suppressMilliseconds: true }) ?? until.toISOString(),
        },
      });
    };

    // a WAITING run is due: the wait of its current step is over
    let resuming = run.status === WorkflowRunStatus.WAITING;
    if (resuming && run.resumeAt) {
      const lateMs = Math.max(0, now.getTime() - run.resumeAt.getTime());
      effects.lateness.push(lateMs);
      const step = definition.steps[run.stepIndex];
      if (step) log({ type: 'RESUMED', detail: { ref: step.ref, dueAt: run.resumeAt.toISOString(), lateMs } });
    }
    Object.assign(run, { status: WorkflowRunStatus.RUNNING, resumeAt: null });

    for (; run.stepIndex < definition.steps.length; run.stepIndex++, resuming = false) {
      const step = definition.steps[run.stepIndex];
      run.step = step.ref;
      if (!resuming && step.when !== undefined) {
        const { result, trace } = conditionHolds(step.when, scope(), { roots: STEP_ROOTS, now });
        if (step.type === 'exit') {
          if (!result) {
            log({ type: 'STEP_SKIPPED', detail: { ref: step.ref, type: step.type, trace } });
            continue;
          }
          Object.assign(run, { status: WorkflowRunStatus.EXITED });
          log({ type: 'EXITED', detail: { ref: step.ref, trace } });
          return;
        }
        if (!result) {
          log({ type: 'STEP_SKIPPED', detail: { ref: step.ref, type: step.type, trace } });
          continue;
        }
      }
      switch (step.type) {
        case 'exit':
          continue;
        case 'delay': {
          if (resuming) continue;
          const due = delayDue(step, scope(), zone, now);
          if ('invalid' in due) {
            const onInvalid = step.onInvalid ?? 'FAIL';
            log({
              type: 'INVALID_DELAY',
              detail: { ref: step.ref, path: step.untilPath!, value: due.invalid, onInvalid },
            });
            if (onInvalid === 'CONTINUE') continue;
            fail('INVALID_DELAY', `${step.untilPath} is not a time within ${MAX_DURATION_DAYS} days`, step.ref);
            return;
          }
          if (due.at.getTime() <= now.getTime()) {
            log({ type: 'DELAY_PASSED', detail: { ref: step.ref, until: due.at.toISOString(), because: due.because } });
            continue;
          }
          wait(step, due.at, 'DELAY', due.because);
          return;
        }
        case 'send': {
          const window = step.window ?? definition.window;
          if (window && !inWindow(window, now, zone)) {
            const opening = nextOpening(window, now, zone);
            const days = window.days ? ` on ${window.days.join(',')}` : '';
            wait(step, opening, 'SEND_WINDOW', `send window ${window.from}–${window.until}${days} (${zone})`);
            return;
          }
          if (!this.send(run, step, definition.topic, inputs, stored, effects, log)) {
            fail('TEMPLATE_NOT_FOUND', `no template has the key "${step.template}"`, step.ref);
            return;
          }
          continue;
        }
        case 'throttle': {
          const passed = await this.throttle(tx, run, step, scope(), now, log);
          if (!passed) {
            Object.assign(run, { status: WorkflowRunStatus.THROTTLED });
            return;
          }
          continue;
        }
        case 'digest': {
          const goOn = await this.digest(tx, run, step, scope(), resuming, effects, inBatch, now, log, wait);
          if (!goOn) return;
          continue;
        }
      }
    }
    run.step = definition.steps[definition.steps.length - 1]?.ref ?? null;
    Object.assign(run, { status: WorkflowRunStatus.COMPLETED });
    log({ type: 'COMPLETED', detail: { steps: definition.steps.length } });
  }

  /** Queues the send step's message; false when its template does not exist. */
  private send(
    run: WorkflowRun,
    step: SendStep,
    topic: string | null,
    inputs: BatchInputs,
    event: InboundEvent | undefined,
    effects: BatchEffects,
    log: (entry: RunHistoryEntry) => void,
  ): boolean {
    const templateId = inputs.templateIds.get(step.template);
    if (!templateId) return false;
    const id = timeOrderedId();
    effects.messages.push({
      id,
      templateId,
      userId: run.userId,
      data: run.data,
      eventId: run.eventId,
      eventName: event?.name ?? null,
      idempotencyKey: `run:${run.id}:${step.ref}`,
      runId: run.id,
      sendOptions: {
        step: step.ref,
        // the workflow's topic judges the send (preferences), before the template's own
        ...(topic ? { topic } : {}),
        ...(step.channels ? { channels: step.channels } : {}),
        ...(step.method ? { method: step.method } : {}),
        ...(run.digest ? { digest: run.digest as unknown as Record<string, unknown> } : {}),
      },
    });
    log({
      type: 'SENT',
      detail: {
        ref: step.ref,
        messageId: id,
        template: step.template,
        templateId,
        ...(step.channels ? { channels: step.channels } : {}),
        ...(step.method ? { method: step.method } : {}),
      },
    });
    return true;
  }

  private async throttle(
    tx: Sql,
    run: WorkflowRun,
    step: ThrottleStep,
    scope: Record<string, unknown>,
    now: Date,
    log: (entry: RunHistoryEntry) => void,
  ): Promise<boolean> {
    const key = step.key ? keyValue(scope, step.key) : null;
    const identity = stepIdentity(run.workspaceId, run.workflowId, step.ref, run.userId, key);
    const windowMs = durationMs(step.window, now);
    const { admitted, count } = await admitIn(tx, run.workspaceId, identity, run.id, step.limit, windowMs, now);
    const detail = { ref: step.ref, count, limit: step.limit, window: step.window, key };
    log(admitted ? { type: 'THROTTLE_PASSED', detail } : { type: 'THROTTLED', detail });
    return admitted;
  }

  /** A digest step; true when the run goes on (its bucket closed), false when it waits or ended DIGESTED. */
  private async digest(
    tx: Sql,
    run: WorkflowRun,
    step: DigestStep,
    scope: Record<string, unknown>,
    resuming: boolean,
    effects: BatchEffects,
    inBatch: Map<string, WorkflowRun>,
    now: Date,
    log: (entry: RunHistoryEntry) => void,
    wait: (step: WorkflowStep, until: Date, reason: 'DIGEST', because: string) => void,
  ): Promise<boolean> {
    const key = step.key ? keyValue(scope, step.key) : null;
    const identity = stepIdentity(run.workspaceId, run.workflowId, step.ref, run.userId, key);
    const close = async (): Promise<boolean> => {
      const closed = await closeIn(tx, run.id, identity, now);
      if (closed.kind === 'moved') {
        wait(step, closed.closeAt, 'DIGEST', `the digest window moved (SLIDING ${step.window}) to a later item`);
        return false;
      }
      if (closed.kind === 'missing') throw new Error(`run ${run.id}: its digest bucket is missing`);
      run.digest = closed.digest;
      log({
        type: 'DIGEST_CLOSED',
        detail: { ref: step.ref, digestId: closed.digestId, count: closed.digest.count, closedBy: closed.closedBy },
      });
      return true;
    };
    if (resuming) return close();
    const settings = {
      windowMs: durationMs(step.window, now),
      maxWindowMs: step.maxWindow ? durationMs(step.maxWindow, now) : null,
      sliding: step.mode === 'SLIDING',
      maxItems: step.maxItems ?? null,
    };
    const arrival = await arriveIn(tx, run.workspaceId, identity, run, settings, now);
    if (arrival.kind === 'opened') {
      log({
        type: 'DIGEST_OPENED',
        detail: {
          ref: step.ref,
          digestId: arrival.digestId,
          closeAt: arrival.closeAt.toISOString(),
          key,
          mode: step.mode ?? 'FIXED',
        },
      });
      if (arrival.closedNow) return close();
      wait(step, arrival.closeAt, 'DIGEST', `digest window ${step.window} (${step.mode ?? 'FIXED'})`);
      return false;
    }
    Object.assign(run, { status: WorkflowRunStatus.DIGESTED });
    log({
      type: 'DIGESTED',
      detail: { ref: step.ref, digestId: arrival.digestId, into: arrival.collectorRunId, count: arrival.count, key },
    });
    if (arrival.closedNow) {
      // maxItems reached: the collecting run goes on now, not at the end of the window
      const collector = inBatch.get(arrival.collectorRunId);
      if (collector && effects.due.has(collector.id)) {
        collector.resumeAt = now;
        effects.due.set(collector.id, now);
      } else if (!collector) {
        await this.deps.store.resumeEarlyIn(tx, arrival.collectorRunId, now);
      }
    }
    return false;
  }
}

/** A throttle or digest key's value as text (null when the path is missing). */
function keyValue(scope: Record<string, unknown>, path: string): string | null {
  const value = valueAt(scope, path);
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A validated duration in milliseconds, counted from `at` (months and years are calendar units). */
function durationMs(text: string, at: Date): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`invalid duration ${text}`);
  return addDuration(at, parsed.duration, 'UTC').getTime() - at.getTime();
}

/** When a delay step ends, and the rule that said so in words; or the invalid `untilPath` value. */
function delayDue(
  step: DelayStep,
  scope: Record<string, unknown>,
  zone: string,
  now: Date,
): { at: Date; because: string } | { invalid: unknown } {
  if (step.duration) {
    const parsed = parseDuration(step.duration);
    if (!parsed.ok) throw new Error(`invalid duration ${step.duration}`);
    return { at: addDuration(now, parsed.duration, zone), because: `duration ${step.duration}` };
  }
  if (step.until) return { at: new Date(step.until), because: `until ${step.until}` };
  if (step.at) {
    const days = step.at.days ? ` on ${step.at.days.join(',')}` : '';
    return { at: nextScheduled(step.at, now, zone), because: `next ${step.at.time}${days} (${zone})` };
  }
  const value = valueAt(scope, step.untilPath!);
  const parsed = typeof value === 'string' ? DateTime.fromISO(value, { zone }) : null;
  if (!parsed?.isValid) return { invalid: value ?? null };
  let at = parsed.toJSDate();
  let because = `${step.untilPath} = ${value}`;
  if (step.offset) {
    const offset = parseDuration(step.offset, { signed: true });
    if (!offset.ok) throw new Error(`invalid offset ${step.offset}`);
    at = addDuration(at, offset.duration, zone);
    because += ` with offset ${step.offset}`;
  }
  if (at.getTime() - now.getTime() > MAX_WAIT_MS) return { invalid: value };
  return { at, because };
}
