// Which properties of a node name a config node, and of which type: the
// editor declares them in each node's `defaults` (`{type: 'mqtt-broker'}`),
// which the runtime never sees, so they are listed here for the node types
// Sensflow ships (Node-RED's core, Dashboard 2.0, Sensflow's). A test checks
// this list against the installed editor files.

export interface ConfigRef {
  property: string;
  /** The config node type the property must name. */
  type: string;
  /** Whether the node cannot work without it (the editor's `required`). */
  required: boolean;
}

type Refs = Record<string, Omit<ConfigRef, 'property'>>;

const required = (type: string) => ({ type, required: true });
const optional = (type: string) => ({ type, required: false });

const CORE: Record<string, Refs> = {
  'mqtt in': { broker: required('mqtt-broker') },
  'mqtt out': { broker: required('mqtt-broker') },
  'mqtt-broker': { tls: optional('tls-config') },
  'tcp in': { tls: optional('tls-config') },
  'tcp out': { tls: optional('tls-config') },
  'tcp request': { tls: optional('tls-config') },
  'http in': { swaggerDoc: optional('swagger-doc') },
  'http request': { tls: optional('tls-config'), proxy: optional('http proxy') },
  'websocket in': { server: optional('websocket-listener'), client: optional('websocket-client') },
  'websocket out': { server: optional('websocket-listener'), client: optional('websocket-client') },
  'websocket-client': { tls: optional('tls-config') },
};

// Dashboard 2.0: widgets sit in a group, groups on a page, pages in a base.
// ui-template and ui-audio take one of group, page or ui by their scope.
const WIDGETS_IN_GROUP = [
  'ui-button',
  'ui-button-group',
  'ui-chart',
  'ui-dropdown',
  'ui-file-input',
  'ui-form',
  'ui-gauge',
  'ui-markdown',
  'ui-number-input',
  'ui-progress',
  'ui-radio-group',
  'ui-slider',
  'ui-spacer',
  'ui-switch',
  'ui-table',
  'ui-text',
  'ui-text-input',
];
const DASHBOARD: Record<string, Refs> = {
  ...Object.fromEntries(WIDGETS_IN_GROUP.map((type) => [type, { group: required('ui-group') }])),
  'ui-template': {
    group: optional('ui-group'),
    page: optional('ui-page'),
    ui: optional('ui-base'),
  },
  'ui-audio': { group: optional('ui-group'), ui: optional('ui-base') },
  'ui-control': { ui: required('ui-base') },
  'ui-event': { ui: required('ui-base') },
  'ui-notification': { ui: required('ui-base') },
  'ui-group': { page: required('ui-page') },
  'ui-page': { ui: required('ui-base'), theme: required('ui-theme') },
  'ui-link': { ui: required('ui-base') },
};

const SENSFLOW: Record<string, Refs> = {
  'broker-in': { broker: required('mqtt-broker') },
  'eot-server': { registry: required('sensflow-registry'), tls: optional('tls-config') },
  'eot-in': { server: required('eot-server') },
  'eot-out': { server: required('eot-server') },
  'device-auth': { registry: required('sensflow-registry') },
  'device-watchdog': { registry: required('sensflow-registry') },
  'device-lookup': { registry: required('sensflow-registry') },
  'device-list': { registry: required('sensflow-registry') },
  'dashboard-access': { registry: required('sensflow-registry') },
  'device-simulator': { registry: required('sensflow-registry') },
  'alarm-rules': { registry: required('sensflow-registry') },
  'alarm-control': { registry: required('sensflow-registry') },
  'history-out': { store: required('history-store') },
  'history-query': { store: required('history-store') },
  'survey-cloud': { store: optional('history-store') },
  'actuator-command': {
    registry: required('sensflow-registry'),
    broker: optional('mqtt-broker'),
    eot: optional('eot-server'),
  },
};

const ALL: Record<string, Refs> = { ...CORE, ...DASHBOARD, ...SENSFLOW };

/** The config node references of a node type; none for types not listed. */
export function configRefs(nodeType: string): ConfigRef[] {
  const refs = Object.hasOwn(ALL, nodeType) ? ALL[nodeType] : {};
  return Object.entries(refs).map(([property, ref]) => ({ property, ...ref }));
}

/** Every node type with config references, for the completeness test. */
export function typesWithConfigRefs(): string[] {
  return Object.keys(ALL);
}

/** Link nodes name other link nodes in `links`: wires across tabs. */
export const LINK_TYPES: Readonly<Record<string, readonly string[]>> = {
  'link out': ['link in'],
  'link in': ['link out'],
  'link call': ['link in'],
};
