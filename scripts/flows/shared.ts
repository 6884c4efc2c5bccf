// The config nodes the shipped flows share, with the same ids in every file
// so that importing several scenarios into one Node-RED merges them: the
// dashboard (ui-base, theme), Sensflow's broker, registry, history and EOT
// server.
import type { FlowNode } from './kit';

/** The dashboard. Every widget type listed under acceptsClientConfig may be
 *  given messages for one browser (`msg._client`) or one customer
 *  (`msg._customer`, Sensflow's dashboard-scope plugin). */
export const uiBase: FlowNode = {
  id: 'sf-ui-base',
  type: 'ui-base',
  name: 'Sensflow',
  path: '/dashboard',
  appIcon: '',
  includeClientData: true,
  acceptsClientConfig: [
    'ui-notification',
    'ui-control',
    'ui-template',
    'ui-chart',
    'ui-text',
    'ui-gauge',
    'ui-table',
    'ui-dropdown',
    'ui-button',
    'ui-button-group',
    'ui-switch',
    'ui-slider',
    'ui-markdown',
    'ui-event',
  ],
  showPathInSidebar: false,
  headerContent: 'page',
  navigationStyle: 'default',
  titleBarStyle: 'default',
  showReconnectNotification: true,
  notificationDisplayTime: 1,
  showDisconnectNotification: true,
  allowInstall: false,
};

export const uiTheme: FlowNode = {
  id: 'sf-ui-theme',
  type: 'ui-theme',
  name: 'Sensflow',
  colors: {
    surface: '#1f3a5f',
    primary: '#0d74ce',
    bgPage: '#f4f6f9',
    groupBg: '#ffffff',
    groupOutline: '#d9d9e0',
  },
  sizes: {
    density: 'default',
    pagePadding: '12px',
    groupGap: '12px',
    groupBorderRadius: '6px',
    widgetGap: '12px',
  },
};

/** Sensflow's broker: the launcher gives it the service login on first start. */
export const broker: FlowNode = {
  id: 'sf-broker',
  type: 'mqtt-broker',
  name: 'Sensflow broker',
  broker: '${SENSFLOW_MQTT_BROKER_HOST}',
  port: '${SENSFLOW_MQTT_BROKER_PORT}',
  clientid: '',
  autoConnect: true,
  usetls: false,
  protocolVersion: '4',
  keepalive: '60',
  cleansession: true,
  autoUnsubscribe: true,
  birthTopic: '',
  birthQos: '0',
  birthPayload: '',
  birthMsg: {},
  closeTopic: '',
  closeQos: '0',
  closePayload: '',
  closeMsg: {},
  willTopic: '',
  willQos: '0',
  willPayload: '',
  willMsg: {},
  userProps: '',
  sessionExpiry: '',
};

export const registry: FlowNode = {
  id: 'sf-registry',
  type: 'sensflow-registry',
  name: 'Sensflow store',
  store: 'default',
  file: '',
};

export const history: FlowNode = {
  id: 'sf-history',
  type: 'history-store',
  name: 'Sensflow history',
  backend: 'default',
  url: '',
  database: '',
  retentionPolicy: '',
  precision: 'ms',
  create: false,
  rawDuration: '',
  downsampleInterval: '',
  downsampleDuration: '',
  batchSize: '',
  flushInterval: '',
  spoolMb: '',
};

export const eotServer: FlowNode = {
  id: 'sf-eot-server',
  type: 'eot-server',
  name: 'EOT devices',
  registry: 'sf-registry',
  host: '',
  port: '${SENSFLOW_EOT_PORT}',
  tls: '',
  tlsPort: '',
  separator: '|',
  legacyAuth: true,
  maxFrameBytes: 4096,
  handshakeTimeout: 10,
  idleTimeout: 300,
  queueTtl: 3600,
  queueMax: 1000,
  maxOutboundKb: 256,
  maxHandshakesPerAddress: 64,
  throttleFailures: 5,
  throttleWindow: 60,
  throttleLock: 300,
};
