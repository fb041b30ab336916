// The Kubernetes manifests as a cluster would receive them: each overlay rendered by kustomize
// (`kubectl kustomize`, the same command the guide gives), every object validated against the
// Kubernetes API schemas (kubernetes-models) and the CloudNativePG and cert-manager CRD schemas,
// then the properties the deployment relies on, read off the rendered objects. The schemas check
// types, required fields and enums; like the API server without strict field validation, they do
// not refuse unknown fields, so the fields that matter are asserted here one by one.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Cluster, ScheduledBackup } from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1';
import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { ENTRIES, REPO_DIR } from '../container/build-api';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'postgresql.cnpg.io/v1/Cluster': Cluster,
  'postgresql.cnpg.io/v1/ScheduledBackup': ScheduledBackup,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/Issuer': Issuer,
};

// Loose views of the rendered objects for the assertions (the schemas above are the strict check).
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port: number | string; protocol?: string }[];
}

const OVERLAYS = ['demo', 'production'] as const;
const K8S_DIR = join(REPO_DIR, 'deploy', 'k8s');

function render(overlay: string): Obj[] {
  let text: string;
  try {
    text = execFileSync('kubectl', ['kustomize', join(K8S_DIR, 'overlays', overlay)], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`kubectl kustomize failed (kubectl with its built-in kustomize is needed to render the overlays): ${(err as Error).message}`);
  }
  return parseAllDocuments(text).map((d) => d.toJSON() as Obj);
}

