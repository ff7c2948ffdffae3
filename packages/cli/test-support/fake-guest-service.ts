import type {
  BoundNic,
  ComputeService,
  CopyDestination,
  CopyFromNodeOptions,
  CopyResult,
  CopySource,
  CopyToNodeOptions,
  LoginCredentials,
  NodeMetadata,
  NodeScript,
  RunScriptOptions,
  ScriptResult,
  Template,
  TemplateBuilder,
  WaitForNodeOptions,
} from '@vmkit/core';
import { DEFAULT_HARDWARE_PROFILES } from '@vmkit/core';

/**
 * NIC `slot` of a fake node: NAT, MAC `52:54:00:00:00:0<slot+1>`, with a TCP forward from
 * `hostIp:hostPort` to each `guestPort` of `forwards`; `over` replaces any field.
 */
export function fakeNic(
  slot: number,
  forwards: ReadonlyArray<{ guestPort: number; hostPort: number; hostIp?: string }> = [],
  over: Partial<BoundNic> = {},
): BoundNic {
  return {
    slot,
    attachment: 'nat',
    mac: `52:54:00:00:00:0${slot + 1}`,
    portForwards: forwards.map((f) => ({
      name: `tcp-${f.guestPort}`,
      protocol: 'tcp',
      hostIp: f.hostIp ?? '127.0.0.1',
      hostPort: f.hostPort,
      guestPort: f.guestPort,
    })),
    ...over,
  };
}

/** A node as the fake service lists it; `over` replaces any field. */
export function fakeNode(name: string, over: Partial<NodeMetadata> = {}): NodeMetadata {
  return {
    id: `id-${name}`,
    name,
    group: name.split('-')[0] ?? name,
    imageId: 'tiny',
    status: 'running',
    hardware: DEFAULT_HARDWARE_PROFILES[0] as NodeMetadata['hardware'],
    network: { nics: [fakeNic(0)] },
    hostPorts: {},
    publicAddresses: [],
    privateAddresses: [],
    tags: [],
    userMetadata: {},
    linkedClone: true,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** What a fake service does for the guest methods; unset ones fail as the base branch does. */
export interface FakeGuestBehaviour {
  nodes: NodeMetadata[];
  run?: (id: string, script: NodeScript, options: RunScriptOptions) => Promise<ScriptResult>;
  copyTo?: (
    id: string,
    source: CopySource,
    guestPath: string,
    options: CopyToNodeOptions,
  ) => Promise<CopyResult>;
  copyFrom?: (
    id: string,
    guestPath: string,
    destination: CopyDestination,
    options: CopyFromNodeOptions,
  ) => Promise<CopyResult>;
  credentials?: (id: string) => Promise<LoginCredentials | undefined>;
  wait?: (id: string, options: WaitForNodeOptions) => Promise<NodeMetadata>;
  /** Calls made, by method name. */
  calls: Array<{ method: string; args: unknown[] }>;
}

/** A compute service with only what `exec`, `cp`, `ssh`, `ls` and `up` use, driven by `behaviour`. */
export function fakeGuestService(behaviour: FakeGuestBehaviour): ComputeService {
  const record = (method: string, args: unknown[]) => behaviour.calls.push({ method, args });
  const missing = (method: string) => () => Promise.reject(new Error(`fake service: ${method} not faked`));
  const service: Partial<ComputeService> = {
    listNodes: async () => behaviour.nodes,
    runScriptOnNode: (id, script, options = {}) => {
      record('runScriptOnNode', [id, script, options]);
      return (behaviour.run ?? missing('runScriptOnNode'))(id, script, options);
    },
    copyToNode: (id, source, guestPath, options = {}) => {
      record('copyToNode', [id, source, guestPath, options]);
      return (behaviour.copyTo ?? missing('copyToNode'))(id, source, guestPath, options);
    },
    copyFromNode: (id, guestPath, destination, options = {}) => {
      record('copyFromNode', [id, guestPath, destination, options]);
      return (behaviour.copyFrom ?? missing('copyFromNode'))(id, guestPath, destination, options);
    },
    getNodeCredentials: (id) => (behaviour.credentials ?? (async () => undefined))(id),
    waitForNode: (id, options) => {
      record('waitForNode', [id, options]);
      return (behaviour.wait ?? missing('waitForNode'))(id, options);
    },
    // `vmkit up`: any template; the nodes made are the first `count` listed.
    templateBuilder: () => {
      const builder = {
        options: (options: unknown) => {
          record('templateOptions', [options]);
          return builder;
        },
        imageId: () => builder,
        build: async () => ({ image: { id: 'tiny' } }) as Template,
      };
      return builder as unknown as TemplateBuilder;
    },
    createNodesInGroup: async (group, count, _template, options = {}) => {
      record('createNodesInGroup', [group, count, { warm: options.warm }]);
      return behaviour.nodes.slice(0, count);
    },
    close: async () => {},
  };
  return service as ComputeService;
}

let current: FakeGuestBehaviour | undefined;

/** A fresh behaviour with these nodes, made the one the mocked `open-service.js` serves. */
export function useFakeService(
  nodes: NodeMetadata[],
  over: Partial<FakeGuestBehaviour> = {},
): FakeGuestBehaviour {
  current = { nodes, calls: [], ...over };
  return current;
}

/**
 * A stand-in for `src/runtime/open-service.js` (`vi.mock(path, () => fakeOpenServiceModule())`):
 * commands open the fake service of {@link useFakeService} instead of a hypervisor.
 */
export function fakeOpenServiceModule() {
  const open = async () => {
    if (current === undefined) throw new Error('useFakeService was not called');
    return { service: fakeGuestService(current), provider: {} };
  };
  return {
    openServiceAndProvider: open,
    openService: async () => (await open()).service,
    checkImageSpecs: async () => {},
  };
}
