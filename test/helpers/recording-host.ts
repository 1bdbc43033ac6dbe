/** Our side of a test against another ENet implementation: one ENetConnection, every event recorded. */
import { ENetConnection, EventType } from '../../src/enet/ENetConnection';
import { ENetPacketPeer } from '../../src/enet/ENetPacketPeer';
import { GodotError } from '../../src/core/errors';

export interface Got {
  peer: ENetPacketPeer;
  channel: number;
  flags: number;
  data: Buffer;
}

export class RecordingHost {
  readonly conn = new ENetConnection();
  readonly connects: Array<{ peer: ENetPacketPeer; data: number }> = [];
  readonly disconnects: Array<{ peer: ENetPacketPeer; data: number; at: number }> = [];
  readonly received: Got[] = [];
  errorEvents = 0;
  serviceCalls = 0;

  /** service(0) until there are no more events. */
  readonly pump = (): void => {
    while (this.step() > EventType.EVENT_NONE);
  };

  /** One service(0) call, its event recorded; returns the event type. */
  step(): EventType {
    this.serviceCalls++;
    const [type, peer, data, channel] = this.conn.service(0);
    if (type === EventType.EVENT_NONE) return type;
    if (type === EventType.EVENT_ERROR) {
      this.errorEvents++;
      return type;
    }
    if (peer === null) throw new Error(`event ${type} without a peer`);
    if (type === EventType.EVENT_CONNECT) this.connects.push({ peer, data });
    else if (type === EventType.EVENT_DISCONNECT) this.disconnects.push({ peer, data, at: Date.now() });
    else if (type === EventType.EVENT_RECEIVE) {
      const flags = peer.getPacketFlags();
      const bytes = peer.getPacket();
      if (peer.getPacketError() !== GodotError.OK) throw new Error('queued packet could not be read');
      this.received.push({ peer, channel, flags, data: bytes });
    }
    return type;
  }

  /** Received packets not yet taken, filtered; `take` removes them. */
  take(pred: (g: Got) => boolean): Got[] {
    const out: Got[] = [];
    for (let i = 0; i < this.received.length; ) {
      if (pred(this.received[i])) out.push(...this.received.splice(i, 1));
      else i++;
    }
    return out;
  }

  destroy(): void {
    if (this.conn.getCounters() !== null) this.conn.destroy();
  }
}