const one = (objects: Obj[], kind: string, name?: string): Obj => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
};
const podSpec = (o: Obj) => (o.spec as { template: { spec: IPodSpec } }).template.spec;
const containersOf = (spec: IPodSpec): IContainer[] => [...(spec.initContainers ?? []), ...spec.containers];
const secretsOf = (spec: IPodSpec): string[] => {
  const names = new Set<string>();
  for (const v of spec.volumes ?? []) if (v.secret?.secretName) names.add(v.secret.secretName);
  for (const c of containersOf(spec)) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
  }
  return [...names].sort();
};

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  const objects = render(overlay);
  const api = one(objects, 'Deployment', 'cims-api');
  const spec = podSpec(api);
  const apiContainer = spec.containers.find((c) => c.name === 'api')!;
  const config = one(objects, 'ConfigMap');
  const cluster = one(objects, 'Cluster');

  it('renders objects that each validate against their Kubernetes or CRD schema', () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind} (${o.metadata.name})`);
      expect(() => new Model(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(overlay === 'demo' ? 'cims-demo' : 'cims');
    }
  });

  it('the schema check can fail: a Deployment with a text for replicas is refused', () => {
    const broken = structuredClone(api);
    broken.spec = { ...broken.spec, replicas: 'three' };
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
  });

  it('probes readiness on /readyz and liveness on /healthz over HTTPS, on the port the server listens on', () => {
    expect(apiContainer.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    expect(apiContainer.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
    const port = apiContainer.ports?.find((p) => p.name === 'https')?.containerPort;
    expect(String(port)).toBe(config.data?.CIMS_API_PORT);
    expect(config.data?.CIMS_API_HOST).toBe('0.0.0.0');
  });

  it('drains on shutdown: preStop waits for the endpoints to go, the grace period outlasts the server drain', () => {
    const sleep = apiContainer.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(sleep).toBeGreaterThanOrEqual(5);
    // server.ts: in-flight requests and their batches finish (statement timeout 5 s), hard exit after 10 s.
    expect(spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(sleep + 10);
    expect((api.spec as { strategy: { rollingUpdate: { maxUnavailable: number } } }).strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('runs every container non-root, read-only, without capabilities, with requests and limits', () => {
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.automountServiceAccountToken).toBe(false);
    const job = podSpec(one(objects, 'Job'));
    for (const c of [...containersOf(spec), ...containersOf(job)]) {
      expect(c.securityContext, c.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources?.requests?.cpu, c.name).toBeDefined();
      expect(c.resources?.requests?.memory, c.name).toBeDefined();
      expect(c.resources?.limits?.memory, c.name).toBeDefined();
      // Each container runs a file the image holds (the image's entrypoint is node).
      expect(Object.values(ENTRIES), c.name).toContain(c.args?.[0]);
      expect(c.image, c.name).toBe('registry.example.com/cims/cims-api:0.1.0');
    }
  });

  it('references its secrets and stores none: the API pod gets the database credential, the audit key, TLS and the database CA, never the migrator', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(secretsOf(spec)).toEqual(['cims-api-audit-signing', 'cims-api-db', 'cims-api-tls', 'cims-db-ca']);
    expect(secretsOf(podSpec(one(objects, 'Job')))).toEqual(['cims-db-ca', 'cims-db-migrator']);
    const url = apiContainer.env?.find((e) => e.name === 'DATABASE_URL')?.value ?? '';
    expect(url).toMatch(/^postgres:\/\/cims_api:\$\(DB_PASSWORD\)@\$\(DATABASE_HOST\):5432\/\$\(DATABASE_NAME\)\?sslmode=verify-full&sslrootcert=/);
    // The names the operators create: CloudNativePG's CA secret and read-write service, cims_api's password.
    expect(`${cluster.metadata.name}-ca`).toBe('cims-db-ca');
    expect(config.data?.DATABASE_HOST).toBe(`${cluster.metadata.name}-rw`);
    const roles = (cluster.spec as { managed: { roles: { name: string; passwordSecret: { name: string }; inherit: boolean }[] } }).managed.roles;
    expect(roles).toEqual([expect.objectContaining({ name: 'cims_api', inherit: false, passwordSecret: { name: 'cims-api-db' } })]);
    expect((cluster.spec as { superuserSecret: { name: string } }).superuserSecret.name).toBe('cims-db-migrator');
    expect((one(objects, 'Certificate').spec as { secretName: string }).secretName).toBe('cims-api-tls');
    expect(config.data?.ISSUER).toMatch(/^https:\/\//);
  });

  it('lets only the ingress controller in, and the API out to PostgreSQL, the identity provider and DNS only', () => {
    const policy = one(objects, 'NetworkPolicy', 'cims-api').spec as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: Rule[];
      egress: Rule[];
    };
    const podLabels = (api.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(Object.entries(policy.podSelector.matchLabels).every(([k, v]) => podLabels[k] === v)).toBe(true);
    expect(policy.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(policy.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } }],
        ports: [{ port: 'https', protocol: 'TCP' }],
      },
    ]);
    const [db, idp, dns, ...rest] = policy.egress;
    expect(rest).toEqual([]);
    expect(db).toEqual({ to: [{ podSelector: { matchLabels: { 'cnpg.io/cluster': cluster.metadata.name } } }], ports: [{ port: 5432, protocol: 'TCP' }] });
    expect(idp!.ports).toEqual([{ port: 443, protocol: 'TCP' }]);
    expect(idp!.to).toHaveLength(1);
    const cidr = idp!.to![0]!.ipBlock!.cidr;
    expect(Number(cidr.split('/')[1])).toBeGreaterThanOrEqual(16); // a provider's range, never "anywhere"
    expect(dns!.ports?.map((p) => p.port)).toEqual([53, 53]);
    expect(dns!.to).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }]);
  });

  it('scales the API on CPU and keeps pods through voluntary disruptions', () => {
    const hpa = one(objects, 'HorizontalPodAutoscaler').spec as { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'cims-api' });
    expect(hpa.minReplicas).toBeLessThanOrEqual(hpa.maxReplicas);
    // The autoscaler owns the count: a replicas field in the Deployment would reset it at every apply.
    expect(api.spec).not.toHaveProperty('replicas');
    const pdb = one(objects, 'PodDisruptionBudget').spec as { minAvailable?: number; maxUnavailable?: number; selector: { matchLabels: Record<string, string> } };
    expect(pdb.selector.matchLabels).toEqual((api.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
    if (overlay === 'production') {
      expect(hpa.minReplicas).toBeGreaterThanOrEqual(3);
      expect(pdb.minAvailable).toBeLessThan(hpa.minReplicas);
      expect(pdb.minAvailable).toBeGreaterThanOrEqual(2);
    } else {
      expect(pdb.maxUnavailable).toBe(1);
    }
  });

  it('runs PostgreSQL through the CloudNativePG operator, TLS only', () => {
    const pg = cluster.spec as { instances: number; postgresql: { pg_hba: string[]; parameters: Record<string, string> } };
    expect(pg.postgresql.pg_hba[0]).toMatch(/^hostnossl all all 0\.0\.0\.0\/0 reject$/);
    expect(pg.postgresql.pg_hba.filter((l) => !l.startsWith('hostnossl')).every((l) => l.startsWith('hostssl '))).toBe(true);
    expect(pg.postgresql.parameters['pgaudit.log']).toBe('role, ddl');
    if (overlay === 'demo') expect(pg.instances).toBe(1);
  });
});

describe('the production overlay', () => {
  const objects = render('production');

  it('keeps a synchronous replica and backs up to object storage', () => {
    const spec = one(objects, 'Cluster').spec as {
      instances: number;
      postgresql: { synchronous: { method: string; number: number; dataDurability: string } };
      backup: { retentionPolicy: string; barmanObjectStore: { destinationPath: string; wal: { encryption: string } } };
    };
    expect(spec.instances).toBeGreaterThanOrEqual(3);
    expect(spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
    expect(spec.backup.barmanObjectStore.destinationPath).toMatch(/^s3:\/\//);
    expect(spec.backup.barmanObjectStore.wal.encryption).toBe('AES256');
    expect(spec.backup.retentionPolicy).toMatch(/^\d+[dwm]$/);
    const scheduled = one(objects, 'ScheduledBackup').spec as { cluster: { name: string }; method: string };
    expect(scheduled).toMatchObject({ cluster: { name: 'cims-db' }, method: 'barmanObjectStore' });
  });

  it('spreads the API over zones and nodes', () => {
    const spread = podSpec(one(objects, 'Deployment')).topologySpreadConstraints ?? [];
    expect(spread.map((t) => t.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  });
});
