/**
 * The shipped Grafana dashboards (dashboards/grafana/*.json) as tests read them: panels,
 * their PromQL expressions, the metric names those use, and an expression made runnable
 * outside Grafana (template variables replaced).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
}

export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; query: string }[] };
}

export function loadDashboards(root: string): Dashboard[] {
  const dir = join(root, 'dashboards/grafana');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<Dashboard, 'file'>) }));
}

/** Metric names an expression refers to (ours and the process_ defaults). */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b((?:mptcp|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]))];
}

/** The expression with Grafana's variables replaced, for a Prometheus HTTP API query. */
export function runnable(expr: string, rateInterval = '30s'): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$job', '.*').replaceAll('$instance', '.*');
}
