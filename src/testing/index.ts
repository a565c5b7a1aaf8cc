/**
 * `yjs-cluster-server/testing`: helpers for test suites that drive a deployment with
 * simulated editors (issue 15), and the contract suites every storage backend (DocStore) and
 * every relay (Relay) runs (issue 12). Framework-agnostic: no test-runner import.
 */
export {
  type ContractAssertion,
  type ContractRunner,
  type ContractStoreOptions,
  type DocStoreFactory,
  type DocStorePlace,
  docStoreContract,
} from './doc-store-contract.js'

export { formatVerdict } from './format-verdict.js'
export { type LossyProxy, type LossyProxyOptions, startLossyProxy } from './lossy-proxy.js'
export {
  type RelayContractRunner,
  type RelayFactory,
  type RelayPlace,
  relayContract,
} from './relay-contract.js'
export type { LatencySummary } from './sim-latency.js'
export {
  type ChaosOptions,
  type SimulateOptions,
  SimulationOptionsError,
  type SimulationProgress,
} from './sim-options.js'
export type { EditCounts, EditKind } from './sim-typing.js'
export type { DocVerdict, LostEdit } from './sim-verdict.js'
export { SimulationConnectError, type SimulationVerdict, simulateEditors } from './simulate.js'
