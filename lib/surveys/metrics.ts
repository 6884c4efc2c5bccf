// The smart-meter scenario's Prometheus metrics, labelled by the node (gateway or cloud) id.
import { counter, gauge } from '../ops/metrics';

export const surveyMetrics = {
  gatewayBatches: counter(
    'sensflow_survey_gateway_batches_total',
    'Batches at a survey gateway, by stage: arrived (kept on disk), duplicate (sent again by a meter), forwarded (confirmed by the cloud), refused (by the cloud)',
    ['gateway', 'stage'],
  ),
  badLines: counter('sensflow_survey_bad_lines_total', 'Survey lines refused as malformed', [
    'node',
  ]),
  pending: gauge(
    'sensflow_survey_gateway_pending_batches',
    'Batches kept until the cloud confirms them',
    ['gateway'],
  ),
  cloudBatches: counter(
    'sensflow_survey_cloud_batches_total',
    'Batches at a survey cloud endpoint: taken, or duplicate (sent again after a lost confirmation)',
    ['cloud', 'result'],
  ),
};
