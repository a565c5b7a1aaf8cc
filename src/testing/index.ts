/**
 * `yjs-cluster-server/testing`: helpers for test suites that drive a deployment with
 * simulated editors (issue 15). Framework-agnostic: no test-runner import.
 */
export {}
