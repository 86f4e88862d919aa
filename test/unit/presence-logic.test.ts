/**
 * The presence actor's decisions and the login policy's parser: which
 * devices a login displaces, that a device never displaces itself, that
 * devices on edges that stopped answering do not count, and that a bad
 * policy is refused naming what is wrong. Edge liveness with a stepped clock.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceEntry } from '../../actors/presence/calls.ts';
import { PRESENCE_EVENT_APPLY, decideOffline, decideOnline, onlineDevices, parseDeviceLimits } from '../../actors/presence/logic.ts';
import type { PresenceEvent, PresenceState } from '../../actors/presence/logic.ts';
import { emptyEventsState } from '../../actors/presence/events.ts';
import { EDGE_SILENCE_MS, EdgeLiveness } from '../../engine/edge-liveness.ts';
import { ConfigError, parseConfig } from '../../engine/config.ts';

const everyEdgeAlive = () => true;

function stateWith(...devices: DeviceEntry[]): PresenceState {
  return { account: 'a', devices: new Map(devices.map((d) => [d.deviceId, d])), signals: new Map(), channels: new Map(), events: emptyEventsState(), tokens: new Map() };
}

function apply(state: PresenceState, events: PresenceEvent[]): void {
  for (const e of events) {
    if (e.t === 'online') PRESENCE_EVENT_APPLY.online(state, e);
    else if (e.t === 'offline') PRESENCE_EVENT_APPLY.offline(state, e);
  }
}

const dev = (deviceId: string, deviceType: DeviceEntry['deviceType'], at: number, edge = 'e1'): DeviceEntry => ({ deviceId, deviceType, edge, conn: `${edge}/${deviceId}`, at });

describe('login policy', () => {
  it('displaces the oldest devices a rule covers, and only those', () => {
    const state = stateWith(dev('ios-old', 'ios', 1), dev('web', 'web', 2), dev('android', 'android', 3));
    const limits = parseDeviceLimits('mobile=1, web=5');
    const { evict, events } = decideOnline(state, { device: { deviceId: 'ios-new', deviceType: 'ios', edge: 'e1', conn: 'e1/x' }, limits }, everyEdgeAlive, 10);
    expect(evict).toEqual(['ios-old', 'android']);
    apply(state, events);
    expect([...state.devices.keys()].sort()).toEqual(['ios-new', 'web']);
    expect(state.devices.get('ios-new')!.at).toBe(10);
  });

  it('a reconnect of the same device replaces it and displaces nobody; a repeat keeps the login time', () => {
    const state = stateWith(dev('phone', 'ios', 1));
    const limits = parseDeviceLimits('ios=1');
    const again = { device: { deviceId: 'phone', deviceType: 'ios' as const, edge: 'e2', conn: 'e2/7' }, limits };
    const first = decideOnline(state, again, everyEdgeAlive, 5);
    expect(first.evict).toEqual([]);
    apply(state, first.events);
    const repeat = decideOnline(state, again, everyEdgeAlive, 9);
    apply(state, repeat.events);
    expect(state.devices.get('phone')).toMatchObject({ conn: 'e2/7', at: 5 });
    // The old socket's close no longer removes the device.
    expect(decideOffline(state, 'phone', 'e1/phone')).toEqual([]);
    expect(decideOffline(state, 'phone', 'e2/7')).toEqual([{ t: 'offline', deviceId: 'phone', conn: 'e2/7' }]);
  });

  it('the total rule keeps the newest N', () => {
    const state = stateWith(dev('w1', 'web', 1), dev('w2', 'web', 2), dev('p', 'pc', 3));
    const { evict } = decideOnline(state, { device: { deviceId: 'w3', deviceType: 'web', edge: 'e1', conn: 'e1/w3' }, limits: parseDeviceLimits('*=2') }, everyEdgeAlive, 10);
    expect(evict).toEqual(['w1', 'w2']);
  });

  it('devices on an edge that stopped answering do not count and are dropped', () => {
    const state = stateWith(dev('ghost', 'ios', 1, 'dead'), dev('live', 'ios', 2, 'e1'));
    const alive = (edge: string) => edge !== 'dead';
    const { evict, events } = decideOnline(state, { device: { deviceId: 'new', deviceType: 'ios', edge: 'e1', conn: 'e1/n' }, limits: parseDeviceLimits('ios=2') }, alive, 10);
    expect(evict).toEqual([]);
    apply(state, events);
    expect([...state.devices.keys()].sort()).toEqual(['live', 'new']);
    const listed = onlineDevices(stateWith(dev('ghost', 'ios', 1, 'dead'), dev('live', 'web', 2)), alive);
    expect(listed.devices).toEqual([{ deviceId: 'live', deviceType: 'web', loginTime: 2 }]);
    expect(listed.events).toEqual([{ t: 'offline', deviceId: 'ghost', conn: 'dead/ghost' }]);
  });

  it('a bad policy is refused, naming the variable and the rule', () => {
    expect(parseDeviceLimits('')).toEqual([]);
    expect(() => parseDeviceLimits('ios')).toThrow("'ios' is not group=max");
    expect(() => parseDeviceLimits('phone=1')).toThrow("'phone' is no device group");
    expect(() => parseDeviceLimits('ios=0')).toThrow("the most devices of 'ios' must be at least 1");
    expect(() => parseDeviceLimits('ios=1,ios=2')).toThrow("'ios' is given twice");
    expect(() => parseConfig({ PARLEY_DEVICE_LIMITS: 'mobile=x' })).toThrow(ConfigError);
    expect(() => parseConfig({ PARLEY_DEVICE_LIMITS: 'mobile=x' })).toThrow(/^PARLEY_DEVICE_LIMITS: 'mobile=x'/);
    expect(parseConfig({ PARLEY_DEVICE_LIMITS: 'mobile=1,pc=1' }).deviceLimits).toBe('mobile=1,pc=1');
  });
});

describe('edge liveness', () => {
  it('an edge counts while heard, stops counting after the silence or at once when it says it is gone', () => {
    let now = 1_000;
    const liveness = new EdgeLiveness(() => now);
    // Unheard edges get the benefit of the doubt only right after the node starts listening.
    expect(liveness.isAlive('never-heard')).toBe(true);
    liveness.record('a', false);
    liveness.record('b', false);
    now += EDGE_SILENCE_MS - 1;
    expect([liveness.isAlive('a'), liveness.isAlive('b'), liveness.isAlive('never-heard')]).toEqual([true, true, true]);
    liveness.record('a', false);
    now += 2;
    expect([liveness.isAlive('a'), liveness.isAlive('b'), liveness.isAlive('never-heard')]).toEqual([true, false, false]);
    liveness.record('a', true);
    expect(liveness.isAlive('a')).toBe(false);
    // A late heartbeat of an edge that said it is gone does not bring it back.
    liveness.record('a', false);
    expect(liveness.isAlive('a')).toBe(false);
  });
});
