// Building blocks for the shipped flows: Node-RED nodes as plain objects,
// laid out on a grid, with the few properties each type needs spelled out
// once. The flows are generated from these sources (build.ts) so that the
// scenarios and the default flow that combines them never drift apart.
import fs from 'node:fs';
import path from 'node:path';

export type FlowNode = { id: string; type: string; z?: string; [key: string]: unknown };
type Wires = string[][];

const COLUMN = 220;
const ROW = 60;

/** A tab and the nodes on it. */
export class Tab {
  readonly nodes: FlowNode[] = [];

  constructor(
    readonly id: string,
    label: string,
    info: string,
  ) {
    this.nodes.push({ id, type: 'tab', label, disabled: false, info });
  }

  /** A node at grid cell (column, row). */
  add(
    type: string,
    id: string,
    at: [number, number],
    props: Record<string, unknown>,
    wires?: Wires,
  ) {
    const node: FlowNode = {
      id,
      type,
      z: this.id,
      ...props,
      x: 140 + at[0] * COLUMN,
      y: 40 + at[1] * ROW,
    };
    if (wires !== undefined) node.wires = wires;
    this.nodes.push(node);
    return id;
  }

  comment(id: string, at: [number, number], name: string, info = '') {
    return this.add('comment', id, at, { name, info }, []);
  }

  fn(id: string, at: [number, number], name: string, code: string, wires: Wires) {
    return this.add(
      'function',
      id,
      at,
      {
        name,
        func: code.trim(),
        outputs: wires.length,
        timeout: 0,
        noerr: 0,
        initialize: '',
        finalize: '',
        libs: [],
      },
      wires,
    );
  }

  /** A switch on msg.topic, one output per value. */
  byTopic(id: string, at: [number, number], name: string, topics: string[], wires: Wires) {
    return this.add(
      'switch',
      id,
      at,
      {
        name,
        property: 'topic',
        propertyType: 'msg',
        rules: topics.map((v) => ({ t: 'eq', v, vt: 'str' })),
        checkall: 'false',
        repair: false,
        outputs: topics.length,
      },
      wires,
    );
  }

  mqttIn(
    id: string,
    at: [number, number],
    name: string,
    topic: string,
    wires: Wires,
    qos: '0' | '1' = '1',
  ) {
    return this.add(
      'mqtt in',
      id,
      at,
      {
        name,
        topic,
        qos,
        datatype: 'auto-detect',
        broker: 'sf-broker',
        nl: false,
        rap: true,
        rh: 0,
        inputs: 0,
      },
      wires,
    );
  }

  /** Sensflow's MQTT input: in process on the embedded broker, else as `mqtt in`. */
  brokerIn(id: string, at: [number, number], name: string, topic: string, wires: Wires) {
    return this.add(
      'broker-in',
      id,
      at,
      { name, topic, qos: '0', datatype: 'auto-detect', broker: 'sf-broker' },
      wires,
    );
  }

  linkOut(id: string, at: [number, number], name: string, links: string[]) {
    return this.add('link out', id, at, { name, mode: 'link', links }, []);
  }

  linkIn(id: string, at: [number, number], name: string, links: string[], wires: Wires) {
    return this.add('link in', id, at, { name, links }, wires);
  }

  catchAll(id: string, at: [number, number], name: string, scope: string[], wires: Wires) {
    return this.add('catch', id, at, { name, scope, uncaught: false }, wires);
  }

  /** A dashboard-access node letting through the operators of the device's customer. */
  operatorCheck(id: string, at: [number, number], wires: Wires) {
    return this.add(
      'dashboard-access',
      id,
      at,
      { name: 'operator of that customer?', registry: 'sf-registry', require: 'operate' },
      wires,
    );
  }

  /** An actuator-command node for orders whose messages name their unit
   *  (msg.target, msg.payload.dest), over MQTT and, with `eot`, EOT too. */
  orders(
    id: string,
    at: [number, number],
    name: string,
    retry: { eot?: boolean; ackTimeout: number; attempts: number; ttl: number },
    wires: Wires,
  ) {
    return this.add(
      'actuator-command',
      id,
      at,
      {
        name,
        registry: 'sf-registry',
        broker: 'sf-broker',
        eot: retry.eot ? 'sf-eot-server' : '',
        base: '',
        kind: '',
        order: '',
        dest: 'all',
        customer: '',
        ackTimeout: retry.ackTimeout,
        attempts: retry.attempts,
        ttl: retry.ttl,
        queueLimit: 1000,
      },
      wires,
    );
  }

