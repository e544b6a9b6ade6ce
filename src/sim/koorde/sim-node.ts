import { findSuccessorStep } from '../../koorde/find-successor.ts';
import type { Id } from '../../koorde/id-space.ts';
import { LookupRun } from '../../koorde/lookup-run.ts';
import {
  applyFailure,
  applyNotify,
  applyStabilize,
  applyWindow,
  neighbourState,
  windowKey,
} from '../../koorde/maintenance.ts';
import type { RoutingTable } from '../../koorde/routing-table.ts';
import type { MaintenanceSchedule, MaintenanceTask } from '../../koorde/schedule.ts';
import { driveLookup, type DriverContext } from './lookup-driver.ts';

/** One simulated Koorde member: the pure routing table plus its schedule. */
export class SimKoordeNode {
  alive = true;

  constructor(
    readonly table: RoutingTable,
    readonly schedule: MaintenanceSchedule,
  ) {}

  get id(): Id {
    return this.table.self.id;
  }
}

export type KoordeContext = DriverContext<SimKoordeNode>;

/** Run the maintenance tasks due at this tick (Chord §4 stabilization; Koorde §4 window). */
export function runMaintenance(ctx: KoordeContext, node: SimKoordeNode, tasks: readonly MaintenanceTask[]): void {
  for (const task of tasks) {
    if (task === 'stabilize') stabilize(ctx, node);
    else if (task === 'check-predecessor') checkPredecessor(ctx, node);
    else if (task === 'fix-window') fixWindow(ctx, node);
  }
}

function stabilize(ctx: KoordeContext, node: SimKoordeNode): void {
  if (node.table.isAlone()) return;
  const successor = node.table.successor();
  ctx.net.request(
    successor.id,
    (peer) => neighbourState(peer.table),
    (state) => {
      if (!node.alive) return;
      if (state === undefined) {
        applyFailure(node.table, successor.id);
        return;
      }
      const target = applyStabilize(node.table, successor, state);
      if (target !== undefined) ctx.net.send(target.id, (peer) => applyNotify(peer.table, node.table.self));
    },
  );
}

function checkPredecessor(ctx: KoordeContext, node: SimKoordeNode): void {
  const pred = node.table.predecessor;
  if (pred === undefined) return;
  ctx.net.request(
    pred.id,
    () => true,
    (alive) => {
      if (node.alive && alive === undefined) applyFailure(node.table, pred.id);
    },
  );
}

/**
 * Look up k·m; the node before its owners anchors the window, and that
 * node's predecessor is the backup before it (§4). `then` runs after,
 * found or not.
 */
export function fixWindow(ctx: KoordeContext, node: SimKoordeNode, then: () => void = () => undefined): void {
  if (node.table.isAlone()) return then();
  const run = new LookupRun(windowKey(node.table), node.table.self);
  run.accept(findSuccessorStep(node.table, { key: run.key }), false);
  driveLookup(ctx, run, (outcome) => {
    const anchor = outcome.predecessor;
    if (!node.alive || outcome.failure !== undefined || anchor === undefined) return then();
    ctx.net.request(
      anchor.id,
      (peer) => peer.table.predecessor,
      (before) => {
        if (node.alive) applyWindow(node.table, outcome.owners, anchor, before !== undefined ? [before] : []);
        then();
      },
    );
  });
}
