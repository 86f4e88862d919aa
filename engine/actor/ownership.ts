/**
 * Which partitions this actor host owns. Replaceable: one host owning every
 * partition (embedded and single-host clusters), or leases in a JetStream KV
 * bucket when several hosts share the partitions.
 */

export interface OwnershipListener {
  /** This host now owns `partition` and may serve its actors. */
  acquired(partition: number): void;
  /** This host no longer owns `partition`: stop serving it; resolves once its running work is done. */
  released(partition: number): void | Promise<void>;
}

export interface PartitionOwnership {
  /** Starts taking partitions; the listener hears every change. */
  start(listener: OwnershipListener): Promise<void>;
  /** True while this host holds `partition`. */
  owns(partition: number): boolean;
  /** Hands every partition back (graceful leave). */
  stop(): Promise<void>;
}

/** The single host owns every partition, for as long as it runs. */
export class StaticOwnership implements PartitionOwnership {
  private readonly partitions: number;
  private held = false;

  constructor(partitions: number) {
    this.partitions = partitions;
  }

  async start(listener: OwnershipListener): Promise<void> {
    this.held = true;
    for (let p = 0; p < this.partitions; p++) listener.acquired(p);
  }

  owns(partition: number): boolean {
    return this.held && partition >= 0 && partition < this.partitions;
  }

  async stop(): Promise<void> {
    this.held = false;
  }
}