  debug(id: string, at: [number, number], name: string, active = false) {
    return this.add(
      'debug',
      id,
      at,
      {
        name,
        active,
        tosidebar: true,
        console: false,
        tostatus: false,
        complete: 'true',
        targetType: 'full',
        statusVal: '',
        statusType: 'auto',
      },
      [],
    );
  }

  /** A Dashboard 2.0 template in a group, from pages/<file>.vue. */
  template(
    id: string,
    at: [number, number],
    name: string,
    group: string,
    file: string,
    order: number,
    wires: Wires,
  ) {
    return this.add(
      'ui-template',
      id,
      at,
      {
        group,
        page: '',
        ui: '',
        name,
        order,
        width: 0,
        height: 0,
        head: '',
        format: page(file),
        storeOutMessages: false,
        passthru: false,
        resendOnRefresh: false,
        templateScope: 'local',
        className: '',
      },
      wires,
    );
  }

  notification(id: string, at: [number, number], name: string) {
    return this.add(
      'ui-notification',
      id,
      at,
      {
        ui: 'sf-ui-base',
        name,
        position: 'top right',
        colorDefault: true,
        color: '',
        displayTime: '6',
        showCountdown: true,
        outputs: 0,
        allowDismiss: true,
        dismissText: 'Close',
        allowConfirm: false,
        confirmText: 'Confirm',
        raw: false,
        className: '',
        topic: '',
        topicType: 'str',
      },
      [],
    );
  }
}

/** A page template's text (Vue single-file component). */
export function page(file: string): string {
  return fs.readFileSync(path.join(__dirname, 'pages', `${file}.vue`), 'utf8');
}

export function uiPage(
  id: string,
  name: string,
  path_: string,
  icon: string,
  order: number,
): FlowNode {
  return {
    id,
    type: 'ui-page',
    name,
    ui: 'sf-ui-base',
    path: path_,
    icon,
    layout: 'grid',
    theme: 'sf-ui-theme',
    breakpoints: [
      { name: 'Default', px: '0', cols: '3' },
      { name: 'Tablet', px: '576', cols: '6' },
      { name: 'Small Desktop', px: '768', cols: '9' },
      { name: 'Desktop', px: '1024', cols: '12' },
    ],
    order,
    className: '',
    visible: 'true',
    disabled: 'false',
  };
}

export function uiGroup(
  id: string,
  name: string,
  pageId: string,
  width: number,
  order: number,
  showTitle = true,
): FlowNode {
  return {
    id,
    type: 'ui-group',
    name,
    page: pageId,
    width: String(width),
    height: '1',
    order,
    showTitle,
    className: '',
    visible: 'true',
    disabled: 'false',
    groupType: 'default',
  };
}

/** A line chart of `[{x, y, series}]` points (history-query's shape), bounded. */
export function chart(
  tab: Tab,
  id: string,
  at: [number, number],
  label: string,
  group: string,
  order: number,
  unit: string,
) {
  return tab.add(
    'ui-chart',
    id,
    at,
    {
      group,
      name: label,
      label,
      order,
      chartType: 'line',
      category: 'series',
      categoryType: 'property',
      xAxisLabel: '',
      xAxisProperty: 'x',
      xAxisPropertyType: 'property',
      xAxisType: 'time',
      xAxisFormat: '',
      xAxisFormatType: 'auto',
      xmin: '',
      xmax: '',
      yAxisLabel: unit,
      yAxisProperty: 'y',
      yAxisPropertyType: 'property',
      ymin: '',
      ymax: '',
      bins: 10,
      action: 'append',
      stackSeries: false,
      pointShape: 'false',
      pointRadius: 4,
      showLegend: true,
      // Bounded: at most this many points per line, and a week of them.
      removeOlder: 7,
      removeOlderUnit: '86400',
      removeOlderPoints: '400',
      colors: [
        '#0095FF',
        '#FF0000',
        '#FF7F0E',
        '#2CA02C',
        '#A347E1',
        '#D62728',
        '#FF9896',
        '#9467BD',
        '#C5B0D5',
      ],
      textColor: ['#666666'],
      textColorDefault: true,
      gridColor: ['#e5e5e5'],
      gridColorDefault: true,
      width: 6,
      height: 5,
      className: '',
      interpolation: 'linear',
    },
    [[]],
  );
}
