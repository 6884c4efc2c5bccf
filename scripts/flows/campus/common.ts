// What the campus tabs share: the sensor kinds, the dashboard pages and the
// refusal note for a dashboard action dashboard-access turned down.
import { FlowNode, uiGroup, uiPage } from '../kit';

export const SENSOR_KINDS = ['temperature', 'humidity', 'co2', 'luminosity'];
export const ECHO_KINDS = ['shutter', 'lighting', 'ventilation', 'relay'];
export const UNITS: Record<string, string> = {
  temperature: '°C',
  humidity: '%',
  co2: 'ppm',
  luminosity: 'lux',
};

export const pages: FlowNode[] = [
  uiPage('sf-page-fleet', 'Fleet', '/fleet', 'devices', 2),
  uiGroup('sf-group-fleet', 'Devices', 'sf-page-fleet', 12, 1),
  uiPage('sf-page-sensors', 'Sensors', '/sensors', 'chart-line', 3),
  uiGroup('sf-group-range', 'Time range', 'sf-page-sensors', 12, 1, false),
  ...SENSOR_KINDS.map((k, i) =>
    uiGroup(
      `sf-group-${k}`,
      k === 'co2' ? 'CO2' : k[0].toUpperCase() + k.slice(1),
      'sf-page-sensors',
      6,
      i + 2,
    ),
  ),
  uiPage('sf-page-alarms', 'Alarms', '/alarms', 'alarm-light', 4),
  uiGroup('sf-group-alarms', 'Alarms', 'sf-page-alarms', 12, 1, false),
  uiPage('sf-page-actuators', 'Actuators', '/actuators', 'window-shutter', 5),
  uiGroup(
    'sf-group-actuators',
    'Shutters, lighting and other actuators',
    'sf-page-actuators',
    12,
    1,
  ),
];

/** A refused dashboard action: a note for that browser, and a notification. */
export function refused(topic: string, payload: string): string {
  return `
// msg.refused says why (dashboard-access); only this browser hears of it.
const p = msg.payload || {};
return [
  { _client: msg._client, topic: '${topic}', payload: ${payload} },
  { _client: msg._client, payload: 'Refused: ' + msg.refused },
];`;
}
