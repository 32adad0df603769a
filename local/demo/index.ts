export { type AgentJob, runAgentJob } from './agent-job.js';
export {
  DEMO_BASE_VERSION,
  DEMO_FAULT_HOST,
  DEMO_HOSTS,
  DEMO_LEGACY_HOST,
  DEMO_NEXT_VERSION,
  DEMO_ORIGIN_HOST,
  type DemoFleet,
  type DemoFleetOptions,
  type DemoHost,
  startDemoFleet,
} from './fleet.js';
export { type ActionWorkflow, type InstallReport, type PackageRef, runWorkflowAction } from './install.js';
export { type StaticOrigin, startStaticOrigin } from './origin.js';
