// flows/campus.json (seed 002, sensOCampus): MQTT sensors by topic segment →
// history, alarm rules and live charts; rules → shutter, lighting and
// ventilation commands; device status → watchdog → the Fleet page; the
// Alarms and Actuators pages. Every page shows a dashboard user only their
// customer's devices (dashboard-access, device-list and `msg._customer`).
import type { FlowNode } from '../kit';
import { broker, eotServer, history, registry, uiBase, uiTheme } from '../shared';
import { actuatorsTab } from './actuators';
import { alarmsTab } from './alarms';
import { pages } from './common';
import { fleetTab } from './fleet';
import { sensorsTab } from './sensors';

export function campus(): FlowNode[] {
  return [
    ...[sensorsTab(), fleetTab(), alarmsTab(), actuatorsTab()].flatMap((t) => t.nodes),
    ...pages,
    uiBase,
    uiTheme,
    broker,
    registry,
    history,
    eotServer,
  ];
}
