/**
 * deploy/kubernetes/*.yaml: every object passes its Kubernetes API schema (kubernetes-models'
 * validators), the probes point at the gateway's real routes on the container's real port, secrets
 * come from a Secret, and the kubelet's kill waits longer than the gateway's own shutdown.
 */
import { readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { memoryStores } from '../../src/store/stores.js';
import { createFalUpstream } from '../../src/upstream/fal-upstream.js';
import { closeDeadlineMs } from '../../src/server.js';

type Obj = Record<string, unknown> & { kind: string };
const load = (file: string): Obj[] => parseAllDocuments(readFileSync(`deploy/kubernetes/${file}`, 'utf8')).map((d) => d.toJS() as Obj);
const objects = [...load('gateway.yaml'), ...load('secret.example.yaml')];
const byKind = (kind: string): Obj => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} in deploy/kubernetes`);
  return found;
};

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  startupProbe: Probe;
  resources: { requests: Record<string, string> };
}
interface DeploymentShape {
  kind: string;
  spec: {
    replicas: unknown;
    selector: { matchLabels: object };
    strategy: { rollingUpdate: { maxUnavailable: number } };
    template: { spec: { containers: Container[]; terminationGracePeriodSeconds: number } };
  };
}
const deployment = byKind('Deployment') as unknown as DeploymentShape;
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;
const envOf = (name: string) => container.env.find((e) => e.name === name);

describe('Kubernetes manifests', () => {
  it('pass the Kubernetes API schemas', () => {
    const models = { Deployment, Service, PodDisruptionBudget, Secret } as const;
    for (const o of objects) {
      const Model = models[o.kind as keyof typeof models];
      expect(Model, `unexpected kind ${o.kind}`).toBeDefined();
      expect(() => new Model(o as never).validate()).not.toThrow();
    }
  });

  it('the schema check catches a wrong field type (the validator can fail)', () => {
    const broken = structuredClone(deployment);
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('probes call real gateway routes on the port the gateway listens on', async () => {
    const config = loadConfig({ FAL_KEY: 'fal_k8s', PORT: '0', ...Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? ''])) });
    const port = Number(envOf('PORT')?.value);
    expect(container.ports.find((p) => p.name === 'http')?.containerPort).toBe(port);
    const app = await buildApp({ config, stores: memoryStores(), upstream: createFalUpstream({ runUrl: config.falRunUrl, queueUrl: config.falQueueUrl, falKey: 'fal_k8s', userAgent: 't' }), logger: false });
    try {
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        expect(probe.httpGet.port === 'http' || probe.httpGet.port === port).toBe(true);
        const res = await app.inject({ method: 'GET', url: probe.httpGet.path });
        expect(res.statusCode, probe.httpGet.path).toBe(200);
      }
      // Readiness (not liveness) is the one that follows the store and the drain.
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    } finally {
      await app.close();
    }
  });

  it('takes FAL_KEY, ADMIN_TOKEN and the database URLs from a Secret, and requests resources', () => {
    for (const name of ['FAL_KEY', 'ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL']) {
      expect(envOf(name)?.valueFrom?.secretKeyRef?.name, name).toBe('fal-gateway');
      expect(envOf(name)?.value, name).toBeUndefined();
      expect(Object.keys((byKind('Secret') as Obj & { stringData: object }).stringData)).toContain(envOf(name)?.valueFrom?.secretKeyRef?.key);
    }
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
  });

  it('gives the pod longer than the gateway needs to drain, finish and answer before SIGKILL', () => {
    const config = loadConfig({ FAL_KEY: 'fal_k8s', SHUTDOWN_DRAIN_MS: envOf('SHUTDOWN_DRAIN_MS')?.value, SHUTDOWN_GRACE_MS: envOf('SHUTDOWN_GRACE_MS')?.value });
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(closeDeadlineMs(config));
  });

  it('keeps a replica up through voluntary disruptions and rolling updates', () => {
    const pdb = byKind('PodDisruptionBudget') as Obj & { spec: { minAvailable: number; selector: { matchLabels: object } } };
    const d = deployment;
    expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(Number(d.spec.replicas));
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const svc = byKind('Service') as Obj & { spec: { ports: { targetPort: string }[]; selector: object } };
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(container.ports.map((p) => p.name)).toContain(svc.spec.ports[0]?.targetPort);
  });
});
