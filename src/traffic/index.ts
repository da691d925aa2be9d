// Preview traffic from Prometheus: request counts per preview host (the status page) and their
// classification for idle reaping.
export {
  PrometheusTraffic,
  TrafficError,
  PROMETHEUS_TOKEN_ENV,
  previewHostRegex,
  fillTrafficQuery,
  prometheusTrafficFor,
  type HostTraffic,
  type PrometheusTrafficOptions,
  type TrafficSource,
  type TrafficWindow,
} from './prometheus-traffic.js';
